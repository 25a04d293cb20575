package io.streamlearn.jobs;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads a topic from the beginning as a {@code read_committed} consumer (or, {@link #uncommitted},
 * a {@code read_uncommitted} one), keeping every record, so that tests wait on what a real consumer
 * sees instead of sleeping.
 */
public final class TopicReader implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();

    public TopicReader(String bootstrapServers, String topic) {
        this(KafkaClientProperties.of(bootstrapServers), topic);
    }

    /** A reader with the given client settings (a secured listener's). */
    public TopicReader(KafkaClientProperties kafka, String topic) {
        this(kafka, topic, "read_committed");
    }

    /**
     * A reader that also sees records of open (and aborted) transactions: what is written, whether
     * or not it is committed.
     */
    public static TopicReader uncommitted(String bootstrapServers, String topic) {
        return new TopicReader(
                KafkaClientProperties.of(bootstrapServers), topic, "read_uncommitted");
    }

    private TopicReader(KafkaClientProperties kafka, String topic, String isolationLevel) {
        consumer =
                new KafkaConsumer<>(
                        kafka.with(
                                Map.of(
                                        ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                                        isolationLevel,
                                        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                                        "false")),
                        new ByteArrayDeserializer(),
                        new ByteArrayDeserializer());
        List<TopicPartition> partitions =
                consumer.partitionsFor(topic).stream()
                        .map(p -> new TopicPartition(topic, p.partition()))
                        .collect(Collectors.toList());
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
    }

    /** Polls until {@code done} holds for the records read so far; fails after {@code timeout}. */
    public List<ConsumerRecord<byte[], byte[]>> awaitUntil(
            Predicate<List<ConsumerRecord<byte[], byte[]>>> done, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.test(records)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(
                        "timed out after "
                                + timeout
                                + " waiting for "
                                + what
                                + "; have "
                                + records.size()
                                + " records");
            }
            consumer.poll(Duration.ofMillis(200)).forEach(records::add);
        }
        return records;
    }

    /** Reads everything committed so far: up to the last stable offset of every partition. */
    public List<ConsumerRecord<byte[], byte[]>> readToEnd(Duration timeout) {
        Map<TopicPartition, Long> end = consumer.endOffsets(consumer.assignment());
        return awaitUntil(
                r ->
                        end.entrySet().stream()
                                .allMatch(e -> consumer.position(e.getKey()) >= e.getValue()),
                timeout,
                "the end of " + end);
    }

    @Override
    public void close() {
        consumer.close();
    }
}
