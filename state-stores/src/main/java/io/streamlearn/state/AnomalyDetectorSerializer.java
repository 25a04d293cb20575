package io.streamlearn.state;

import io.streamlearn.models.AnomalyDetector;
import java.io.IOException;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Flink serializer for a series' {@link AnomalyDetector} in keyed state: a length-prefixed {@link
 * AnomalyDetector#encode()} blob of fixed size per series (a few hundred bytes). The blob carries
 * its own format version byte, so this serializer never changes layout; format migrations live in
 * the detector's codec.
 */
public final class AnomalyDetectorSerializer extends TypeSerializerSingleton<AnomalyDetector> {
    private static final long serialVersionUID = 1L;

    public static final AnomalyDetectorSerializer INSTANCE = new AnomalyDetectorSerializer();

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public AnomalyDetector createInstance() {
        return null;
    }

    @Override
    public AnomalyDetector copy(AnomalyDetector from) {
        return from == null ? null : AnomalyDetector.decode(from.encode());
    }

    @Override
    public AnomalyDetector copy(AnomalyDetector from, AnomalyDetector reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(AnomalyDetector record, DataOutputView target) throws IOException {
        byte[] bytes = record.encode();
        target.writeInt(bytes.length);
        target.write(bytes);
    }

    @Override
    public AnomalyDetector deserialize(DataInputView source) throws IOException {
        byte[] bytes = new byte[source.readInt()];
        source.readFully(bytes);
        return AnomalyDetector.decode(bytes);
    }

    @Override
    public AnomalyDetector deserialize(AnomalyDetector reuse, DataInputView source)
            throws IOException {
        return deserialize(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        int length = source.readInt();
        target.writeInt(length);
        target.write(source, length);
    }

    @Override
    public TypeSerializerSnapshot<AnomalyDetector> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Serializer snapshot; version 1. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<AnomalyDetector> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
