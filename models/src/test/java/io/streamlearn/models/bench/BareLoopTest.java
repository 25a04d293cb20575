package io.streamlearn.models.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelConfig.Family;
import io.streamlearn.models.ModelConfig.Task;
import org.junit.jupiter.api.Test;

/**
 * The bare loop does the job's work for each kind of model: every full batch of answered events is
 * learned. Not timed: the rates only have to be there.
 */
class BareLoopTest {
    @Test
    void everyAnsweredBatchIsLearnedForEachTask() throws Exception {
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
            BareLoop.Rates rates = BareLoop.measure(config, 4, 3, 0.2, Device.cpu());
            assertTrue(rates.eventsPerSecond() > 0, config.task() + ": " + rates);
            assertEquals(rates.servedPerSecond(), rates.learnedPerSecond(), config.task() + "");
        }
    }
}
