package io.streamlearn.jobs;

import io.streamlearn.jobs.input.EventDecoder;
import io.streamlearn.jobs.input.EventTimes;
import io.streamlearn.jobs.input.InteractionDecoder;
import io.streamlearn.schemas.DeadLetter;
import io.streamlearn.schemas.InteractionEvent;
import io.streamlearn.schemas.InvalidRecordException;
import io.streamlearn.schemas.MetricEvent;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Decodes Kafka records into events ({@link MetricEvent}s or {@link InteractionEvent}s) and checks
 * them. A record that cannot be decoded or fails a check never stops the job: it leaves on the
 * {@link #DEAD_LETTERS} side output with the reason and its original bytes, and is counted in the
 * {@code deadLetters} metric. Event times must lie in years 0001 to 9999 ({@link EventTimes}).
 */
public class DecodeAndValidate<T> extends ProcessFunction<RawRecord, T> {
    private static final long serialVersionUID = 2L;

    public static final OutputTag<DeadLetter> DEAD_LETTERS = new OutputTag<>("dead-letters") {};

    /** How the reason of a record that failed the decoder unexpectedly (a bug) starts. */
    public static final String UNEXPECTED = "decoder failed unexpectedly: ";

    /**
     * The longest reason a dead letter carries: a reason quotes the record at most in part, so that
     * the dead letter (reason and original bytes) fits where the record came from.
     */
    public static final int MAX_REASON = 1_000;

    /** Decodes and checks one record. */
    public interface Reader<T> extends Serializable {
        /** The event; the message of the exception is the dead-letter reason. */
        T read(byte[] bytes) throws InvalidRecordException;
    }

    private final Reader<T> reader;
    private transient Counter deadLetters;

    public DecodeAndValidate(Reader<T> reader) {
        this.reader = reader;
    }

    /** Metric events with {@code features} finite values and a series id. */
    public static DecodeAndValidate<MetricEvent> metrics(int features, EventDecoder decoder) {
        return new DecodeAndValidate<>(new Metrics(features, decoder));
    }

    /** Interactions with a user and an item. */
    public static DecodeAndValidate<InteractionEvent> interactions(InteractionDecoder decoder) {
        return new DecodeAndValidate<>(new Interactions(decoder));
    }

    @Override
    public void open(OpenContext openContext) {
        deadLetters = getRuntimeContext().getMetricGroup().counter("deadLetters");
    }

    @Override
    public void processElement(RawRecord raw, Context ctx, Collector<T> out) {
        T event;
        try {
            event = reader.read(raw.value);
        } catch (InvalidRecordException e) {
            deadLetters.inc();
            ctx.output(DEAD_LETTERS, deadLetter(raw, e.getMessage()));
            return;
        } catch (RuntimeException e) {
            // A decoder bug must not stop the job on one record either; the reason names it as
            // such, so it is found (the decoder fuzz tests fail on it) rather than read as input.
            deadLetters.inc();
            ctx.output(DEAD_LETTERS, deadLetter(raw, UNEXPECTED + e));
            return;
        }
        out.collect(event);
    }

    /** Returns why a metric event cannot be used, naming the field, or null when it is fine. */
    static String problemWith(MetricEvent event, int features) {
        if (event.getSeriesId() == null || event.getSeriesId().isBlank()) {
            return "field seriesId is missing or empty";
        }
        String time = EventTimes.problem("eventTime", event.getEventTime());
        if (time != null) {
            return time;
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

    /** Returns why an interaction cannot be used, naming the field, or null when it is fine. */
    static String problemWith(InteractionEvent event) {
        if (event.getUserId() == null || event.getUserId().isBlank()) {
            return "field userId is missing or empty";
        }
        if (event.getItemId() == null || event.getItemId().isBlank()) {
            return "field itemId is missing or empty";
        }
        String time = EventTimes.problem("eventTime", event.getEventTime());
        if (time != null) {
            return time;
        }
        return null;
    }

    static DeadLetter deadLetter(RawRecord raw, String reason) {
        return DeadLetter.newBuilder()
                .setSourceTopic(raw.topic)
                .setPartition(raw.partition)
                .setOffset(raw.offset)
                .setReason(
                        reason == null
                                ? "no reason given"
                                : reason.length() <= MAX_REASON
                                        ? reason
                                        : reason.substring(0, MAX_REASON - 20) + "... (cut)")
                .setKey(raw.key == null ? null : ByteBuffer.wrap(raw.key))
                .setPayload(raw.value == null ? null : ByteBuffer.wrap(raw.value))
                .setReceivedAt(Instant.ofEpochMilli(raw.timestamp))
                .build();
    }

    private static final class Metrics implements Reader<MetricEvent> {
        private static final long serialVersionUID = 1L;
        private final int features;
        private final EventDecoder decoder;

        Metrics(int features, EventDecoder decoder) {
            this.features = features;
            this.decoder = decoder;
        }

        @Override
        public MetricEvent read(byte[] bytes) {
            MetricEvent event = decoder.decode(bytes);
            String problem = problemWith(event, features);
            if (problem != null) {
                throw new InvalidRecordException(problem);
            }
            return event;
        }
    }

    private static final class Interactions implements Reader<InteractionEvent> {
        private static final long serialVersionUID = 1L;
        private final InteractionDecoder decoder;

        Interactions(InteractionDecoder decoder) {
            this.decoder = decoder;
        }

        @Override
        public InteractionEvent read(byte[] bytes) {
            InteractionEvent event = decoder.decode(bytes);
            String problem = problemWith(event);
            if (problem != null) {
                throw new InvalidRecordException(problem);
            }
            return event;
        }
    }
}
