package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.pytorch.jni.JniUtils;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class LstmForecasterTest {

    private static final int WINDOW = 16;
    private static final ForecasterConfig CONFIG =
            ForecasterConfig.builder().setWindow(WINDOW).build();

    private static List<SineSeries.Batch> batches;
    private static ModelState trained;

    @BeforeAll
    static void train() {
        batches = new SineSeries(21L, 8, 300).batches(40, 32, WINDOW);
        trained = OnlineLearnerTest.trainAll(CONFIG, batches.subList(0, 30)).withVersion(3);
    }

    @Test
    void batchAndSingleRowPredictionsAgree() {
        SineSeries.Batch b = batches.get(35);
        try (LstmForecaster forecaster = LstmForecaster.create(trained)) {
            assertEquals(3, forecaster.version());
            float[][] all = forecaster.predict(b.windows);
            assertEquals(b.windows.length, all.length);
            for (int r = 0; r < all.length; r++) {
                assertEquals(1, all[r].length);
                assertTrue(Float.isFinite(all[r][0]));
                float[][] one = forecaster.predict(new float[][] {b.windows[r]});
                assertEquals(all[r][0], one[0][0], 1e-5f * Math.max(1f, Math.abs(all[r][0])));
            }
        }
    }

    @Test
    void predictsWhatTheLearnerScores() {
        // train() returns the loss of the model before its step, so the forecaster built from the
        // same state must reproduce it from its predictions.
        SineSeries.Batch b = batches.get(36);
        float predictedLoss;
        try (LstmForecaster forecaster = LstmForecaster.create(trained)) {
            float[][] predicted = forecaster.predict(b.windows);
            WindowEncoding enc = WindowEncoding.encode(CONFIG, b.windows);
            float[] targets = enc.encodeTargets(b.targets);
            WindowEncoding again = WindowEncoding.encode(CONFIG, b.windows);
            float[] deltas = again.encodeTargets(predicted);
            double sum = 0;
            for (int i = 0; i < targets.length; i++) {
                double e = Math.abs(deltas[i] - targets[i]);
                sum += e <= 1 ? 0.5 * e * e : e - 0.5;
            }
            predictedLoss = (float) (sum / targets.length);
        }
        try (OnlineLearner learner = OnlineLearner.restore(trained)) {
            float loss = learner.train(b.windows, b.targets);
            assertEquals(loss, predictedLoss, 1e-4f * loss);
        }
    }

    @Test
    void untrainedModelIsTheNaiveForecast() {
        SineSeries.Batch b = batches.get(0);
        try (OnlineLearner fresh = new OnlineLearner(CONFIG);
                LstmForecaster forecaster = LstmForecaster.create(fresh.snapshot())) {
            float[][] predicted = forecaster.predict(b.windows);
            for (int r = 0; r < predicted.length; r++) {
                float last = b.windows[r][WINDOW - 1];
                assertEquals(last, predicted[r][0], 1e-6f * Math.max(1f, Math.abs(last)));
            }
        }
    }

    @Test
    void handlesSeveralFeatures() {
        ForecasterConfig config =
                ForecasterConfig.builder().setWindow(8).optFeatures(3).optHiddenSize(16).build();
        float[][] windows = new float[5][8 * 3];
        float[][] targets = new float[5][3];
        for (int r = 0; r < 5; r++) {
            for (int t = 0; t < 8; t++) {
                for (int f = 0; f < 3; f++) {
                    windows[r][t * 3 + f] =
                            (float) ((f + 1) * 10 * Math.sin(0.3 * (t + r)) + 100 * f);
                }
            }
            for (int f = 0; f < 3; f++) {
                targets[r][f] = (float) ((f + 1) * 10 * Math.sin(0.3 * (8 + r)) + 100 * f);
            }
        }
        try (OnlineLearner learner = new OnlineLearner(config)) {
            for (int i = 0; i < 3; i++) {
                learner.train(windows, targets);
            }
            try (LstmForecaster forecaster = LstmForecaster.create(learner.snapshot())) {
                float[][] predicted = forecaster.predict(windows);
                assertEquals(5, predicted.length);
                for (float[] row : predicted) {
                    assertEquals(3, row.length);
                    for (float v : row) {
                        assertTrue(Float.isFinite(v));
                    }
                }
            }
        }
    }

    @Test
    void otherThreadsGetInferenceSettings() throws Exception {
        SineSeries.Batch b = batches.get(37);
        try (LstmForecaster forecaster = LstmForecaster.create(trained)) {
            float[][] expected = forecaster.predict(b.windows);
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                Future<float[][]> one = pool.submit(() -> forecaster.predict(b.windows));
                Future<float[][]> two = pool.submit(() -> forecaster.predict(b.windows));
                assertArrayEquals(expected, one.get());
                assertArrayEquals(expected, two.get());
                Future<Integer> threads =
                        pool.submit(
                                () -> {
                                    forecaster.predict(b.windows);
                                    return JniUtils.getNumThreads();
                                });
                assertEquals(1, threads.get());
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void nonFiniteInputGivesNaNOnlyForItsRow() {
        SineSeries.Batch b = batches.get(38);
        float[][] windows = new float[][] {b.windows[0].clone(), b.windows[1].clone()};
        windows[0][4] = Float.NaN;
        try (LstmForecaster forecaster = LstmForecaster.create(trained)) {
            float[][] predicted = forecaster.predict(windows);
            assertTrue(Float.isNaN(predicted[0][0]));
            assertTrue(Float.isFinite(predicted[1][0]));
        }
    }

    @Test
    void rejectsBadInputAndUseAfterClose() {
        LstmForecaster forecaster = LstmForecaster.create(trained);
        assertEquals(0, forecaster.predict(new float[0][]).length);
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> forecaster.predict(new float[][] {new float[WINDOW], new float[3]}));
        assertTrue(e.getMessage().contains("windows[1]"), e.getMessage());
        forecaster.close();
        forecaster.close();
        assertThrows(
                IllegalStateException.class,
                () -> forecaster.predict(new float[][] {new float[WINDOW]}));
    }
}
