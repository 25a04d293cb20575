package io.streamlearn.models;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Noisy seasonal test series, normalised online as the job does: several sines with period 24,
 * amplitudes from 1 to 20, offsets from -50 to 100, random phases and Gaussian noise of 7% of the
 * amplitude, each passed through its own {@link SeriesNormalizer}. Deterministic per seed.
 */
final class SineSeries {

    static final int PERIOD = 24;
    static final double NOISE = 0.07;
    static final int HORIZON = 1000;

    /** Steps skipped at the start of each series: the normaliser's warm-up. */
    static final int WARM_UP = 24;

    private final float[][] z;
    private final boolean[][] spiked;
    private final Random sampler;

    SineSeries(long seed, int seriesCount, int length) {
        this(seed, seriesCount, length, 0, length);
    }

    /**
     * Series with spikes: from {@code spikesFrom} on, each point is, with probability {@code
     * spikes}, moved by 0.3 to 0.8 amplitudes up or down.
     */
    SineSeries(long seed, int seriesCount, int length, double spikes, int spikesFrom) {
        Random random = new Random(seed);
        z = new float[seriesCount][length];
        spiked = new boolean[seriesCount][length];
        for (int s = 0; s < seriesCount; s++) {
            double amplitude = 1 + 19 * random.nextDouble();
            double offset = -50 + 150 * random.nextDouble();
            double phase = 2 * Math.PI * random.nextDouble();
            SeriesNormalizer normalizer = new SeriesNormalizer(1);
            for (int t = 0; t < length; t++) {
                double x = offset + amplitude * Math.sin(2 * Math.PI * t / PERIOD + phase);
                x += NOISE * amplitude * random.nextGaussian();
                if (spikes > 0 && t >= spikesFrom && random.nextDouble() < spikes) {
                    spiked[s][t] = true;
                    x +=
                            (random.nextBoolean() ? 1 : -1)
                                    * amplitude
                                    * (0.3 + 0.5 * random.nextDouble());
                }
                z[s][t] = normalizer.observe(new float[] {(float) x}, HORIZON)[0];
            }
        }
        sampler = new Random(seed ^ 0x5DEECE66DL);
    }

    /** Whether a point of a series was spiked. */
    boolean spiked(int s, int t) {
        return spiked[s][t];
    }

    /** The normalised values of one series. */
    float[] series(int s) {
        return z[s];
    }

    int count() {
        return z.length;
    }

    /** A batch of (window, next value) examples at random series and times after the warm-up. */
    Examples next(int size, int window) {
        float[][] windows = new float[size][window];
        float[][] targets = new float[size][1];
        for (int i = 0; i < size; i++) {
            float[] series = z[sampler.nextInt(z.length)];
            int t = WARM_UP + window + sampler.nextInt(series.length - window - WARM_UP);
            System.arraycopy(series, t - window, windows[i], 0, window);
            targets[i][0] = series[t];
        }
        return new Examples(windows, targets);
    }

    List<Examples> batches(int count, int size, int window) {
        List<Examples> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(next(size, window));
        }
        return out;
    }

    /** One mini-batch of normalised values; windows hold one feature per step. */
    static final class Examples {
        final float[][] windows;
        final float[][] targets;

        Examples(float[][] windows, float[][] targets) {
            this.windows = windows;
            this.targets = targets;
        }

        Batch batch() {
            return Batch.values(windows, targets);
        }

        Batch reconstruction() {
            return Batch.windows(windows);
        }
    }
}
