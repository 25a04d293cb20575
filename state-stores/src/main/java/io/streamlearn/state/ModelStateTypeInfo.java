package io.streamlearn.state;

import io.streamlearn.models.ModelState;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/** Type information so model updates travel between operators with {@link ModelStateSerializer}. */
public final class ModelStateTypeInfo extends TypeInformation<ModelState> {
    private static final long serialVersionUID = 1L;

    public static final ModelStateTypeInfo INSTANCE = new ModelStateTypeInfo();

    @Override
    public boolean isBasicType() {
        return false;
    }

    @Override
    public boolean isTupleType() {
        return false;
    }

    @Override
    public int getArity() {
        return 1;
    }

    @Override
    public int getTotalFields() {
        return 1;
    }

    @Override
    public Class<ModelState> getTypeClass() {
        return ModelState.class;
    }

    @Override
    public boolean isKeyType() {
        return false;
    }

    @Override
    public TypeSerializer<ModelState> createSerializer(SerializerConfig config) {
        return ModelStateSerializer.INSTANCE;
    }

    @Override
    public String toString() {
        return "ModelState";
    }

    @Override
    public boolean equals(Object obj) {
        return obj instanceof ModelStateTypeInfo;
    }

    @Override
    public int hashCode() {
        return ModelStateTypeInfo.class.hashCode();
    }

    @Override
    public boolean canEqual(Object obj) {
        return obj instanceof ModelStateTypeInfo;
    }
}
