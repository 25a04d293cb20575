package io.streamlearn.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.streamlearn.schemas.ModelSnapshot;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Scenario 3: the Kafka broker is restarted (a controlled shutdown and a start on the same ports
 * and data) while the job runs. The job fails over while the broker is away and continues from its
 * last checkpoint once it is back: one committed prediction per event, versions never go back.
 */
@ExtendWith(E2eEnvironment.class)
class BrokerRestartITCase {
    private static final int PER_SERIES = 200;
    private static final int EVENTS = JobRun.SERIES * PER_SERIES;
    private static final long FINAL_VERSION = JobRun.finalVersion(PER_SERIES);

    @Test
    void theJobRidesOutABrokerRestart() throws Exception {
        List<byte[]> input = JobRun.input(PER_SERIES, 33L);
        JobRun run = new JobRun("broker-restart", Map.of());
        try {
            run.submit(1, null);
            int quarter = EVENTS / 4;
            run.produce(input.subList(0, quarter));
            run.awaitPredictions(quarter, Duration.ofMinutes(2));
            run.produce(input.subList(quarter, 2 * quarter));
            run.awaitPredictions(quarter + 1, Duration.ofMinutes(2));

            KafkaBroker kafka = E2eEnvironment.kafka();
            kafka.stop();
            kafka.start();

            run.produce(input.subList(2 * quarter, EVENTS));
            run.awaitPredictions(EVENTS, Duration.ofMinutes(3));
            List<ModelSnapshot> models = run.awaitModels(FINAL_VERSION);
            run.cancelJobs();

            JobRun.assertExactlyOnceAndMonotonic(run.predictions(), EVENTS);
            JobRun.assertVersionSequence(models, FINAL_VERSION);
            assertEquals(FINAL_VERSION, models.get(models.size() - 1).getModelVersion());
        } finally {
            run.cancelJobs();
        }
    }
}
