package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.models.ModelConfig.Family;
import io.streamlearn.models.ModelConfig.Task;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Injected anomalies score above ordinary points (ROC AUC at least 0.9) for both anomaly scores:
 * the surprise of the Gaussian head of a forecaster, and the reconstruction error of the LSTM
 * autoencoder. Both models learn online from series that hold anomalies, as they would in a stream,
 * and are scored on series they have not seen. Each seed draws its own series, model initialisation
 * and training order; the AUCs measured lie between 0.96 and 1.0, so the bound leaves a margin of
 * at least 0.06.
 */
class AnomalyScoresTest {

    private static final Logger LOG = LoggerFactory.getLogger(AnomalyScoresTest.class);

    private static final int WINDOW = 16;
    private static final int LENGTH = 400;
    private static final int START = SineSeries.WARM_UP + WINDOW;
    private static final double MIN_AUC = 0.9;

    /** Training series: 12, with spikes of 0.3 to 0.8 amplitudes on 1.5 % of points. */
    private static SineSeries training(long seed) {
        return new SineSeries(1000 * seed + 31, 12, LENGTH, 0.015, START);
    }

    /** Series the model has not seen: 8, spiked as the training series. */
    private static SineSeries fresh(long seed) {
        return new SineSeries(1000 * seed + 32, 8, LENGTH, 0.015, START);
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void gaussianSurpriseRanksAnomaliesHigh(long seed) {
        ModelConfig config =
                ModelConfig.builder()
                        .setFamily(Family.LSTM)
                        .setWindow(WINDOW)
                        .optSeed(seed)
                        .build();
        SineSeries fresh = fresh(seed);
        try (OnlineLearner learner = new OnlineLearner(config)) {
            train(learner, training(seed), seed, false);
            List<Double> scores = new ArrayList<>();
            List<Boolean> labels = new ArrayList<>();
            try (Forecaster forecaster = Forecaster.create(learner.snapshot())) {
                for (int s = 0; s < fresh.count(); s++) {
                    float[][] windows = windowsBefore(fresh, s);
                    Forecasts f = forecaster.forecast(windows);
                    for (int i = 0; i < windows.length; i++) {
                        int t = START + i;
                        scores.add(f.surprise(i, new float[] {fresh.series(s)[t]}));
                        labels.add(fresh.spiked(s, t));
                    }
                }
            }
            double auc = auc(scores, labels);
            LOG.info(
                    "Gaussian surprise, seed {}: ROC AUC {} over {} points",
                    seed,
                    auc,
                    scores.size());
            assertTrue(auc >= MIN_AUC, "seed " + seed + ": AUC " + auc);
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void autoencoderErrorRanksAnomaliesHigh(long seed) {
        ModelConfig config =
                ModelConfig.builder()
                        .setTask(Task.RECONSTRUCTION)
                        .setFamily(Family.LSTM_AUTOENCODER)
                        .setWindow(WINDOW)
                        .optHiddenSize(16)
                        .optSeed(seed)
                        .build();
        SineSeries fresh = fresh(seed);
        try (OnlineLearner learner = new OnlineLearner(config)) {
            train(learner, training(seed), seed, true);
            List<Double> scores = new ArrayList<>();
            List<Boolean> labels = new ArrayList<>();
            try (Reconstructor reconstructor = Reconstructor.create(learner.snapshot())) {
                for (int s = 0; s < fresh.count(); s++) {
                    float[][] windows = windowsEndingAt(fresh, s);
                    float[] errors = reconstructor.errors(windows);
                    for (int i = 0; i < windows.length; i++) {
                        scores.add((double) errors[i]);
                        labels.add(fresh.spiked(s, START + i));
                    }
                }
            }
            double auc = auc(scores, labels);
            LOG.info(
                    "Autoencoder newest-step error, seed {}: ROC AUC {} over {} points",
                    seed,
                    auc,
                    scores.size());
            assertTrue(auc >= MIN_AUC, "seed " + seed + ": AUC " + auc);
        }
    }

    private static void train(
            OnlineLearner learner, SineSeries training, long seed, boolean reconstruction) {
        Random random = new Random(7L + seed);
        for (int step = 0; step < 300; step++) {
            float[][] windows = new float[32][];
            float[][] targets = new float[32][1];
            for (int i = 0; i < 32; i++) {
                int s = random.nextInt(training.count());
                int t = START + random.nextInt(LENGTH - START);
                windows[i] =
                        Arrays.copyOfRange(
                                training.series(s),
                                t - WINDOW + (reconstruction ? 1 : 0),
                                t + (reconstruction ? 1 : 0));
                targets[i][0] = training.series(s)[t];
            }
            learner.train(reconstruction ? Batch.windows(windows) : Batch.values(windows, targets));
        }
    }

    /** ROC AUC: the probability that a random anomaly scores above a random ordinary point. */
    static double auc(List<Double> scores, List<Boolean> labels) {
        Integer[] order = new Integer[scores.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(scores.get(a), scores.get(b)));
        double rankSum = 0;
        long positives = 0;
        for (int i = 0; i < order.length; i++) {
            if (labels.get(order[i])) {
                rankSum += i + 1;
                positives++;
            }
        }
        long negatives = order.length - positives;
        return (rankSum - positives * (positives + 1) / 2.0) / ((double) positives * negatives);
    }

    /** For each t from START, the window before t (what a forecaster sees to predict t). */
    private static float[][] windowsBefore(SineSeries series, int s) {
        float[][] w = new float[LENGTH - START][];
        for (int t = START; t < LENGTH; t++) {
            w[t - START] = Arrays.copyOfRange(series.series(s), t - WINDOW, t);
        }
        return w;
    }

    /** For each t from START, the window ending at t (what an autoencoder scores t with). */
    private static float[][] windowsEndingAt(SineSeries series, int s) {
        float[][] w = new float[LENGTH - START][];
        for (int t = START; t < LENGTH; t++) {
            w[t - START] = Arrays.copyOfRange(series.series(s), t - WINDOW + 1, t + 1);
        }
        return w;
    }
}
