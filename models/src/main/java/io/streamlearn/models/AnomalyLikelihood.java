package io.streamlearn.models;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Turns a stream of raw surprise scores (for example the absolute forecast error over its usual
 * size) into an anomaly likelihood in [0, 1], after Ahmad, Lavin, Purdy &amp; Agha (2017): the mean
 * of the last {@code shortWindow} scores is compared with the distribution (mean μ, standard
 * deviation σ) of the last {@code longWindow} scores, and the likelihood is the Gaussian
 * probability of being below it,
 *
 * <pre>L = 1 − Q((m_short − μ) / σ),   Q(z) = ½·erfc(z / √2)</pre>
 *
 * <p>so 0.5 is ordinary, values near 1 are surprising given the recent past. Until {@code
 * minHistory} scores have been seen it answers 0.5. It is causal: the likelihood of a score depends
 * only on it and the scores before it. Not thread-safe; one per series.
 *
 * <p>The job now scores with {@link AnomalyDetector}, whose state has a fixed size; this class
 * stays as the reader of the previous state format (version 1), which {@link
 * AnomalyDetector#migrate} continues.
 */
public final class AnomalyLikelihood {
    /** Format byte of {@link #encode()}. */
    public static final byte FORMAT_VERSION = 1;

    private static final double MIN_SIGMA = 1e-6;

    private final int shortWindow;
    private final int minHistory;
    private final double[] history;
    private int count;
    private int next;

    public AnomalyLikelihood(int longWindow, int shortWindow, int minHistory) {
        if (longWindow < 2) {
            throw new IllegalArgumentException("longWindow must be at least 2, got " + longWindow);
        }
        if (shortWindow < 1 || shortWindow > longWindow) {
            throw new IllegalArgumentException(
                    "shortWindow must be in [1, longWindow="
                            + longWindow
                            + "], got "
                            + shortWindow);
        }
        if (minHistory < 2 || minHistory > longWindow) {
            throw new IllegalArgumentException(
                    "minHistory must be in [2, longWindow=" + longWindow + "], got " + minHistory);
        }
        this.shortWindow = shortWindow;
        this.minHistory = minHistory;
        this.history = new double[longWindow];
    }

    /**
     * Adds one raw score and returns the likelihood of the recent scores given the history before
     * them. A non-finite score is treated as the largest score in the history.
     */
    public double update(double score) {
        double raw = Double.isFinite(score) ? Math.max(0, score) : largest();
        double likelihood = 0.5;
        if (count >= minHistory) {
            // Oldest to newest, so a restored history sums in the same order, bit for bit.
            double mean = 0;
            for (int i = count; i > 0; i--) {
                mean += history[Math.floorMod(next - i, history.length)];
            }
            mean /= count;
            double variance = 0;
            for (int i = count; i > 0; i--) {
                double d = history[Math.floorMod(next - i, history.length)] - mean;
                variance += d * d;
            }
            double sigma = Math.max(Math.sqrt(variance / (count - 1)), MIN_SIGMA);
            double recent = raw;
            int recentCount = 1;
            for (int back = 1; back < shortWindow && back <= count; back++) {
                recent += history[Math.floorMod(next - back, history.length)];
                recentCount++;
            }
            double z = (recent / recentCount - mean) / sigma;
            likelihood = 1 - 0.5 * erfc(z / Math.sqrt(2));
        }
        history[next] = raw;
        next = (next + 1) % history.length;
        count = Math.min(count + 1, history.length);
        return likelihood;
    }

    private double largest() {
        double max = 0;
        for (int i = 0; i < count; i++) {
            max = Math.max(max, history[i]);
        }
        return max;
    }

    /** The raw scores kept, oldest first. */
    double[] history() {
        double[] out = new double[count];
        for (int i = count; i > 0; i--) {
            out[count - i] = history[Math.floorMod(next - i, history.length)];
        }
        return out;
    }

    /** The history, so a series' likelihood continues exactly after a restore. */
    public byte[] encode() {
        ByteBuffer out = ByteBuffer.allocate(1 + 4 * 4 + 8 * count);
        out.put(FORMAT_VERSION).putInt(history.length).putInt(shortWindow).putInt(minHistory);
        out.putInt(count);
        for (int i = count; i > 0; i--) {
            out.putDouble(history[Math.floorMod(next - i, history.length)]);
        }
        return out.array();
    }

    public static AnomalyLikelihood decode(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        byte version = in.get();
        if (version != FORMAT_VERSION) {
            throw new IllegalArgumentException(
                    "anomaly likelihood state has format version "
                            + version
                            + "; this build reads "
                            + FORMAT_VERSION);
        }
        AnomalyLikelihood restored = new AnomalyLikelihood(in.getInt(), in.getInt(), in.getInt());
        int count = in.getInt();
        for (int i = 0; i < count; i++) {
            restored.history[i] = in.getDouble();
        }
        restored.count = count;
        restored.next = count % restored.history.length;
        return restored;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof AnomalyLikelihood other)) {
            return false;
        }
        return Arrays.equals(encode(), other.encode());
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(encode());
    }

    /**
     * Complementary error function, Chebyshev fit with fractional error below 1.2e-7 (Numerical
     * Recipes, §6.2).
     */
    static double erfc(double x) {
        double z = Math.abs(x);
        double t = 1 / (1 + 0.5 * z);
        double r =
                t
                        * Math.exp(
                                -z * z
                                        - 1.26551223
                                        + t
                                                * (1.00002368
                                                        + t
                                                                * (0.37409196
                                                                        + t
                                                                                * (0.09678418
                                                                                        + t
                                                                                                * (-0.18628806
                                                                                                        + t
                                                                                                                * (0.27886807
                                                                                                                        + t
                                                                                                                                * (-1.13520398
                                                                                                                                        + t
                                                                                                                                                * (1.48851587
                                                                                                                                                        + t
                                                                                                                                                                * (-0.82215223
                                                                                                                                                                        + t
                                                                                                                                                                                * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }
}
