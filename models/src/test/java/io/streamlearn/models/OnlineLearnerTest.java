package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class OnlineLearnerTest {

    private static final Logger LOG = LoggerFactory.getLogger(OnlineLearnerTest.class);

    private static final int BATCH = 32;
    private static final int WINDOW = 16;

    private static final ForecasterConfig CONFIG =
            ForecasterConfig.builder().setWindow(WINDOW).build();

    @Test
    void learnsSeasonalSeriesAndBeatsTheNaiveForecast() {
        SineSeries training = new SineSeries(1L, 12, 600);
        SineSeries fresh = new SineSeries(2L, 12, 600);
        int trainBatches = 500;
        int head = 25;
        int tail = 50;
        float[] losses = new float[trainBatches];
        try (OnlineLearner learner = new OnlineLearner(CONFIG)) {
            for (int i = 0; i < trainBatches; i++) {
                SineSeries.Batch b = training.next(BATCH, WINDOW);
                losses[i] = learner.train(b.windows, b.targets);
            }
            double first = mean(losses, 0, head);
            double last = mean(losses, trainBatches - tail, trainBatches);
            LOG.info(
                    "Huber loss: mean of first {} batches {}, of last {} {}",
                    head,
                    first,
                    tail,
                    last);
            assertTrue(last < 0.6 * first, "loss should fall: first " + first + ", last " + last);

            // Prequential on unseen series: predict each batch with the last published model,
            // then learn from it; publish every 10 batches, as the trainer does.
            double modelError = 0;
            double naiveError = 0;
            long count = 0;
            LstmForecaster forecaster = null;
            try {
                for (int i = 0; i < 60; i++) {
                    if (i % 10 == 0) {
                        if (forecaster != null) {
                            forecaster.close();
                        }
                        learner.nextVersion();
                        forecaster = LstmForecaster.create(learner.snapshot());
                    }
                    SineSeries.Batch b = fresh.next(BATCH, WINDOW);
                    float[][] predicted = forecaster.predict(b.windows);
                    for (int r = 0; r < BATCH; r++) {
                        modelError += Math.abs(predicted[r][0] - b.targets[r][0]);
                        naiveError += Math.abs(b.windows[r][WINDOW - 1] - b.targets[r][0]);
                        count++;
                    }
                    learner.train(b.windows, b.targets);
                }
            } finally {
                if (forecaster != null) {
                    forecaster.close();
                }
            }
            double modelMae = modelError / count;
            double naiveMae = naiveError / count;
            LOG.info(
                    "Prequential MAE on fresh series: model {}, naive last value {}, ratio {}",
                    modelMae,
                    naiveMae,
                    modelMae / naiveMae);
            assertTrue(
                    modelMae < 0.7 * naiveMae, "model MAE " + modelMae + " vs naive " + naiveMae);
        }
    }

    @Test
    void restoredLearnerContinuesBitExact() {
        List<SineSeries.Batch> batches = new SineSeries(3L, 6, 200).batches(20, BATCH, WINDOW);
        ModelState straight;
        try (OnlineLearner a = new OnlineLearner(CONFIG)) {
            for (SineSeries.Batch b : batches) {
                a.train(b.windows, b.targets);
            }
            straight = a.snapshot();
        }
        byte[] saved;
        try (OnlineLearner b = new OnlineLearner(CONFIG)) {
            for (SineSeries.Batch batch : batches.subList(0, 10)) {
                b.train(batch.windows, batch.targets);
            }
            b.nextVersion();
            saved = b.snapshot().encode();
        }
        ModelState resumed;
        try (OnlineLearner c = OnlineLearner.restore(ModelState.decode(saved))) {
            assertEquals(10, c.step());
            assertEquals(1, c.version());
            for (SineSeries.Batch batch : batches.subList(10, 20)) {
                c.train(batch.windows, batch.targets);
            }
            resumed = c.snapshot();
        }
        assertEquals(20, straight.step());
        assertEquals(straight.withVersion(1), resumed);
    }

    @Test
    void sameConfigAndBatchesGiveIdenticalState() {
        List<SineSeries.Batch> batches = new SineSeries(4L, 6, 200).batches(15, BATCH, WINDOW);
        ModelState first = trainAll(CONFIG, batches);
        ModelState second = trainAll(CONFIG, batches);
        assertEquals(first, second);
        assertEquals(first.hashCode(), second.hashCode());

        ModelState otherSeed = trainAll(CONFIG.toBuilder().optSeed(7L).build(), batches);
        assertNotEquals(first.weights()[0][0], otherSeed.weights()[0][0]);
    }

    @Test
    void learnersOnTwoThreadsTrainSafelyAndDeterministically() throws Exception {
        List<SineSeries.Batch> batches = new SineSeries(5L, 6, 200).batches(12, BATCH, WINDOW);
        ModelState expected = trainAll(CONFIG, batches);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Callable<ModelState> job = () -> trainAll(CONFIG, batches);
            Future<ModelState> one = pool.submit(job);
            Future<ModelState> two = pool.submit(job);
            assertEquals(expected, one.get());
            assertEquals(expected, two.get());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void nonFiniteBatchIsSkippedAndLeavesTheStateAlone() {
        SineSeries series = new SineSeries(6L, 4, 200);
        try (OnlineLearner learner = new OnlineLearner(CONFIG)) {
            SineSeries.Batch good = series.next(BATCH, WINDOW);
            learner.train(good.windows, good.targets);
            ModelState before = learner.snapshot();

            SineSeries.Batch nanWindow = series.next(BATCH, WINDOW);
            nanWindow.windows[5][3] = Float.NaN;
            assertTrue(Float.isNaN(learner.train(nanWindow.windows, nanWindow.targets)));

            SineSeries.Batch infTarget = series.next(BATCH, WINDOW);
            infTarget.targets[0][0] = Float.POSITIVE_INFINITY;
            assertTrue(!Float.isFinite(learner.train(infTarget.windows, infTarget.targets)));

            assertEquals(before, learner.snapshot());
            assertEquals(1, learner.step());
            assertEquals(2, learner.skippedSteps());

            SineSeries.Batch next = series.next(BATCH, WINDOW);
            assertTrue(Float.isFinite(learner.train(next.windows, next.targets)));
            assertEquals(2, learner.step());
        }
    }

    @Test
    void flatWindowsTrainWithFiniteLoss() {
        float[][] windows = new float[BATCH][WINDOW];
        float[][] targets = new float[BATCH][1];
        for (int r = 0; r < BATCH; r++) {
            java.util.Arrays.fill(windows[r], r % 2 == 0 ? 0f : 250f);
            targets[r][0] = r % 3 == 0 ? 251f : windows[r][0];
        }
        try (OnlineLearner learner = new OnlineLearner(CONFIG)) {
            float loss = learner.train(windows, targets);
            assertTrue(Float.isFinite(loss), "loss " + loss);
            assertEquals(1, learner.step());
        }
    }

    @Test
    void versionsAdvanceOnlyWhenPublished() {
        try (OnlineLearner learner = new OnlineLearner(CONFIG)) {
            assertEquals(0, learner.version());
            assertEquals(1, learner.nextVersion());
            assertEquals(2, learner.nextVersion());
            assertEquals(2, learner.snapshot().version());
            assertEquals(0, learner.step());
        }
    }

    @Test
    void rejectsMalformedBatchesNamingTheRow() {
        try (OnlineLearner learner = new OnlineLearner(CONFIG)) {
            float[][] windows = new float[4][WINDOW];
            windows[2] = new float[WINDOW - 1];
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> learner.train(windows, new float[4][1]));
            assertTrue(e.getMessage().contains("windows[2]"), e.getMessage());
            assertTrue(e.getMessage().contains("15"), e.getMessage());

            float[][] targets = new float[4][1];
            targets[1] = new float[2];
            e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> learner.train(new float[4][WINDOW], targets));
            assertTrue(e.getMessage().contains("targets[1]"), e.getMessage());

            e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> learner.train(new float[4][WINDOW], new float[3][1]));
            assertTrue(e.getMessage().contains("targets"), e.getMessage());
            assertEquals(0, learner.step());
        }
    }

    @Test
    void closedLearnerFails() {
        OnlineLearner learner = new OnlineLearner(CONFIG);
        learner.close();
        learner.close();
        assertThrows(IllegalStateException.class, learner::snapshot);
        assertThrows(
                IllegalStateException.class,
                () -> learner.train(new float[1][WINDOW], new float[1][1]));
    }

    static ModelState trainAll(ForecasterConfig config, List<SineSeries.Batch> batches) {
        try (OnlineLearner learner = new OnlineLearner(config)) {
            for (SineSeries.Batch b : batches) {
                learner.train(b.windows, b.targets);
            }
            return learner.snapshot();
        }
    }

    private static double mean(float[] values, int from, int to) {
        double sum = 0;
        for (int i = from; i < to; i++) {
            sum += values[i];
        }
        return sum / (to - from);
    }

    @Test
    void evaluateScoresABatchWithoutLearningFromIt() {
        ForecasterConfig config = ForecasterConfig.builder().setWindow(4).optHiddenSize(4).build();
        float[][] windows = {{1, 2, 3, 4}, {2, 3, 4, 5}};
        float[][] targets = {{5}, {6}};
        try (OnlineLearner learner = new OnlineLearner(config)) {
            ModelState before = learner.snapshot();
            float scored = learner.evaluate(windows, targets);
            assertEquals(before, learner.snapshot(), "nothing changed, the step included");
            assertEquals(
                    scored, learner.train(windows, targets), 1e-6f, "the same loss train sees");
        }
    }
}
