package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.pytorch.jni.JniUtils;
import io.streamlearn.models.ModelConfig.Family;
import io.streamlearn.models.ModelConfig.Task;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ForecasterTest {

    private static final int WINDOW = 8;

    private static SineSeries series;
    private static ModelState trained;

    @BeforeAll
    static void train() {
        series = new SineSeries(21L, 6, 200);
        ModelConfig config =
                ModelConfig.builder().setWindow(WINDOW).optHiddenSize(16).optLayers(2).build();
        try (OnlineLearner learner = new OnlineLearner(config)) {
            for (int i = 0; i < 30; i++) {
                learner.train(series.next(16, WINDOW).batch());
            }
            learner.nextVersion();
            learner.nextVersion();
            trained = learner.snapshot();
        }
    }

    @Test
    void anUntrainedModelIsTheNaiveForecastWithUnitVariance() {
        SineSeries.Examples b = series.next(8, WINDOW);
        try (OnlineLearner fresh = new OnlineLearner(trained.config());
                Forecaster forecaster = Forecaster.create(fresh.snapshot())) {
            Forecasts f = forecaster.forecast(b.windows);
            for (int r = 0; r < 8; r++) {
                assertEquals(b.windows[r][WINDOW - 1], f.mean(r)[0], 0f);
                assertEquals(1f, f.stdDev(r)[0], 0f);
            }
        }
    }

    @Test
    void forecastsWhatTheLearnerScores() {
        SineSeries.Examples b = series.next(16, WINDOW);
        double nll = 0;
        try (Forecaster forecaster = Forecaster.create(trained)) {
            assertEquals(2, forecaster.version());
            Forecasts f = forecaster.forecast(b.windows);
            for (int r = 0; r < 16; r++) {
                nll += f.surprise(r, b.targets[r]);
            }
        }
        try (OnlineLearner learner = OnlineLearner.restore(trained)) {
            assertEquals(learner.evaluate(b.batch()), nll / 16, 1e-4);
        }
    }

    @Test
    void batchAndSingleRowForecastsAgree() {
        SineSeries.Examples b = series.next(6, WINDOW);
        try (Forecaster forecaster = Forecaster.create(trained)) {
            Forecasts all = forecaster.forecast(b.windows);
            for (int r = 0; r < 6; r++) {
                Forecasts one = forecaster.forecast(new float[][] {b.windows[r]});
                assertEquals(all.mean(r)[0], one.mean(0)[0], 1e-5f);
                assertEquals(all.logVariance(r)[0], one.logVariance(0)[0], 1e-5f);
            }
        }
    }

    /** One step per event from a zero state is the same computation as a pass over the window. */
    @ParameterizedTest
    @EnumSource(
            value = Family.class,
            names = {"RNN", "GRU", "LSTM"})
    void steppingThroughAWindowEqualsForecastingIt(Family family) {
        ModelConfig config = trained.config().toBuilder().setFamily(family).optSeed(8L).build();
        try (OnlineLearner learner = new OnlineLearner(config)) {
            for (int i = 0; i < 5; i++) {
                learner.train(series.next(16, WINDOW).batch());
            }
            SineSeries.Examples b = series.next(3, WINDOW);
            try (Forecaster forecaster = Forecaster.create(learner.snapshot())) {
                assertTrue(forecaster.isIncremental());
                Forecasts whole = forecaster.forecast(b.windows);
                int n = config.layers() * config.hiddenSize();
                RecurrentState[] states = new RecurrentState[3];
                for (int r = 0; r < 3; r++) {
                    states[r] =
                            new RecurrentState(
                                    0,
                                    0,
                                    config.layers(),
                                    config.hiddenSize(),
                                    new float[n],
                                    family == Family.LSTM ? new float[n] : null);
                }
                Forecasts stepped = null;
                for (int t = 0; t < WINDOW; t++) {
                    float[][] values = new float[3][];
                    for (int r = 0; r < 3; r++) {
                        values[r] = new float[] {b.windows[r][t]};
                    }
                    stepped = forecaster.step(states, values);
                    for (int r = 0; r < 3; r++) {
                        states[r] = stepped.state(r);
                    }
                }
                for (int r = 0; r < 3; r++) {
                    assertEquals(whole.mean(r)[0], stepped.mean(r)[0], 1e-5f, family + " mean");
                    assertArrayEquals(
                            whole.state(r).hidden(), stepped.state(r).hidden(), 1e-5f, "hidden");
                    assertEquals(WINDOW, stepped.state(r).stepsSinceRecompute());
                    assertEquals(0, whole.state(r).stepsSinceRecompute());
                    assertEquals(learner.version(), whole.state(r).modelVersion());
                    RecurrentState copy = RecurrentState.decode(stepped.state(r).encode());
                    assertEquals(stepped.state(r), copy);
                }
            }
        }
    }

    @Test
    void attentionAndMlpHaveNoIncrementalMode() {
        for (Family family : new Family[] {Family.ATTENTION, Family.MLP}) {
            ModelConfig config = trained.config().toBuilder().setFamily(family).build();
            try (OnlineLearner learner = new OnlineLearner(config);
                    Forecaster forecaster = Forecaster.create(learner.snapshot())) {
                assertNull(forecaster.forecast(new float[][] {new float[WINDOW]}).state(0));
                assertThrows(
                        UnsupportedOperationException.class,
                        () -> forecaster.step(new RecurrentState[1], new float[1][1]));
            }
        }
    }

    @Test
    void otherThreadsGetInferenceSettings() throws Exception {
        SineSeries.Examples b = series.next(8, WINDOW);
        try (Forecaster forecaster = Forecaster.create(trained)) {
            float[] expected = forecaster.forecast(b.windows).mean(3);
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                Future<float[]> one = pool.submit(() -> forecaster.forecast(b.windows).mean(3));
                Future<float[]> two = pool.submit(() -> forecaster.forecast(b.windows).mean(3));
                assertArrayEquals(expected, one.get());
                assertArrayEquals(expected, two.get());
                Future<Integer> threads =
                        pool.submit(
                                () -> {
                                    forecaster.forecast(b.windows);
                                    return JniUtils.getNumThreads();
                                });
                assertEquals(1, threads.get());
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void aNonFiniteWindowGivesNaNForItsRowOnly() {
        SineSeries.Examples b = series.next(2, WINDOW);
        b.windows[0][4] = Float.NaN;
        try (Forecaster forecaster = Forecaster.create(trained)) {
            Forecasts f = forecaster.forecast(b.windows);
            assertTrue(Float.isNaN(f.mean(0)[0]));
            assertTrue(Float.isFinite(f.mean(1)[0]));
        }
    }

    @Test
    void rejectsBadInputOtherTasksAndUseAfterClose() {
        Forecaster forecaster = Forecaster.create(trained);
        assertEquals(0, forecaster.forecast(new float[0][]).size());
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> forecaster.forecast(new float[][] {new float[WINDOW], new float[3]}));
        assertTrue(e.getMessage().contains("windows[1]"), e.getMessage());
        forecaster.close();
        forecaster.close();
        assertThrows(
                IllegalStateException.class,
                () -> forecaster.forecast(new float[][] {new float[WINDOW]}));
        ModelConfig items =
                ModelConfig.builder().setTask(Task.NEXT_ITEM).optItemCapacity(10).build();
        try (OnlineLearner learner = new OnlineLearner(items)) {
            e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> Forecaster.create(learner.snapshot()));
            assertTrue(e.getMessage().contains("needs a NEXT_VALUE model"), e.getMessage());
        }
    }
}
