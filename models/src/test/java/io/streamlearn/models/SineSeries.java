package io.streamlearn.models;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Noisy seasonal test series: several sines with period 24, amplitudes from 1 to 20, offsets from
 * -50 to 100, random phases and Gaussian noise of 7% of the amplitude. Deterministic per seed.
 */
final class SineSeries {

    static final int PERIOD = 24;
    static final double NOISE = 0.07;

    private final float[][] values;
    private final Random sampler;

    SineSeries(long seed, int seriesCount, int length) {
        Random random = new Random(seed);
        values = new float[seriesCount][length];
        for (int s = 0; s < seriesCount; s++) {
            double amplitude = 1 + 19 * random.nextDouble();
            double offset = -50 + 150 * random.nextDouble();
            double phase = 2 * Math.PI * random.nextDouble();
            for (int t = 0; t < length; t++) {
                double clean = offset + amplitude * Math.sin(2 * Math.PI * t / PERIOD + phase);
                values[s][t] = (float) (clean + NOISE * amplitude * random.nextGaussian());
            }
        }
        sampler = new Random(seed ^ 0x5DEECE66DL);
    }

    /** A batch of (window, next value) examples at random series and times. */
    Batch next(int size, int window) {
        float[][] windows = new float[size][window];
        float[][] targets = new float[size][1];
        for (int i = 0; i < size; i++) {
            float[] series = values[sampler.nextInt(values.length)];
            int t = window + sampler.nextInt(series.length - window);
            System.arraycopy(series, t - window, windows[i], 0, window);
            targets[i][0] = series[t];
        }
        return new Batch(windows, targets);
    }

    List<Batch> batches(int count, int size, int window) {
        List<Batch> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(next(size, window));
        }
        return out;
    }

    /** One mini-batch; windows hold one feature per step. */
    static final class Batch {
        final float[][] windows;
        final float[][] targets;

        Batch(float[][] windows, float[][] targets) {
            this.windows = windows;
            this.targets = targets;
        }
    }
}
