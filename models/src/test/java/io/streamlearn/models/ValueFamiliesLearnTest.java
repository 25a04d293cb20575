package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.models.ModelConfig.Family;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every NEXT_VALUE family learns noisy seasonal series beyond the naive last-value forecast:
 * trained on some series, then scored prequentially on series it has never seen. Each seed draws
 * its own series, initialisation and batches; the bound (MAE below 0.8 times the naive one) sits
 * well above the ratios measured (0.43 to 0.49 over families and seeds).
 */
class ValueFamiliesLearnTest {

    private static final Logger LOG = LoggerFactory.getLogger(ValueFamiliesLearnTest.class);

    private static final int WINDOW = 16;
    private static final int BATCH = 32;
    private static final int STEPS = 150;

    static Stream<Arguments> familiesAndSeeds() {
        return Stream.of(Family.RNN, Family.GRU, Family.LSTM, Family.ATTENTION, Family.MLP)
                .flatMap(f -> LongStream.of(3, 4, 5).mapToObj(seed -> Arguments.of(f, seed)));
    }

    @ParameterizedTest(name = "{0}, seed {1}")
    @MethodSource("familiesAndSeeds")
    void beatsTheLastValue(Family family, long seed) {
        ModelConfig config =
                ModelConfig.builder()
                        .setFamily(family)
                        .setWindow(WINDOW)
                        .optHiddenSize(24)
                        .optSeed(seed)
                        .build();
        SineSeries training = new SineSeries(1000 * seed + 1, 12, 400);
        SineSeries fresh = new SineSeries(1000 * seed + 2, 12, 400);
        long start = System.nanoTime();
        try (OnlineLearner learner = new OnlineLearner(config)) {
            for (int i = 0; i < STEPS; i++) {
                learner.train(training.next(BATCH, WINDOW).batch());
            }
            double model = 0;
            double naive = 0;
            int count = 0;
            try (Forecaster forecaster = Forecaster.create(learner.snapshot())) {
                for (int i = 0; i < 20; i++) {
                    SineSeries.Examples b = fresh.next(BATCH, WINDOW);
                    Forecasts f = forecaster.forecast(b.windows);
                    for (int r = 0; r < BATCH; r++) {
                        model += Math.abs(f.mean(r)[0] - b.targets[r][0]);
                        naive += Math.abs(b.windows[r][WINDOW - 1] - b.targets[r][0]);
                        count++;
                    }
                }
            }
            model /= count;
            naive /= count;
            LOG.info(
                    "{}, seed {}: MAE on unseen series {} vs last value {} (ratio {}), {} ms",
                    family,
                    seed,
                    String.format("%.4f", model),
                    String.format("%.4f", naive),
                    String.format("%.3f", model / naive),
                    (System.nanoTime() - start) / 1_000_000);
            assertTrue(
                    model < 0.8 * naive,
                    family + ", seed " + seed + ": model " + model + " vs naive " + naive);
        }
    }
}
