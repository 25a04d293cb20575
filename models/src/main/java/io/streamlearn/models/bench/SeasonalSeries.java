package io.streamlearn.models.bench;

import io.streamlearn.models.SeriesNormalizer;
import java.util.Random;

/**
 * Synthetic metric series for the benchmark, like the demo's: a seasonal shape (period 48 with a
 * third harmonic) at its own level, scale and phase per series, 5% Gaussian noise and rare spikes,
 * normalised online per series. Deterministic per seed.
 */
final class SeasonalSeries {

    static final int PERIOD = 48;
    static final int HORIZON = 1000;

    private final float[][] z;

    SeasonalSeries(long seed, int series, int length, double spikeProbability) {
        Random random = new Random(seed);
        z = new float[series][length];
        for (int s = 0; s < series; s++) {
            double level = 10 + 90 * random.nextDouble();
            double scale = 1 + 9 * random.nextDouble();
            double phase = 2 * Math.PI * random.nextDouble();
            SeriesNormalizer normalizer = new SeriesNormalizer(1);
            for (int t = 0; t < length; t++) {
                double angle = 2 * Math.PI * t / PERIOD + phase;
                double x = level + scale * (Math.sin(angle) + 0.3 * Math.sin(3 * angle));
                x += scale * 0.05 * random.nextGaussian();
                if (random.nextDouble() < spikeProbability) {
                    x += scale * (3 + 2 * random.nextDouble()) * (random.nextBoolean() ? 1 : -1);
                }
                z[s][t] = normalizer.observe(new float[] {(float) x}, HORIZON)[0];
            }
        }
    }

    int series() {
        return z.length;
    }

    int length() {
        return z[0].length;
    }

    /** The normalised value of a series at a time. */
    float at(int series, int t) {
        return z[series][t];
    }

    /** The window of a series ending at t (inclusive), repeating the first value before 0. */
    float[] window(int series, int t, int window) {
        float[] w = new float[window];
        for (int i = 0; i < window; i++) {
            w[i] = z[series][Math.max(0, t - window + 1 + i)];
        }
        return w;
    }
}
