package io.streamlearn.jobs;

import io.streamlearn.models.ModelState;
import io.streamlearn.state.ModelStateTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.typeutils.TupleTypeInfo;

/**
 * A model version the trainer promoted, on its way to the predictors as a serving copy (weights
 * without the optimizer's arrays, {@link ModelState#forServing()}: a third of Adam's state, in the
 * broadcast and in every predictor's checkpoint), with the event time of the newest example it has
 * learned from. In event-time alignment a predictor answers an event at time t with the newest
 * version whose {@link #trainedUntil()} is before t, so that no answer comes from a model that has
 * seen the event or anything after it.
 *
 * <p>A tuple, so that Flink serializes it with its own tuple serializer around {@link
 * io.streamlearn.state.ModelStateSerializer}: no Kryo.
 */
public final class ModelUpdate extends Tuple2<ModelState, Long> {
    private static final long serialVersionUID = 1L;

    /** Before any example: the time of a version that has learned nothing yet. */
    public static final long NOTHING_LEARNED = Long.MIN_VALUE;

    public static final TypeInformation<ModelUpdate> TYPE =
            new TupleTypeInfo<>(ModelUpdate.class, ModelStateTypeInfo.INSTANCE, Types.LONG);

    public ModelUpdate() {}

    public ModelUpdate(ModelState model, long trainedUntil) {
        super(model, trainedUntil);
    }

    public ModelState model() {
        return f0;
    }

    /** Event time of the newest example the model has learned from. */
    public long trainedUntil() {
        return f1;
    }
}
