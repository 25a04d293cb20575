package io.streamlearn.jobs;

import io.streamlearn.jobs.input.EventDecoder;
import io.streamlearn.schemas.DeadLetter;
import io.streamlearn.schemas.InvalidRecordException;
import io.streamlearn.schemas.MetricEvent;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Decodes Kafka records into {@link MetricEvent}s and checks them. A record that cannot be decoded
 * or fails a check never stops the job: it leaves on the {@link #DEAD_LETTERS} side output with the
 * reason and its original bytes, and is counted in the {@code deadLetters} metric.
 */
public class DecodeAndValidate extends ProcessFunction<RawRecord, MetricEvent> {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<DeadLetter> DEAD_LETTERS = new OutputTag<>("dead-letters") {};

    private final int features;
    private final EventDecoder decoder;
    private transient Counter deadLetters;

    /** Reads the built-in {@link MetricEvent}. */
    public DecodeAndValidate(int features) {
        this(features, EventDecoder.builtIn());
    }

    /** Reads events with the given decoder (the built-in schema or a user's own). */
    public DecodeAndValidate(int features, EventDecoder decoder) {
        this.features = features;
        this.decoder = decoder;
    }

    @Override
    public void open(OpenContext openContext) {
        deadLetters = getRuntimeContext().getMetricGroup().counter("deadLetters");
    }

    @Override
    public void processElement(RawRecord raw, Context ctx, Collector<MetricEvent> out) {
        String reason;
        try {
            MetricEvent event = decoder.decode(raw.value);
            reason = problemWith(event);
            if (reason == null) {
                out.collect(event);
                return;
            }
        } catch (InvalidRecordException e) {
            reason = e.getMessage();
        }
        deadLetters.inc();
        ctx.output(DEAD_LETTERS, deadLetter(raw, reason));
    }

    /** Returns why the event cannot be used, naming the field, or null when it is fine. */
    String problemWith(MetricEvent event) {
        if (event.getSeriesId() == null || event.getSeriesId().isBlank()) {
            return "field seriesId is missing or empty";
        }
        List<Double> values = event.getValues();
        if (values.size() != features) {
            return "field values has "
                    + values.size()
                    + " values; this job expects "
                    + features
                    + " (streamlearn.model.features)";
        }
        for (int i = 0; i < values.size(); i++) {
            double v = values.get(i);
            if (!Double.isFinite(v) || Math.abs(v) > Float.MAX_VALUE) {
                return "field values[" + i + "] is " + v + "; values must be finite";
            }
        }
        return null;
    }

    static DeadLetter deadLetter(RawRecord raw, String reason) {
        return DeadLetter.newBuilder()
                .setSourceTopic(raw.topic)
                .setPartition(raw.partition)
                .setOffset(raw.offset)
                .setReason(reason)
                .setKey(raw.key == null ? null : ByteBuffer.wrap(raw.key))
                .setPayload(raw.value == null ? null : ByteBuffer.wrap(raw.value))
                .setReceivedAt(Instant.ofEpochMilli(raw.timestamp))
                .build();
    }
}
