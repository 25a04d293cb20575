package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.runtime.EmbeddedKafka;
import io.streamlearn.jobs.runtime.MetricGenerator;
import io.streamlearn.schemas.AnomalyScore;
import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.DeadLetter;
import io.streamlearn.schemas.MetricEvent;
import io.streamlearn.schemas.ModelSnapshot;
import io.streamlearn.schemas.Prediction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The whole path on a real broker and a Flink MiniCluster: Kafka in, predictions and dead letters
 * out.
 */
class ForecastJobITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK = Fixtures.miniCluster(Fixtures.flinkTestConfig(), 2);

    @RegisterExtension static final KafkaExtension KAFKA = new KafkaExtension();
    private static EmbeddedKafka kafka;

    @BeforeAll
    static void kafka() throws Exception {
        kafka = KAFKA.kafka();
    }

    @Test
    void predictsAndScoresEveryGoodEventExactlyOnceAndDeadLettersTheRest() throws Exception {
        Configuration conf = Fixtures.jobConfig(kafka, "full-path");
        conf.set(StreamlearnOptions.BATCH_SIZE, 16);
        // Input comes in chunks, each once the previous one is answered, and predictions wait for
        // the first model: without the normaliser's warm-up the first chunk (40 events a series)
        // already makes the 80 examples of the first model.
        conf.set(StreamlearnOptions.NORMALIZER_WARM_UP, 0);
        JobSettings settings = JobSettings.from(conf);
        Fixtures.createTopics(kafka, settings);

        AvroSerde<MetricEvent> serde = AvroSerde.of(MetricEvent.class);
        MetricGenerator generator =
                new MetricGenerator(6, 11L, 0.05, 0.0, Instant.parse("2026-01-01T00:00:00Z"));
        int good = 6 * 400;
        List<byte[]> input = new ArrayList<>();
        List<String> expectedReasons = new ArrayList<>();
        for (int i = 0; i < good; i++) {
            input.add(serde.encode(generator.next()));
            if (i % 240 == 120) {
                int kind = (i / 240) % 4;
                switch (kind) {
                    case 0 -> input.add(("garbage " + i).getBytes(StandardCharsets.UTF_8));
                    case 1 ->
                            input.add(
                                    AvroSerde.of(Prediction.class)
                                            .encode(
                                                    Prediction.newBuilder()
                                                            .setEntityId("x")
                                                            .setEventTime(Instant.EPOCH)
                                                            .setPredicted(List.of())
                                                            .setModelVersion(1)
                                                            .build()));
                    case 2 -> input.add(serde.encode(event("series-00", Double.NaN)));
                    default -> input.add(serde.encode(event("", 1.0)));
                }
                expectedReasons.add(
                        List.of("single-object", "unknown to this job", "NaN", "seriesId")
                                .get(kind));
            }
        }
        int bad = expectedReasons.size();

        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(Fixtures.flinkTestConfig());
        env.setParallelism(2);
        Jobs.buildWithKafka(env, settings);
        JobClient job = env.executeAsync("full path");
        try (TopicReader predictions =
                        new TopicReader(kafka.bootstrapServers(), settings.predictionsTopic());
                TopicReader deadLetters =
                        new TopicReader(kafka.bootstrapServers(), settings.deadLettersTopic())) {
            // Live traffic, not a backlog: each chunk is produced once the previous one is
            // answered,
            // so the trainer keeps pace with the predictor as it would on a real stream.
            int chunk = input.size() / 10 + 1;
            for (int from = 0; from < input.size(); from += chunk) {
                List<byte[]> part = input.subList(from, Math.min(input.size(), from + chunk));
                Fixtures.produce(kafka, settings.eventsTopic(), part);
                long answered = goodCount(input.subList(0, from + part.size()), serde);
                predictions.awaitUntil(
                        r -> r.size() >= answered,
                        Duration.ofMinutes(2),
                        answered + " predictions");
            }
            deadLetters.awaitUntil(
                    r -> r.size() >= bad, Duration.ofMinutes(1), bad + " dead letters");
        } finally {
            job.cancel().get();
        }

        // After the job is gone, read everything that was committed: exactly once means exactly
        // these.
        List<Prediction> out = new ArrayList<>();
        List<DeadLetter> dead = new ArrayList<>();
        List<ModelSnapshot> models = new ArrayList<>();
        List<AnomalyScore> scores = new ArrayList<>();
        try (TopicReader p =
                        new TopicReader(kafka.bootstrapServers(), settings.predictionsTopic());
                TopicReader d =
                        new TopicReader(kafka.bootstrapServers(), settings.deadLettersTopic());
                TopicReader m = new TopicReader(kafka.bootstrapServers(), settings.modelsTopic());
                TopicReader a =
                        new TopicReader(kafka.bootstrapServers(), settings.anomalyScoresTopic())) {
            p.readToEnd(Duration.ofSeconds(30))
                    .forEach(r -> out.add(AvroSerde.of(Prediction.class).decode(r.value())));
            d.readToEnd(Duration.ofSeconds(30))
                    .forEach(r -> dead.add(AvroSerde.of(DeadLetter.class).decode(r.value())));
            m.readToEnd(Duration.ofSeconds(30))
                    .forEach(r -> models.add(AvroSerde.of(ModelSnapshot.class).decode(r.value())));
            a.readToEnd(Duration.ofSeconds(30))
                    .forEach(r -> scores.add(AvroSerde.of(AnomalyScore.class).decode(r.value())));
        }

        assertEquals(good, out.size(), "one prediction per good event");
        Set<String> seen = new HashSet<>();
        for (Prediction prediction : out) {
            assertTrue(
                    seen.add(prediction.getEntityId() + "@" + prediction.getEventTime()),
                    "duplicate " + prediction);
        }
        assertEquals(good, scores.size(), "one anomaly score per good event");
        assertTrue(
                scores.stream().allMatch(s -> s.getLikelihood() >= 0 && s.getLikelihood() <= 1),
                "likelihoods in [0, 1]");
        assertTrue(
                scores.stream().anyMatch(s -> s.getLikelihood() != 0.0),
                "series past their warm-up are judged");
        assertEquals(bad, dead.size(), "one dead letter per bad record");
        for (int i = 0; i < bad; i++) {
            String reason = dead.get(i).getReason();
            assertTrue(reason.contains(expectedReasons.get(i)), "dead letter " + i + ": " + reason);
        }
        assertTrue(
                out.stream().mapToLong(Prediction::getModelVersion).max().orElse(0) > 1,
                "the model was updated");
        assertTrue(
                !models.isEmpty() && models.get(0).getModelVersion() == 1,
                "the first version went to the model store: " + models);

        List<Prediction> scored =
                out.stream()
                        .filter(p -> p.getError() != null && p.getBaselineError() != null)
                        .sorted(Comparator.comparing(Prediction::getEventTime))
                        .toList();
        List<Prediction> lastThird = scored.subList(scored.size() * 2 / 3, scored.size());
        double model = lastThird.stream().mapToDouble(Prediction::getError).average().orElseThrow();
        double naive =
                lastThird.stream()
                        .mapToDouble(Prediction::getBaselineError)
                        .average()
                        .orElseThrow();
        System.out.printf(
                "full path: online MAE over the last third: model %.4f, naive %.4f%n",
                model, naive);
        assertTrue(model < naive, "model MAE " + model + " should beat naive " + naive);
    }

    private static long goodCount(List<byte[]> records, AvroSerde<MetricEvent> serde) {
        return records.stream()
                .filter(
                        bytes -> {
                            try {
                                return DecodeAndValidate.problemWith(serde.decode(bytes), 1)
                                        == null;
                            } catch (RuntimeException e) {
                                return false;
                            }
                        })
                .count();
    }

    private static MetricEvent event(String series, double value) {
        return MetricEvent.newBuilder()
                .setSeriesId(series)
                .setEventTime(Instant.EPOCH)
                .setValues(List.of(value))
                .build();
    }
}
