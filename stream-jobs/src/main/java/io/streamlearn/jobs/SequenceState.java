package io.streamlearn.jobs;

import io.streamlearn.models.SeriesNormalizer;
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
 * Keeps, per series, its online statistics ({@link SeriesNormalizer}) and its last {@code window}
 * observations in normalised units. For every event it normalises the values with the statistics
 * before them (then updates the statistics), emits the series' current {@link Window} (the query
 * the predictor answers) and, once the previous window was full and the statistics had warmed up
 * before that window began, one training {@link Example} (previous window, this event) on the
 * {@link #EXAMPLES} side output. (A reconstruction model learns from the window alone.)
 *
 * <p>Each value is normalised once, when it arrives, and kept so: the encoding of past steps never
 * changes, which is what lets recurrent models carry a hidden state from event to event. Events are
 * taken in arrival order. One that is behind the watermark is still used (the series moved on, but
 * its value is real) and counted in {@code lateEvents}.
 */
public class SequenceState extends KeyedProcessFunction<String, MetricEvent, Window> {
    private static final long serialVersionUID = 2L;

    public static final OutputTag<Example> EXAMPLES = new OutputTag<>("examples") {};

    private final int window;
    private final int features;
    private final int horizon;
    private final int warmUp;
    private final Duration ttl;
    private transient ValueState<float[]> history;
    private transient ValueState<byte[]> statistics;
    private transient Counter lateEvents;

    /**
     * @param window observations per window
     * @param features values per observation
     * @param horizon memory of the statistics, in events
     * @param warmUp events a series must have had before its first window starts to count for
     *     training
     * @param ttl how long the history and statistics of a series that has gone quiet are kept; zero
     *     keeps them forever. A series that comes back after it starts again from scratch.
     */
    public SequenceState(int window, int features, int horizon, int warmUp, Duration ttl) {
        this.window = window;
        this.features = features;
        this.horizon = horizon;
        this.warmUp = warmUp;
        this.ttl = ttl;
    }

    @Override
    public void open(OpenContext openContext) {
        // Flink's own array serializers, no Kryo; the statistics carry their own format byte.
        ValueStateDescriptor<float[]> historyDescriptor =
                new ValueStateDescriptor<>(
                        "normalised-history",
                        PrimitiveArrayTypeInfo.FLOAT_PRIMITIVE_ARRAY_TYPE_INFO);
        ValueStateDescriptor<byte[]> statisticsDescriptor =
                new ValueStateDescriptor<>(
                        "series-statistics", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
        DurableState.ttl(ttl)
                .ifPresent(
                        config -> {
                            historyDescriptor.enableTimeToLive(config);
                            statisticsDescriptor.enableTimeToLive(config);
                        });
        history = getRuntimeContext().getState(historyDescriptor);
        statistics = getRuntimeContext().getState(statisticsDescriptor);
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
        byte[] stored = statistics.value();
        SeriesNormalizer normalizer =
                stored == null ? new SeriesNormalizer(features) : SeriesNormalizer.decode(stored);
        // The statistics had warmed up before the previous window's first observation.
        boolean warm = normalizer.count() >= warmUp + window;
        float[] z = normalizer.observe(observed, horizon);
        statistics.update(normalizer.encode());

        float[] previous = history.value();
        if (warm && previous != null && previous.length == window * features) {
            ctx.output(
                    EXAMPLES,
                    Example.values(event.getSeriesId(), time, previous, z)
                            .madeAt(ctx.timerService().currentProcessingTime()));
        }
        float[] current = append(previous, z);
        history.update(current);
        float[] mean = new float[features];
        float[] scale = new float[features];
        for (int f = 0; f < features; f++) {
            mean[f] = (float) normalizer.mean(f);
            scale[f] = (float) normalizer.scale(f);
        }
        out.collect(
                new Window(
                        event.getSeriesId(),
                        time,
                        padded(current),
                        current.length / features,
                        observed,
                        mean,
                        scale));
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
