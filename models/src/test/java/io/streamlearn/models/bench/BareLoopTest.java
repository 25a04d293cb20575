package io.streamlearn.models.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelConfig.Family;
import io.streamlearn.models.ModelConfig.Task;
import io.streamlearn.models.TrainingPace;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The bare loop does the job's work for each kind of model, at the job's batch sizes, and hands
 * answered events to the trainer by the live trainer's rules: answers come in whole serving
 * batches, every answered event is learned or skipped but for fewer than one training batch, and
 * with a lag no step reaches nothing is skipped. Not timed: the rates only have to be there, the
 * lags that decide the pace are chosen so that the outcome does not depend on the machine's speed,
 * and the backlog's rules are driven from one thread.
 */
class BareLoopTest {
    private static final int SERVING = 4;
    private static final int TRAIN = 4;
    private static final int MAX_TRAIN = 16;
    private static final long HOUR = Duration.ofHours(1).toNanos();

    /** No example waits an hour: every one is learned, in batches of the trainer's batch size. */
    @Test
    void withinItsLagTheTrainerLearnsEveryAnsweredEventForEachTask() throws Exception {
        for (ModelConfig config :
                new ModelConfig[] {
                    forecaster(),
                    ModelConfig.builder()
                            .setTask(Task.RECONSTRUCTION)
                            .setFamily(Family.LSTM_AUTOENCODER)
                            .setWindow(8)
                            .build(),
                    ModelConfig.builder()
                            .setTask(Task.NEXT_ITEM)
                            .setFamily(Family.GRU)
                            .setWindow(5)
                            .optItemCapacity(300)
                            .build()
                }) {
            BareLoop.Rates rates =
                    BareLoop.measure(config, work(Duration.ofHours(1)), 3, 0.2, Device.cpu());
            assertTrue(rates.eventsPerSecond() > 0, config.task() + ": " + rates);
            assertEquals(0, rates.answered() % SERVING, config.task() + ": " + rates);
            assertEquals(0, rates.skipped(), config.task() + ": " + rates);
            assertTrue(
                    rates.learned() <= rates.answered()
                            && rates.answered() - rates.learned() < TRAIN,
                    config.task() + ": " + rates);
            assertEquals(TRAIN, rates.largestTrainBatch(), config.task() + ": " + rates);
            assertEquals(1, rates.largestStride(), config.task() + ": " + rates);
        }
    }

    /**
     * Every batch's newest example waited longer than a nanosecond: the batch grows to the largest
     * within two steps, then the stride, so examples are skipped; each is learned or skipped.
     */
    @Test
    void aTrainerBehindItsLagSamplesAndCountsWhatItSkips() throws Exception {
        BareLoop.Rates rates =
                BareLoop.measure(forecaster(), work(Duration.ofNanos(1)), 3, 0.2, Device.cpu());
        assertTrue(rates.largestStride() > 1, rates.toString());
        assertTrue(rates.skipped() > 0, rates.toString());
        long left = rates.answered() - rates.learned() - rates.skipped();
        assertTrue(left >= 0 && left < TRAIN, rates.toString());
        assertTrue(rates.largestTrainBatch() <= MAX_TRAIN, rates.toString());
    }

    @Test
    void aStepTakesWhatWaitsFromTheBatchSizeUpToThePaceBatch() throws Exception {
        TrainingPace pace = new TrainingPace(TRAIN, MAX_TRAIN, HOUR);
        BareLoop.Backlog backlog = new BareLoop.Backlog(pace, TRAIN, MAX_TRAIN, HOUR);
        long now = System.nanoTime();
        backlog.add(now, 6);
        assertEquals(TRAIN, backlog.take(), "the pace's batch while the trainer keeps up");
        pace.observe(2 * HOUR);
        pace.observe(2 * HOUR);
        assertEquals(MAX_TRAIN, pace.batch());
        backlog.add(now, 10);
        assertEquals(12, backlog.take(), "all that wait, below the pace's batch");
        backlog.add(now, 3);
        backlog.close();
        assertEquals(0, backlog.take(), "closed with fewer than a batch size left");
        assertEquals(3, backlog.waiting());
        assertEquals(0, backlog.skipped());
    }

    @Test
    void aFullBacklogPastTheLagDuringAStepKeepsEverySecondExample() throws Exception {
        TrainingPace pace = new TrainingPace(TRAIN, MAX_TRAIN, HOUR);
        BareLoop.Backlog backlog = new BareLoop.Backlog(pace, TRAIN, MAX_TRAIN, 1);
        long answered = System.nanoTime() - 1_000;
        backlog.add(answered, TRAIN);
        assertEquals(TRAIN, backlog.take());
        // A step runs: the 16th waiting example has the oldest past the lag of 1 ns.
        backlog.add(answered, MAX_TRAIN + 3);
        assertEquals(MAX_TRAIN / 2 + 3, backlog.waiting());
        assertEquals(MAX_TRAIN / 2, backlog.skipped());
    }

    @Test
    void theStrideLeavesOutExamplesAsTheyCome() throws Exception {
        TrainingPace pace = new TrainingPace(TRAIN, TRAIN, HOUR);
        pace.observe(2 * HOUR);
        assertEquals(2, pace.stride());
        BareLoop.Backlog backlog = new BareLoop.Backlog(pace, TRAIN, MAX_TRAIN, HOUR);
        backlog.add(System.nanoTime(), 2 * TRAIN);
        assertEquals(TRAIN, backlog.waiting());
        assertEquals(TRAIN, backlog.skipped());
    }

    private static ModelConfig forecaster() {
        return ModelConfig.builder().setTask(Task.NEXT_VALUE).setWindow(8).build();
    }

    private static BareLoop.Work work(Duration maxLag) {
        return new BareLoop.Work(SERVING, TRAIN, MAX_TRAIN, maxLag, 2, Duration.ZERO);
    }
}
