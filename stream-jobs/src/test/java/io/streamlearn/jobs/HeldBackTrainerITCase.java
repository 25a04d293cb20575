package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.runtime.EmbeddedKafka;
import io.streamlearn.jobs.runtime.MetricGenerator;
import io.streamlearn.models.OnlineLearner;
import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.MetricEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Serving never waits for training (docs/guarantees.md), shown on the whole metrics job in live
 * mode with the defaults users get: the test thread holds the JVM-wide training lock ({@link
 * OnlineLearner#whileTrainingWaits}), so the trainer's next step cannot finish, and while it is
 * held it sends many more events than Flink's network buffers between the operators hold. Every one
 * of them must be answered before the lock is released, and committed: a {@code read_committed}
 * consumer sees the predictions, so checkpoints (which commit them) complete while the trainer is
 * held, at the checkpoint interval users get. Released, the trainer must work through its backlog:
 * every example made during the hold is learned or counted as skipped.
 */
class HeldBackTrainerITCase {
    private static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniClusterExtension FLINK =
            Fixtures.miniCluster(REPORTER.addToConfiguration(Fixtures.flinkTestConfig()), 2);

    @RegisterExtension static final KafkaExtension KAFKA = new KafkaExtension();

    private static final int SERIES = 8;

    /**
     * A round of the warm-up: 100 events a series, past the normaliser's warm-up and the first
     * window, enough examples for a first model while the trainer keeps its batch.
     */
    private static final int WARM_UP = 800;

    /** Warm-up rounds at most: a trainer that grows its batch needs more examples for 5 steps. */
    private static final int WARM_UP_ROUNDS = 4;

    /**
     * Sent while the trainer is held: each makes an example (its series is warm), far more than the
     * network buffers in front of the trainer hold.
     */
    private static final int HELD = 20_000;

    private static final Duration WAIT = Duration.ofMinutes(2);

    @Test
    void predictionsKeepComingWhileTheTrainerIsHeldBack() throws Exception {
        EmbeddedKafka kafka = KAFKA.kafka();
        Configuration conf = Fixtures.jobConfig(kafka, "held-back");
        // The checkpoint interval users get: a checkpoint falls within the hold.
        conf.set(
                StreamlearnOptions.CHECKPOINT_INTERVAL,
                StreamlearnOptions.CHECKPOINT_INTERVAL.defaultValue());
        JobSettings settings = JobSettings.from(conf);
        assertEquals(TimeAlignment.NONE, settings.timeAlignment(), "live mode is the default");
        Fixtures.createTopics(kafka, settings);
        MetricGenerator generator =
                new MetricGenerator(SERIES, 11L, 0.05, 0.0, Instant.parse("2026-01-01T00:00:00Z"));

        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(Fixtures.flinkTestConfig());
        env.setParallelism(1);
        Jobs.buildWithKafka(env, settings);
        JobClient job = env.executeAsync("held-back trainer");
        try (TopicReader written =
                new TopicReader(kafka.bootstrapServers(), settings.predictionsTopic())) {
            // Until a first model serves (the predictors keep events until then): how many
            // events that takes depends on the batches the trainer takes, which grow if its first
            // steps are slow. So a round at a time, each once the trainer learned the one before.
            TrainerMetrics trainer = new TrainerMetrics(REPORTER, job.getJobID());
            int warmUp = 0;
            while (trainer.value("servingVersion") < 1) {
                assertTrue(
                        warmUp < WARM_UP_ROUNDS * WARM_UP,
                        "no model after " + warmUp + " warm-up events");
                Fixtures.produce(kafka, settings.eventsTopic(), events(generator, WARM_UP));
                warmUp += WARM_UP;
                trainer.awaitCaughtUp(examples(settings, warmUp), settings.batchSize(), WAIT);
            }
            int answered = warmUp;
            written.awaitUntil(
                    r -> r.size() >= answered,
                    WAIT,
                    answered + " predictions of the warm-up (a first model serves)");
            long takenBefore = trainer.taken();

            OnlineLearner.whileTrainingWaits(
                    () -> {
                        Fixtures.produce(kafka, settings.eventsTopic(), events(generator, HELD));
                        await(OnlineLearner::aStepWaits, "the trainer waiting in a step");
                        long start = System.nanoTime();
                        written.awaitUntil(
                                r -> r.size() >= answered + HELD,
                                WAIT,
                                HELD + " predictions while the trainer is held back");
                        System.out.printf(
                                "HeldBackTrainerITCase: %d events answered in %d ms while the"
                                        + " trainer was held%n",
                                HELD, (System.nanoTime() - start) / 1_000_000);
                        assertTrue(OnlineLearner.aStepWaits(), "the trainer was held throughout");
                        return null;
                    });

            // Every example of the hold learned or skipped, bar fewer than a batch still waiting.
            trainer.awaitCaughtUp(takenBefore + HELD, settings.batchSize(), WAIT);
            System.out.printf(
                    "HeldBackTrainerITCase: after the hold the trainer learned %d and skipped %d"
                            + " examples in all%n",
                    trainer.value("examplesLearned"), trainer.value("examplesSkipped"));
        } finally {
            job.cancel().get();
        }
    }

    /**
     * Examples the job makes of the first {@code events} events: one per event of a series after
     * the normaliser's warm-up and a first full window.
     */
    private static long examples(JobSettings settings, int events) {
        int perSeries = events / SERIES;
        return (long) SERIES
                * Math.max(0, perSeries - settings.normalizerWarmUp() - settings.model().window());
    }

    private static List<byte[]> events(MetricGenerator generator, int count) {
        AvroSerde<MetricEvent> serde = AvroSerde.of(MetricEvent.class);
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(serde.encode(generator.next()));
        }
        return out;
    }

    /** Waits until {@code condition} holds; fails after {@link #WAIT}. */
    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + WAIT + " waiting for " + what);
            }
            Thread.sleep(50);
        }
    }
}
