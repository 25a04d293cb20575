package io.streamlearn.models.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelConfig.Family;
import io.streamlearn.models.ModelConfig.Task;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The bare loop does the job's work for each kind of model, at the job's batch sizes: answers come
 * in whole serving batches, everything answered is learned but for less than one training batch,
 * and the training batch grows as the job's trainer's does. Not timed: the rates only have to be
 * there, and the lags that decide the batch size are chosen so that the outcome does not depend on
 * the machine's speed.
 */
class BareLoopTest {
    private static final int SERVING = 4;
    private static final int TRAIN = 4;
    private static final int MAX_TRAIN = 16;

    @Test
    void everyAnsweredEventIsLearnedForEachTask() throws Exception {
        for (ModelConfig config :
                new ModelConfig[] {
                    ModelConfig.builder().setTask(Task.NEXT_VALUE).setWindow(8).build(),
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
                    BareLoop.measure(config, work(Duration.ofSeconds(1)), 3, 0.2, Device.cpu());
            assertTrue(rates.eventsPerSecond() > 0, config.task() + ": " + rates);
            assertEquals(0, rates.answered() % SERVING, config.task() + ": " + rates);
            assertTrue(
                    rates.learned() <= rates.answered()
                            && rates.answered() - rates.learned() < TRAIN,
                    config.task() + ": " + rates);
        }
    }

    /**
     * Every batch's newest example waited longer than a nanosecond: each step doubles the batch.
     */
    @Test
    void aTrainerBehindItsLagGrowsItsBatchToTheMaximum() throws Exception {
        BareLoop.Rates rates =
                BareLoop.measure(forecaster(), work(Duration.ofNanos(1)), 3, 0.2, Device.cpu());
        assertEquals(MAX_TRAIN, rates.largestTrainBatch(), rates.toString());
    }

    /** No example waits an hour: the batch stays at the trainer's batch size. */
    @Test
    void aTrainerWithinItsLagKeepsItsBatch() throws Exception {
        BareLoop.Rates rates =
                BareLoop.measure(forecaster(), work(Duration.ofHours(1)), 3, 0.2, Device.cpu());
        assertEquals(TRAIN, rates.largestTrainBatch(), rates.toString());
    }

    private static ModelConfig forecaster() {
        return ModelConfig.builder().setTask(Task.NEXT_VALUE).setWindow(8).build();
    }

    private static BareLoop.Work work(Duration maxLag) {
        return new BareLoop.Work(SERVING, TRAIN, MAX_TRAIN, maxLag, 2);
    }
}
