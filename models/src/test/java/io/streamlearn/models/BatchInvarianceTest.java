package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.streamlearn.models.ModelConfig.Family;
import io.streamlearn.models.ModelConfig.Task;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A row's answer does not depend on the batch it is computed in ({@link RowBlocks}): the predictors
 * answer however many queries arrive together, and a replay must give the same output in every run.
 * Each row is answered alone and inside batches of several sizes at several positions, and the
 * answers must be equal bit for bit. (Without whole blocks about one row in ten differs in its last
 * bits on an AVX-512 machine.)
 */
class BatchInvarianceTest {

    private static final int[] SIZES = {2, 3, 7, 16, 17, 33, 64};
    private static final int ROWS = 80;

    @ParameterizedTest
    @EnumSource(
            value = Family.class,
            names = {"LSTM_AUTOENCODER"},
            mode = EnumSource.Mode.EXCLUDE)
    void forecastsAndStepsDoNotDependOnTheBatch(Family family) {
        ModelConfig config = ModelConfig.builder().setFamily(family).optHiddenSize(24).build();
        SineSeries series = new SineSeries(7L, 8, 400);
        try (OnlineLearner learner = new OnlineLearner(config)) {
            trainValues(learner, series, config);
            float[][] windows = series.next(ROWS, config.window()).windows;
            try (Forecaster f = Forecaster.create(learner.snapshot())) {
                Forecasts[] alone = new Forecasts[ROWS];
                for (int i = 0; i < ROWS; i++) {
                    alone[i] = f.forecast(new float[][] {windows[i]});
                }
                for (int size : SIZES) {
                    for (int from = 0; from + size <= ROWS; from += 13) {
                        Forecasts batch =
                                f.forecast(Arrays.copyOfRange(windows, from, from + size));
                        for (int i = 0; i < size; i++) {
                            String row = family + " batch " + size + " row " + (from + i);
                            assertArrayEquals(alone[from + i].mean(0), batch.mean(i), 0f, row);
                            assertArrayEquals(
                                    alone[from + i].logVariance(0), batch.logVariance(i), 0f, row);
                        }
                    }
                }
                if (!f.isIncremental()) {
                    return;
                }
                RecurrentState[] states = new RecurrentState[ROWS];
                float[][] values = new float[ROWS][];
                for (int i = 0; i < ROWS; i++) {
                    states[i] = alone[i].state(0);
                    values[i] = new float[] {windows[(i + 1) % ROWS][0]};
                }
                for (int size : SIZES) {
                    for (int from = 0; from + size <= ROWS; from += 13) {
                        Forecasts batch =
                                f.step(
                                        Arrays.copyOfRange(states, from, from + size),
                                        Arrays.copyOfRange(values, from, from + size));
                        for (int i = 0; i < size; i++) {
                            Forecasts one =
                                    f.step(
                                            new RecurrentState[] {states[from + i]},
                                            new float[][] {values[from + i]});
                            assertArrayEquals(
                                    one.mean(0),
                                    batch.mean(i),
                                    0f,
                                    family + " step, batch " + size + " row " + (from + i));
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = Family.class,
            names = {"LSTM_AUTOENCODER"})
    void reconstructionErrorsDoNotDependOnTheBatch(Family family) {
        ModelConfig config =
                ModelConfig.builder().setTask(Task.RECONSTRUCTION).setFamily(family).build();
        SineSeries series = new SineSeries(7L, 8, 400);
        try (OnlineLearner learner = new OnlineLearner(config)) {
            for (int i = 0; i < 5; i++) {
                learner.train(Batch.windows(series.next(32, config.window()).windows));
            }
            learner.nextVersion();
            float[][] windows = series.next(ROWS, config.window()).windows;
            try (Reconstructor r = Reconstructor.create(learner.snapshot())) {
                float[] alone = new float[ROWS];
                for (int i = 0; i < ROWS; i++) {
                    alone[i] = r.errors(new float[][] {windows[i]})[0];
                }
                for (int size : SIZES) {
                    for (int from = 0; from + size <= ROWS; from += 13) {
                        float[] batch = r.errors(Arrays.copyOfRange(windows, from, from + size));
                        assertArrayEquals(
                                Arrays.copyOfRange(alone, from, from + size),
                                batch,
                                0f,
                                "batch " + size + " from row " + from);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = Family.class,
            names = {"GRU", "LSTM", "ATTENTION", "MLP"})
    void recommendationsDoNotDependOnTheBatch(Family family) {
        ModelConfig config =
                ModelConfig.builder()
                        .setTask(Task.NEXT_ITEM)
                        .setFamily(family)
                        .optItemCapacity(256)
                        .build();
        Clickstream stream = new Clickstream(4L, 64, 200, 20);
        try (OnlineLearner learner = new OnlineLearner(config)) {
            for (int i = 0; i < 10; i++) {
                learner.train(stream.batch(32));
            }
            learner.nextVersion();
            String[][] histories = new String[ROWS][];
            for (int i = 0; i < ROWS; i++) {
                histories[i] = stream.next().history();
            }
            try (Recommender r = Recommender.create(learner.snapshot())) {
                List<List<ScoredItem>> alone =
                        Arrays.stream(histories)
                                .map(h -> r.recommend(new String[][] {h}, 10, null).items(0))
                                .toList();
                for (int size : SIZES) {
                    for (int from = 0; from + size <= ROWS; from += 13) {
                        Recommendations batch =
                                r.recommend(
                                        Arrays.copyOfRange(histories, from, from + size), 10, null);
                        for (int i = 0; i < size; i++) {
                            assertEquals(
                                    alone.get(from + i),
                                    batch.items(i),
                                    family + " batch " + size + " row " + (from + i));
                        }
                    }
                }
                // Exclusions are per row, also for the filler rows.
                Recommendations excluded =
                        r.recommend(
                                new String[][] {histories[0], histories[1]},
                                10,
                                List.of(Set.of(alone.get(0).get(0).itemId()), Set.of()));
                assertEquals(alone.get(0).subList(1, 10), excluded.items(0).subList(0, 9));
                assertEquals(alone.get(1), excluded.items(1));
            }
        }
    }

    private static void trainValues(OnlineLearner learner, SineSeries series, ModelConfig config) {
        for (int i = 0; i < 5; i++) {
            learner.train(series.next(32, config.window()).batch());
        }
        learner.nextVersion();
    }
}
