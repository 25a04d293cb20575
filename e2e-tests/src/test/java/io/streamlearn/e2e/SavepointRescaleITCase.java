package io.streamlearn.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.streamlearn.schemas.ModelSnapshot;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Scenario 4: stop with a savepoint (over REST, as an operator would), then resume from it with the
 * predictors (and every other keyed operator) at parallelism 2 instead of 1. The trainer stays one.
 * Nothing is lost or repeated across the stop, and the version sequence continues.
 */
@ExtendWith(E2eEnvironment.class)
class SavepointRescaleITCase {
    private static final int PER_SERIES = 200;
    private static final int EVENTS = JobRun.SERIES * PER_SERIES;
    private static final long FINAL_VERSION = JobRun.finalVersion(PER_SERIES);

    @Test
    void resumesFromASavepointWithMorePredictors() throws Exception {
        List<byte[]> input = JobRun.input(PER_SERIES, 44L);
        JobRun run = new JobRun("savepoint-rescale", Map.of());
        FlinkRest rest = E2eEnvironment.flink().rest();
        try {
            String first = run.submit(1, null);
            int half = EVENTS / 2;
            run.produce(input.subList(0, half));
            run.awaitPredictions(half, Duration.ofMinutes(2));
            String savepoint =
                    rest.stopWithSavepoint(
                            first,
                            E2eEnvironment.work().resolve("savepoints"),
                            Duration.ofMinutes(2));
            List<ModelSnapshot> before = run.models();
            long lastBefore = before.get(before.size() - 1).getModelVersion();
            assertTrue(lastBefore < FINAL_VERSION, "stopped mid-stream at version " + lastBefore);

            String second = run.submit(2, savepoint);
            JsonNode predictor = vertex(rest.get("/jobs/" + second), "predictor");
            assertEquals(2, predictor.get("parallelism").asInt(), "predictors rescaled to 2");
            JsonNode trainer = vertex(rest.get("/jobs/" + second), "trainer");
            assertEquals(1, trainer.get("parallelism").asInt(), "one trainer");

            run.produce(input.subList(half, EVENTS));
            run.awaitPredictions(EVENTS, Duration.ofMinutes(3));
            List<ModelSnapshot> models = run.awaitModels(FINAL_VERSION);
            run.cancelJobs();

            JobRun.assertExactlyOnceAndMonotonic(run.predictions(), EVENTS);
            JobRun.assertVersionSequence(models, FINAL_VERSION);
            assertEquals(
                    (lastBefore + 1) * JobRun.PUBLISH_EVERY,
                    models.get((int) lastBefore).getStep(),
                    "the trainer continued from its step");
        } finally {
            run.cancelJobs();
        }
    }

    private static JsonNode vertex(JsonNode job, String name) {
        for (JsonNode vertex : job.get("vertices")) {
            if (vertex.get("name").asText().startsWith(name)) {
                return vertex;
            }
        }
        throw new AssertionError("no vertex " + name + " in " + job);
    }
}
