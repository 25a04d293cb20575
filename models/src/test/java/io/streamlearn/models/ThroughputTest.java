package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures training and inference speed at the default size (batch 32, window 16, hidden 32) on one
 * intra-op thread, logs it, and checks that repeated calls leave no native arrays behind.
 */
class ThroughputTest {

    private static final Logger LOG = LoggerFactory.getLogger(ThroughputTest.class);

    private static final int BATCH = 32;
    private static final int WINDOW = 16;

    @Test
    void measureTrainingAndPrediction() {
        ForecasterConfig config =
                ForecasterConfig.builder().setWindow(WINDOW).optHiddenSize(32).build();
        List<SineSeries.Batch> batches = new SineSeries(31L, 8, 400).batches(50, BATCH, WINDOW);
        try (OnlineLearner learner = new OnlineLearner(config)) {
            for (int i = 0; i < 50; i++) {
                SineSeries.Batch b = batches.get(i);
                learner.train(b.windows, b.targets);
            }
            int arraysAfterWarmUp = learner.managedArrayCount();
            int steps = 400;
            long start = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                SineSeries.Batch b = batches.get(i % batches.size());
                learner.train(b.windows, b.targets);
            }
            double trainSeconds = (System.nanoTime() - start) / 1e9;
            assertEquals(
                    arraysAfterWarmUp, learner.managedArrayCount(), "training leaks native arrays");

            try (LstmForecaster forecaster = LstmForecaster.create(learner.snapshot())) {
                float[][] one = {batches.get(0).windows[0]};
                for (int i = 0; i < 200; i++) {
                    forecaster.predict(one);
                }
                int arraysBefore = forecaster.managedArrayCount();
                int calls = 2000;
                long[] nanos = new long[calls];
                for (int i = 0; i < calls; i++) {
                    long t0 = System.nanoTime();
                    forecaster.predict(one);
                    nanos[i] = System.nanoTime() - t0;
                }
                assertEquals(
                        arraysBefore,
                        forecaster.managedArrayCount(),
                        "predict leaks native arrays");
                Arrays.sort(nanos);

                float[][] batch = batches.get(1).windows;
                int batchCalls = 300;
                long batchStart = System.nanoTime();
                for (int i = 0; i < batchCalls; i++) {
                    forecaster.predict(batch);
                }
                double batchSeconds = (System.nanoTime() - batchStart) / 1e9;

                double trainRate = steps * BATCH / trainSeconds;
                LOG.info(
                        "Speed (batch {}, window {}, hidden {}, 1 intra-op thread): training {}"
                            + " examples/s ({} ms/step); single-row predict p50 {} us, p99 {} us;"
                            + " batch-{} predict {} rows/s",
                        BATCH,
                        WINDOW,
                        config.hiddenSize(),
                        Math.round(trainRate),
                        String.format("%.2f", trainSeconds * 1000 / steps),
                        nanos[calls / 2] / 1000,
                        nanos[calls * 99 / 100] / 1000,
                        BATCH,
                        Math.round(batchCalls * BATCH / batchSeconds));
                assertTrue(trainRate > 0);
            }
        }
    }
}
