package io.streamlearn.state;

import io.streamlearn.models.ModelState;
import java.io.IOException;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Flink serializer for the trainer's {@link ModelState}: a length-prefixed {@link
 * ModelState#encode()} blob. The blob carries its own format version byte, so this serializer never
 * changes layout; format migrations live in the one codec shared by Flink state and the model
 * store.
 */
public final class ModelStateSerializer extends TypeSerializerSingleton<ModelState> {
    private static final long serialVersionUID = 1L;

    public static final ModelStateSerializer INSTANCE = new ModelStateSerializer();

    @Override
    public boolean isImmutableType() {
        return true;
    }

    @Override
    public ModelState createInstance() {
        return null;
    }

    @Override
    public ModelState copy(ModelState from) {
        return from;
    }

    @Override
    public ModelState copy(ModelState from, ModelState reuse) {
        return from;
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(ModelState record, DataOutputView target) throws IOException {
        byte[] bytes = record.encode();
        target.writeInt(bytes.length);
        target.write(bytes);
    }

    @Override
    public ModelState deserialize(DataInputView source) throws IOException {
        byte[] bytes = new byte[source.readInt()];
        source.readFully(bytes);
        return ModelState.decode(bytes);
    }

    @Override
    public ModelState deserialize(ModelState reuse, DataInputView source) throws IOException {
        return deserialize(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        int length = source.readInt();
        target.writeInt(length);
        target.write(source, length);
    }

    @Override
    public TypeSerializerSnapshot<ModelState> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Serializer snapshot; version 1. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<ModelState> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
