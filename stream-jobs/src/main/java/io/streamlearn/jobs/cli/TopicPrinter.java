package io.streamlearn.jobs.cli;

import io.streamlearn.jobs.KafkaClientProperties;
import io.streamlearn.schemas.AnomalyAlert;
import io.streamlearn.schemas.AnomalyScore;
import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.DeadLetter;
import io.streamlearn.schemas.InteractionEvent;
import io.streamlearn.schemas.InvalidRecordException;
import io.streamlearn.schemas.MetricEvent;
import io.streamlearn.schemas.ModelSnapshot;
import io.streamlearn.schemas.Prediction;
import io.streamlearn.schemas.Recommendation;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Prints the records of a streamlearn topic as JSON lines, reading as a {@code read_committed}
 * consumer from the beginning: what {@code streamlearn read} does.
 */
final class TopicPrinter {
    private static final Map<String, AvroSerde<? extends SpecificRecord>> TYPES =
            Map.of(
                    "prediction", AvroSerde.of(Prediction.class),
                    "dead-letter", AvroSerde.of(DeadLetter.class),
                    "metric", AvroSerde.of(MetricEvent.class),
                    "model", AvroSerde.of(ModelSnapshot.class),
                    "interaction", AvroSerde.of(InteractionEvent.class),
                    "recommendation", AvroSerde.of(Recommendation.class),
                    "anomaly-score", AvroSerde.of(AnomalyScore.class),
                    "alert", AvroSerde.of(AnomalyAlert.class));

    private TopicPrinter() {}

    static String types() {
        return String.join("|", TYPES.keySet().stream().sorted().toList());
    }

    /** Prints up to {@code max} records; stops early when nothing arrives for {@code idle}. */
    static void print(
            KafkaClientProperties kafka,
            String topic,
            String type,
            int max,
            Duration idle,
            PrintStream out) {
        AvroSerde<? extends SpecificRecord> serde = TYPES.get(type);
        if (serde == null) {
            throw new IllegalArgumentException(
                    "--type must be one of " + types() + ", got '" + type + "'");
        }
        Map<String, Object> config =
                kafka.with(
                        Map.of(
                                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
                                ConsumerConfig.GROUP_ID_CONFIG,
                                        "streamlearn-read-" + System.nanoTime()));
        try (var consumer =
                new KafkaConsumer<>(
                        config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            int printed = 0;
            long lastRecord = System.nanoTime();
            while (printed < max && System.nanoTime() - lastRecord < idle.toNanos()) {
                for (ConsumerRecord<byte[], byte[]> record :
                        consumer.poll(Duration.ofMillis(500))) {
                    lastRecord = System.nanoTime();
                    try {
                        out.println(serde.decode(record.value()));
                    } catch (InvalidRecordException e) {
                        out.println(
                                "{\"unreadable\": \""
                                        + e.getMessage().replace("\"", "'")
                                        + "\", \"offset\": "
                                        + record.offset()
                                        + "}");
                    }
                    if (++printed >= max) {
                        break;
                    }
                }
            }
        }
    }
}
