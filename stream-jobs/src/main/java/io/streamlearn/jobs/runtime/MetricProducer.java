package io.streamlearn.jobs.runtime;

import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.MetricEvent;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Writes {@link MetricGenerator} events to a Kafka topic at a steady rate, keyed by series, in Avro
 * single-object encoding: the demo's input, and {@code streamlearn generate}'s against a real
 * Kafka.
 */
public final class MetricProducer {
    private MetricProducer() {}

    /**
     * Produces {@code count} records, or until {@code stop} turns true.
     *
     * @param malformedEvery every this many records one is not an event at all (to show the
     *     dead-letter path); 0 for none
     * @param produced updated with the number of records sent so far
     * @throws IllegalStateException when Kafka refuses a record (no such topic, say); sending stops
     *     at the first refusal
     */
    public static void run(
            String bootstrapServers,
            String topic,
            int series,
            int eventsPerSecond,
            int malformedEvery,
            long count,
            AtomicLong produced,
            AtomicBoolean stop)
            throws InterruptedException {
        MetricGenerator generator = new MetricGenerator(series, 7L);
        AvroSerde<MetricEvent> serde = AvroSerde.of(MetricEvent.class);
        Map<String, Object> config =
                Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        bootstrapServers,
                        ProducerConfig.LINGER_MS_CONFIG,
                        5,
                        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                        true);
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer())) {
            AtomicReference<Exception> failure = new AtomicReference<>();
            long startNanos = System.nanoTime();
            long n = 0;
            while (n < count && !stop.get() && failure.get() == null) {
                byte[] value;
                String key;
                if (malformedEvery > 0 && n % malformedEvery == malformedEvery - 1) {
                    key = "garbage";
                    value = ("not an event #" + n).getBytes(StandardCharsets.UTF_8);
                } else {
                    MetricEvent event = generator.next();
                    key = event.getSeriesId();
                    value = serde.encode(event);
                }
                producer.send(
                        new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value),
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
