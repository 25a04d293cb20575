package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.replay.ListsInOrder;
import io.streamlearn.jobs.replay.RankingEvaluation;
import io.streamlearn.jobs.runtime.ClickstreamGenerator;
import io.streamlearn.jobs.runtime.EmbeddedKafka;
import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.DeadLetter;
import io.streamlearn.schemas.InteractionEvent;
import io.streamlearn.schemas.MetricEvent;
import io.streamlearn.schemas.Recommendation;
import io.streamlearn.schemas.ScoredItem;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The recommendation path on a real broker and a Flink MiniCluster: interactions in, one
 * recommendation per good interaction out, bad records dead-lettered, and the lists better than the
 * most popular items.
 */
class RecommendationJobITCase {
    private static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniClusterExtension FLINK =
            Fixtures.miniCluster(REPORTER.addToConfiguration(Fixtures.flinkTestConfig()), 2);

    @RegisterExtension static final KafkaExtension KAFKA = new KafkaExtension();
    private static EmbeddedKafka kafka;

    @BeforeAll
    static void kafka() throws Exception {
        kafka = KAFKA.kafka();
    }

    @Test
    void recommendsAfterEveryGoodInteractionExactlyOnceAndDeadLettersTheRest(
            @TempDir Path checkpoints) throws Exception {
        Configuration conf = Fixtures.jobConfig(kafka, "clicks");
        conf.set(StreamlearnOptions.TASK, "next-item");
        conf.set(StreamlearnOptions.FAMILY, "gru");
        conf.set(StreamlearnOptions.WINDOW, 8);
        conf.set(StreamlearnOptions.BATCH_SIZE, 16);
        JobSettings settings = JobSettings.from(conf);
        Fixtures.createTopics(kafka, settings);

        AvroSerde<InteractionEvent> serde = AvroSerde.of(InteractionEvent.class);
        List<InteractionEvent> clicks =
                ClickstreamGenerator.builder().optUsers(30).optItems(100).build().next(4000);
        List<byte[]> input = new ArrayList<>();
        List<String> expectedReasons = new ArrayList<>();
        for (int i = 0; i < clicks.size(); i++) {
            input.add(serde.encode(clicks.get(i)));
            if (i % 500 == 250) {
                int kind = (i / 500) % 4;
                input.add(
                        switch (kind) {
                            case 0 -> ("garbage " + i).getBytes(StandardCharsets.UTF_8);
                            case 1 ->
                                    AvroSerde.of(MetricEvent.class)
                                            .encode(
                                                    MetricEvent.newBuilder()
                                                            .setSeriesId("s")
                                                            .setEventTime(Instant.EPOCH)
                                                            .setValues(List.of(1.0))
                                                            .build());
                            case 2 -> serde.encode(click("", "item-1"));
                            default -> serde.encode(click("user-1", ""));
                        });
                expectedReasons.add(
                        List.of("single-object", "unknown to this job", "userId", "itemId")
                                .get(kind));
            }
        }
        int bad = expectedReasons.size();

        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(
                        Fixtures.checkpointsOnFiles(Fixtures.flinkTestConfig(), checkpoints));
        env.setParallelism(2);
        Jobs.buildWithKafka(env, settings);
        JobClient job = env.executeAsync("recommendations");
        TrainerMetrics trainer = new TrainerMetrics(REPORTER, job.getJobID());
        String trainerSummary;
        try (TopicReader recommendations =
                        new TopicReader(kafka.bootstrapServers(), settings.recommendationsTopic());
                TopicReader deadLetters =
                        new TopicReader(kafka.bootstrapServers(), settings.deadLettersTopic())) {
            // Live traffic the trainer keeps up with, not a backlog: each chunk of a few batches
            // once the trainer has learned the one before. (In live mode the answers do not wait
            // for the trainer, and one that falls behind by more than the max lag takes larger
            // batches to catch up, learning less from each example: docs/guarantees.md.)
            int chunk = 40;
            for (int from = 0; from < input.size(); from += chunk) {
                int to = Math.min(input.size(), from + chunk);
                Fixtures.produce(kafka, settings.interactionsTopic(), input.subList(from, to));
                int sent = to - badBefore(to, bad);
                trainer.awaitCaughtUp(
                        examples(clicks.subList(0, sent)),
                        settings.batchSize(),
                        Duration.ofMinutes(2));
            }
            deadLetters.awaitUntil(
                    r -> r.size() >= bad, Duration.ofMinutes(1), bad + " dead letters");
            recommendations.awaitUntil(
                    r -> r.size() >= clicks.size(),
                    Duration.ofMinutes(2),
                    clicks.size() + " recommendations");
            trainerSummary =
                    String.format(
                            "version %d, serving %d, promotions %d, rejections %d, learned %d,"
                                    + " skipped %d",
                            trainer.value("trainerVersion"),
                            trainer.value("servingVersion"),
                            trainer.value("promotions"),
                            trainer.value("rejections"),
                            trainer.value("examplesLearned"),
                            trainer.value("examplesSkipped"));
        } finally {
            job.cancel().get();
        }

        List<Recommendation> out = new ArrayList<>();
        List<DeadLetter> dead = new ArrayList<>();
        try (TopicReader r =
                        new TopicReader(kafka.bootstrapServers(), settings.recommendationsTopic());
                TopicReader d =
                        new TopicReader(kafka.bootstrapServers(), settings.deadLettersTopic())) {
            r.readToEnd(Duration.ofSeconds(30))
                    .forEach(x -> out.add(AvroSerde.of(Recommendation.class).decode(x.value())));
            d.readToEnd(Duration.ofSeconds(30))
                    .forEach(x -> dead.add(AvroSerde.of(DeadLetter.class).decode(x.value())));
        }

        assertEquals(clicks.size(), out.size(), "one recommendation per good interaction");
        Set<String> seen = new HashSet<>();
        for (Recommendation r : out) {
            assertTrue(seen.add(r.getUserId() + "@" + r.getEventTime()), "duplicate " + r);
            assertEquals(10, r.getItems().size(), "top 10: " + r);
        }
        assertEquals(bad, dead.size(), "one dead letter per bad record");
        for (int i = 0; i < bad; i++) {
            String reason = dead.get(i).getReason();
            assertTrue(reason.contains(expectedReasons.get(i)), "dead letter " + i + ": " + reason);
        }
        assertTrue(
                out.stream().mapToLong(Recommendation::getModelVersion).max().orElse(0) > 1,
                "the model was updated; the trainer: " + trainerSummary);

        // The topic keeps each user's order: score each list against the user's next click.
        RankingEvaluation evaluation = new RankingEvaluation(10, false);
        ListsInOrder lists = new ListsInOrder(evaluation);
        for (InteractionEvent c : clicks) {
            lists.interaction(c.getUserId(), c.getItemId(), c.getEventTime());
        }
        for (Recommendation r : out) {
            lists.list(r.getUserId(), r.getItems().stream().map(ScoredItem::getItemId).toList());
        }
        RankingEvaluation.Figures overall = evaluation.overall();
        System.out.println("recommendations: the trainer's " + trainerSummary);
        System.out.printf(
                "recommendations: HR@10 model %.3f, popularity %.3f, transition %.3f over %d"
                        + " clicks%n",
                overall.model().hr(),
                overall.popularity().hr(),
                overall.transition().hr(),
                overall.scored());
        assertEquals(clicks.size() - 30, overall.scored(), "every user's clicks after the first");
        assertTrue(
                overall.model().hr() > overall.popularity().hr(),
                "model HR@10 " + overall.model().hr() + " above popularity's");
    }

    /** Training examples the job makes of these clicks: one per click of a user seen before. */
    private static long examples(List<InteractionEvent> clicks) {
        Set<String> users = new HashSet<>();
        return clicks.stream().filter(c -> !users.add(c.getUserId())).count();
    }

    /** Bad records among the first {@code n} inputs: one after every 500th click's 250th. */
    private static int badBefore(int n, int bad) {
        int count = 0;
        for (int b = 0; b < bad; b++) {
            // The b-th bad record sits right after click 500 b + 250, at input index 500 b + 251 +
            // b.
            if (500 * b + 251 + b < n) {
                count++;
            }
        }
        return count;
    }

    private static InteractionEvent click(String user, String item) {
        return InteractionEvent.newBuilder()
                .setUserId(user)
                .setItemId(item)
                .setEventTime(Instant.EPOCH)
                .build();
    }
}
