package io.streamlearn.jobs;

import io.streamlearn.schemas.MetricEvent;
import io.streamlearn.state.DurableState;
import java.time.Duration;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Keeps the last {@code window} observations of each series in keyed state. For every event it
 * emits the series' current {@link Window} (the query the predictor answers) and, once the previous
 * window was full, one training {@link Example} (previous window, this event) on the {@link
 * #EXAMPLES} side output.
 *
 * <p>Events are taken in arrival order. One that is behind the watermark is still used (the series
 * moved on, but its value is real) and counted in {@code lateEvents}.
 */
public class SequenceState extends KeyedProcessFunction<String, MetricEvent, Window> {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<Example> EXAMPLES = new OutputTag<>("examples") {};

    private final int window;
    private final int features;
    private final Duration ttl;
    private transient ValueState<float[]> history;
    private transient Counter lateEvents;

    /**
     * @param ttl how long the history of a series that has gone quiet is kept; zero keeps it
     *     forever. A series that comes back after it starts again from an empty window.
     */
    public SequenceState(int window, int features, Duration ttl) {
        this.window = window;
        this.features = features;
        this.ttl = ttl;
    }

    @Override
    public void open(OpenContext openContext) {
        // Flink's own float[] serializer: versioned, no Kryo. Only real observations are stored.
        ValueStateDescriptor<float[]> descriptor =
                new ValueStateDescriptor<>(
                        "history", PrimitiveArrayTypeInfo.FLOAT_PRIMITIVE_ARRAY_TYPE_INFO);
        DurableState.ttl(ttl).ifPresent(descriptor::enableTimeToLive);
        history = getRuntimeContext().getState(descriptor);
        lateEvents = getRuntimeContext().getMetricGroup().counter("lateEvents");
    }

    @Override
    public void processElement(MetricEvent event, Context ctx, Collector<Window> out)
            throws Exception {
        long time = event.getEventTime().toEpochMilli();
        if (time < ctx.timerService().currentWatermark()) {
            lateEvents.inc();
        }
        float[] observed = toFloats(event.getValues());
        float[] previous = history.value();
        if (previous != null && previous.length == window * features) {
            ctx.output(EXAMPLES, new Example(previous, observed));
        }
        float[] current = append(previous, observed);
        history.update(current);
        out.collect(
                new Window(event.getSeriesId(), time, padded(current), current.length / features));
    }

    private float[] append(float[] previous, float[] observed) {
        if (previous == null) {
            return observed;
        }
        int keep = Math.min(previous.length, (window - 1) * features);
        float[] next = new float[keep + features];
        System.arraycopy(previous, previous.length - keep, next, 0, keep);
        System.arraycopy(observed, 0, next, keep, features);
        return next;
    }

    private float[] padded(float[] real) {
        if (real.length == window * features) {
            return real;
        }
        float[] full = new float[window * features];
        int missing = window - real.length / features;
        for (int i = 0; i < missing; i++) {
            System.arraycopy(real, 0, full, i * features, features);
        }
        System.arraycopy(real, 0, full, missing * features, real.length);
        return full;
    }

    private static float[] toFloats(List<Double> values) {
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i).floatValue();
        }
        return out;
    }
}
