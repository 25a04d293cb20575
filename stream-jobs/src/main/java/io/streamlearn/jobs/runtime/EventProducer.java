package io.streamlearn.jobs.runtime;

import io.streamlearn.jobs.KafkaClientProperties;
import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.InteractionEvent;
import io.streamlearn.schemas.MetricEvent;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Writes generated events to a Kafka topic at a steady rate, in Avro single-object encoding: the
 * demo's input, and {@code streamlearn generate}'s against a real Kafka. {@link #metrics} keys
 * {@link MetricGenerator} events by series, {@link #interactions} keys {@link ClickstreamGenerator}
 * events by user, so each entity's events stay in order in one partition.
 */
public final class EventProducer {
    private EventProducer() {}

    /** One record to send. */
    public record Message(String key, byte[] value) {}

    /** Metric series from a {@link MetricGenerator} of {@code series} series and this seed. */
    public static Supplier<Message> metrics(int series, long seed) {
        return metrics(new MetricGenerator(series, seed), event -> {});
    }

    /**
     * The generator's events, each handed to {@code sending} just before it is encoded and sent (a
     * benchmark notes the time).
     */
    public static Supplier<Message> metrics(
            MetricGenerator generator, Consumer<MetricEvent> sending) {
        AvroSerde<MetricEvent> serde = AvroSerde.of(MetricEvent.class);
        return () -> {
            MetricEvent event = generator.next();
            sending.accept(event);
            return new Message(event.getSeriesId(), serde.encode(event));
        };
    }

    /** The clickstream of a {@link ClickstreamGenerator}, keyed by user. */
    public static Supplier<Message> interactions(ClickstreamGenerator generator) {
        return interactions(generator, event -> {});
    }

    /** The same, each event handed to {@code sending} just before it is encoded and sent. */
    public static Supplier<Message> interactions(
            ClickstreamGenerator generator, Consumer<InteractionEvent> sending) {
        AvroSerde<InteractionEvent> serde = AvroSerde.of(InteractionEvent.class);
        return () -> {
            InteractionEvent event = generator.next();
            sending.accept(event);
            return new Message(event.getUserId(), serde.encode(event));
        };
    }

    /**
     * Produces {@code count} records, or until {@code stop} turns true.
     *
     * @param kafka the brokers and client settings
     * @param events the records to send, one per call
     * @param malformedEvery every this many records one is not an event at all (to show the
     *     dead-letter path); 0 for none
     * @param produced updated with the number of records sent so far
     * @throws IllegalStateException when Kafka refuses a record (no such topic, say); sending stops
     *     at the first refusal
     */
    public static void run(
            KafkaClientProperties kafka,
            String topic,
            Supplier<Message> events,
            int eventsPerSecond,
            int malformedEvery,
            long count,
            AtomicLong produced,
            AtomicBoolean stop)
            throws InterruptedException {
        Map<String, Object> config =
                kafka.with(
                        Map.of(
                                ProducerConfig.LINGER_MS_CONFIG,
                                5,
                                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                                true));
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer())) {
            AtomicReference<Exception> failure = new AtomicReference<>();
            long startNanos = System.nanoTime();
            long n = 0;
            while (n < count && !stop.get() && failure.get() == null) {
                Message message =
                        malformedEvery > 0 && n % malformedEvery == malformedEvery - 1
                                ? new Message(
                                        "garbage",
                                        ("not an event #" + n).getBytes(StandardCharsets.UTF_8))
                                : events.get();
                producer.send(
                        new ProducerRecord<>(
                                topic,
                                message.key().getBytes(StandardCharsets.UTF_8),
                                message.value()),
                        (metadata, e) -> {
                            if (e != null) {
                                failure.compareAndSet(null, e);
                            }
                        });
                n++;
                produced.set(n);
                long due = startNanos + n * 1_000_000_000L / eventsPerSecond;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
            }
            producer.flush();
            if (failure.get() != null) {
                throw new IllegalStateException(
                        "Kafka refused a record for topic "
                                + topic
                                + ": "
                                + failure.get().getMessage(),
                        failure.get());
            }
        }
    }
}
