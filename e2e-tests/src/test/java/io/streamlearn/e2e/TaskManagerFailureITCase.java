package io.streamlearn.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.streamlearn.models.ModelState;
import io.streamlearn.schemas.ModelSnapshot;
import io.streamlearn.schemas.Prediction;
import io.streamlearn.state.ModelSnapshots;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Scenarios 1 and 2 on real processes, in deterministic mode (one trainer, fixed seed, one
 * partition of ordered input): a steady run, and a run whose task manager is killed with {@code
 * kill -9} mid-stream. Both must commit exactly one prediction per event, and the killed run must
 * end with the same model, bit for bit, as the steady one.
 */
@ExtendWith(E2eEnvironment.class)
class TaskManagerFailureITCase {
    private static final int PER_SERIES = 300;
    private static final int EVENTS = JobRun.SERIES * PER_SERIES;
    private static final int CHUNKS = 10;

    /** Every example is used: one per event after a series' first full window. */
    private static final long FINAL_VERSION = JobRun.finalVersion(PER_SERIES);

    private static final List<byte[]> INPUT = JobRun.input(PER_SERIES, 21L);
    private static SteadyRun steadyRun;

    @Test
    void steadyRunCommitsExactlyOnePredictionPerEvent() throws Exception {
        SteadyRun steady = steadyRun();
        for (JsonNode metric : steady.checkpointMetrics()) {
            assertTrue(
                    metric.get("value").asDouble() > 0, "checkpoint metric is reported: " + metric);
        }
        assertTrue(
                steady.metadataRetained(),
                "the cancelled job's last checkpoint is retained under " + steady.retained());
        JobRun.assertExactlyOnceAndMonotonic(steady.predictions(), EVENTS);
        JobRun.assertVersionSequence(steady.models(), FINAL_VERSION);
    }

    @Test
    void killedTaskManagerLosesNothingAndEndsWithTheSameModel() throws Exception {
        ModelState reference = steadyRun().finalModel();
        JobRun run = new JobRun("tm-kill", Map.of());
        try {
            killAndRecover(run, reference);
        } finally {
            run.cancelJobs();
        }
    }

    private void killAndRecover(JobRun run, ModelState reference) throws Exception {
        FlinkCluster flink = E2eEnvironment.flink();
        String job = run.submit(1, null);
        int chunk = EVENTS / CHUNKS;
        int half = CHUNKS / 2;
        for (int c = 0; c < half; c++) {
            run.produce(INPUT.subList(c * chunk, (c + 1) * chunk));
            run.awaitPredictions((long) (c + 1) * chunk, Duration.ofMinutes(2));
        }
        // Mid-stream: the rest of the input arrives while the task manager dies, and whatever the
        // job did since its last completed checkpoint is lost with it and must be redone.
        run.produce(INPUT.subList(half * chunk, (half + 1) * chunk));
        run.awaitPredictions((long) half * chunk + 1, Duration.ofMinutes(2));
        String victim = flink.taskManagerRunning(job, "trainer");
        long committed = run.committedPredictions();
        long killedAt = System.nanoTime();
        flink.killTaskManager(victim);
        run.produce(INPUT.subList((half + 1) * chunk, EVENTS));
        flink.startTaskManager();
        Await.until(
                () ->
                        flink.rest().jobMetrics(job, "numRestarts").get(0).get("value").asLong()
                                        >= 1
                                && flink.rest().allRunning(job),
                Duration.ofMinutes(3),
                () -> "job " + job + " restarted after killing " + victim);
        long runningAgainAt = System.nanoTime();
        run.awaitPredictions(committed + 1, Duration.ofMinutes(3));
        long outputAgainAt = System.nanoTime();
        run.awaitPredictions(EVENTS, Duration.ofMinutes(2));
        List<ModelSnapshot> models = run.awaitModels(FINAL_VERSION);
        run.cancelJobs();

        System.out.printf(
                Locale.ROOT,
                "task manager kill: job running again after %.1f s, new predictions committed"
                        + " after %.1f s%n",
                (runningAgainAt - killedAt) / 1e9,
                (outputAgainAt - killedAt) / 1e9);
        JobRun.assertExactlyOnceAndMonotonic(run.predictions(), EVENTS);
        JobRun.assertVersionSequence(models, FINAL_VERSION);
        assertEquals(
                reference,
                ModelSnapshots.fromSnapshot(models.get(models.size() - 1)),
                "the final model equals the steady run's, bit for bit");
    }

    /**
     * What the steady run (scenario 1) observed. It runs once: its own test asserts these
     * observations, whichever test runs first, and scenario 2 takes its final model as reference.
     */
    private record SteadyRun(
            List<Prediction> predictions,
            List<ModelSnapshot> models,
            JsonNode checkpointMetrics,
            Path retained,
            boolean metadataRetained) {

        ModelState finalModel() {
            return ModelSnapshots.fromSnapshot(models.get(models.size() - 1));
        }
    }

    private static synchronized SteadyRun steadyRun() throws Exception {
        if (steadyRun != null) {
            return steadyRun;
        }
        JobRun run = new JobRun("steady", Map.of());
        try {
            steadyRun = steadyRun(run);
        } finally {
            run.cancelJobs();
        }
        return steadyRun;
    }

    private static SteadyRun steadyRun(JobRun run) throws Exception {
        String job = run.submit(1, null);
        int chunk = EVENTS / CHUNKS;
        for (int c = 0; c < CHUNKS; c++) {
            run.produce(INPUT.subList(c * chunk, (c + 1) * chunk));
            run.awaitPredictions((long) (c + 1) * chunk, Duration.ofMinutes(2));
        }
        List<ModelSnapshot> models = run.awaitModels(FINAL_VERSION);
        // Flink's job-level checkpoint metrics, as an operator's dashboard would read them, once
        // a checkpoint has completed: on a loaded machine the whole input can be predicted before
        // the first one does.
        JsonNode checkpointMetrics =
                Await.until(
                        () -> {
                            JsonNode m =
                                    E2eEnvironment.flink()
                                            .rest()
                                            .jobMetrics(
                                                    job,
                                                    "lastCheckpointSize",
                                                    "lastCheckpointDuration",
                                                    "numberOfCompletedCheckpoints");
                            return m.size() == 3 && completedCheckpoints(m) > 0 ? m : null;
                        },
                        Duration.ofMinutes(2),
                        () -> "a completed checkpoint of job " + job);
        run.cancelJobs();
        Path retained = run.checkpoints().resolve(job);
        boolean metadataRetained = false;
        if (Files.isDirectory(retained)) {
            try (Stream<Path> files = Files.walk(retained)) {
                metadataRetained =
                        files.anyMatch(f -> f.getFileName().toString().equals("_metadata"));
            }
        }
        return new SteadyRun(
                run.predictions(), models, checkpointMetrics, retained, metadataRetained);
    }

    private static long completedCheckpoints(JsonNode metrics) {
        for (JsonNode metric : metrics) {
            if (metric.get("id").asText().equals("numberOfCompletedCheckpoints")) {
                return metric.get("value").asLong();
            }
        }
        return 0;
    }
}
