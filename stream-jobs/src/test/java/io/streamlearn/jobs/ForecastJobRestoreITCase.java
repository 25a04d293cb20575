package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.runtime.EmbeddedKafka;
import io.streamlearn.jobs.runtime.MetricGenerator;
import io.streamlearn.models.ModelState;
import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.MetricEvent;
import io.streamlearn.schemas.ModelSnapshot;
import io.streamlearn.state.ModelSnapshots;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.client.program.ClusterClient;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.jobgraph.SavepointRestoreSettings;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.test.junit5.InjectClusterClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stop with a savepoint and start again from it: the trainer continues from the same step and
 * version, and in deterministic mode (one trainer, fixed seed, ordered input, and in live mode a
 * max lag longer than any catch-up: docs/guarantees.md) it ends with the same weights, bit for bit,
 * as a run that never stopped.
 */
class ForecastJobRestoreITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK = Fixtures.miniCluster(Fixtures.flinkTestConfig(), 1);

    private static final int SERIES = 4;
    private static final int EVENTS_PER_SERIES = 200;
    private static final int BATCH = 8;
    private static final int PUBLISH_EVERY = 2;
    private static final int WINDOW = 16;

    /**
     * Every example is used: one per event after a series' first full window that began after the
     * normaliser's warm-up.
     */
    private static final long FINAL_VERSION =
            (long) SERIES
                    * (EVENTS_PER_SERIES
                            - WINDOW
                            - StreamlearnOptions.NORMALIZER_WARM_UP.defaultValue())
                    / BATCH
                    / PUBLISH_EVERY;

    @RegisterExtension static final KafkaExtension KAFKA = new KafkaExtension();
    private static EmbeddedKafka kafka;

    @BeforeAll
    static void kafka() throws Exception {
        kafka = KAFKA.kafka();
    }

    @Test
    void continuesFromASavepointToTheSameModelAsAnUninterruptedRun(
            @InjectClusterClient ClusterClient<?> client, @TempDir Path savepoints)
            throws Exception {
        List<ModelSnapshot> reference = uninterruptedRun();
        assertEquals(FINAL_VERSION, reference.get(reference.size() - 1).getModelVersion());

        // About half the input before the savepoint and the rest after, so the savepoint is surely
        // mid-stream; the cut is off a batch boundary, so the unfinished batch must be restored
        // too.
        List<byte[]> input = input();
        int cut = input.size() / 2 + 3;
        JobSettings settings = settings("restored");
        Fixtures.produce(kafka, settings.eventsTopic(), input.subList(0, cut));
        StreamGraph first = graph(settings);
        JobClient job =
                StreamExecutionEnvironment.getExecutionEnvironment(Fixtures.flinkTestConfig())
                        .executeAsync(first);
        try (TopicReader models =
                new TopicReader(kafka.bootstrapServers(), settings.modelsTopic())) {
            models.awaitUntil(
                    r -> r.size() >= FINAL_VERSION / 3,
                    Duration.ofMinutes(2),
                    "a third of the versions");
        }
        String savepoint =
                client.stopWithSavepoint(
                                job.getJobID(),
                                false,
                                savepoints.toUri().toString(),
                                SavepointFormatType.CANONICAL)
                        .get();
        List<ModelSnapshot> beforeSavepoint = readModels(settings);
        long lastBefore = beforeSavepoint.get(beforeSavepoint.size() - 1).getModelVersion();
        assertTrue(
                lastBefore < FINAL_VERSION,
                "the savepoint was taken mid-stream (at version " + lastBefore + ")");

        Fixtures.produce(kafka, settings.eventsTopic(), input.subList(cut, input.size()));
        StreamGraph second = graph(settings);
        second.setSavepointRestoreSettings(SavepointRestoreSettings.forPath(savepoint, false));
        JobClient resumed =
                StreamExecutionEnvironment.getExecutionEnvironment(Fixtures.flinkTestConfig())
                        .executeAsync(second);
        try (TopicReader models =
                new TopicReader(kafka.bootstrapServers(), settings.modelsTopic())) {
            models.awaitUntil(
                    r -> r.size() >= FINAL_VERSION,
                    Duration.ofMinutes(2),
                    "version " + FINAL_VERSION);
        } finally {
            resumed.cancel().get();
        }
        List<ModelSnapshot> all = readModels(settings);

        List<Long> versions = all.stream().map(ModelSnapshot::getModelVersion).toList();
        List<Long> expected = new ArrayList<>();
        for (long v = 1; v <= FINAL_VERSION; v++) {
            expected.add(v);
        }
        assertEquals(expected, versions, "every version once, in order, across the restart");
        ModelSnapshot firstAfter = all.get((int) lastBefore);
        assertEquals(lastBefore + 1, firstAfter.getModelVersion());
        assertEquals(
                (lastBefore + 1) * PUBLISH_EVERY,
                firstAfter.getStep(),
                "the trainer continued from its step");
        for (int i = 0; i < all.size(); i++) {
            ModelState restoredRun = ModelSnapshots.fromSnapshot(all.get(i));
            ModelState expectedState = ModelSnapshots.fromSnapshot(reference.get(i));
            assertEquals(
                    expectedState,
                    restoredRun,
                    "version " + (i + 1) + " is bit-exact with the uninterrupted run");
        }
    }

    private List<ModelSnapshot> uninterruptedRun() throws Exception {
        JobSettings settings = settings("uninterrupted");
        Fixtures.produce(kafka, settings.eventsTopic(), input());
        JobClient job =
                StreamExecutionEnvironment.getExecutionEnvironment(Fixtures.flinkTestConfig())
                        .executeAsync(graph(settings));
        try (TopicReader models =
                new TopicReader(kafka.bootstrapServers(), settings.modelsTopic())) {
            models.awaitUntil(
                    r -> r.size() >= FINAL_VERSION,
                    Duration.ofMinutes(2),
                    "version " + FINAL_VERSION);
        } finally {
            job.cancel().get();
        }
        return readModels(settings);
    }

    private static JobSettings settings(String run) throws Exception {
        Configuration conf = Fixtures.jobConfig(kafka, run);
        conf.set(StreamlearnOptions.BATCH_SIZE, BATCH);
        conf.set(StreamlearnOptions.PUBLISH_EVERY_STEPS, PUBLISH_EVERY);
        conf.set(StreamlearnOptions.WINDOW, WINDOW);
        // The input arrives as one burst, faster than the trainer learns it: with the default max
        // lag it would take larger batches, or sample, to keep up, and which batches it takes
        // would depend on the timing of each run. Never learning from a sample (and so every
        // example in batches of BATCH, whatever the timing) is what reproducible models need.
        conf.set(StreamlearnOptions.MAX_LAG, Duration.ofHours(1));
        // Versions on steps alone, as reproducible models need in live mode.
        conf.set(StreamlearnOptions.MIN_PUBLISH_INTERVAL, Duration.ZERO);
        // The claim is about every version: each in the store exactly once across the restart,
        // so the store gets every version (by default one per 10 s, the newest 20 kept).
        conf.set(StreamlearnOptions.STORE_INTERVAL, Duration.ZERO);
        conf.set(StreamlearnOptions.KEEP_VERSIONS, 0);
        JobSettings settings = JobSettings.from(conf);
        Fixtures.createTopics(kafka, settings);
        return settings;
    }

    /** The same events for every run, in the same order. */
    private static List<byte[]> input() {
        AvroSerde<MetricEvent> serde = AvroSerde.of(MetricEvent.class);
        MetricGenerator generator =
                new MetricGenerator(SERIES, 5L, 0.05, 0.0, Instant.parse("2026-01-01T00:00:00Z"));
        List<byte[]> input = new ArrayList<>();
        for (int i = 0; i < SERIES * EVENTS_PER_SERIES; i++) {
            input.add(serde.encode(generator.next()));
        }
        return input;
    }

    private static StreamGraph graph(JobSettings settings) {
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(Fixtures.flinkTestConfig());
        env.setParallelism(1);
        Jobs.buildWithKafka(env, settings);
        return env.getStreamGraph();
    }

    private static List<ModelSnapshot> readModels(JobSettings settings) {
        AvroSerde<ModelSnapshot> serde = AvroSerde.of(ModelSnapshot.class);
        try (TopicReader reader =
                new TopicReader(kafka.bootstrapServers(), settings.modelsTopic())) {
            return reader.readToEnd(Duration.ofSeconds(30)).stream()
                    .map(r -> serde.decode(r.value()))
                    .toList();
        }
    }
}
