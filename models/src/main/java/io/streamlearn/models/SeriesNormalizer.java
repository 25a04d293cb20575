package io.streamlearn.models;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;

/**
 * The online per-series scale that puts every series into the units models work in: z = (x - m) /
 * s, clipped to +-{@value #Z_CLIP}, with m and s an exponentially weighted mean and standard
 * deviation of the series' past values.
 *
 * <p>Each observation x updates the statistics with weight {@code a = max(1 / n, 1 / horizon)} (n
 * counts observations, this one included), using the incremental form of Finch (2009):
 *
 * <pre>
 * d = x - m      m = m + a d      v = (1 - a) (v + a d^2)      s = max(sqrt(v), 1e-3 |m|, 1e-6)
 * </pre>
 *
 * so the first {@code horizon} observations are weighted equally (a cumulative mean and the
 * population variance: the warm-up) and later ones forget with a time constant of {@code horizon}
 * observations. The floor keeps a flat series finite.
 *
 * <p>Why per series and online, not per window: a value's z is computed once, when it arrives, from
 * the statistics before it ({@link #observe}), so the encoding of past steps never changes. That is
 * what lets a recurrent model carry its hidden state from one event to the next (one step per
 * event) and lets series whose scales differ by orders of magnitude share one model. A forecast
 * made in z units is turned back with the statistics after the last observation ({@link
 * #denormalize}), which are the ones the next value will be normalised with.
 *
 * <p>Not thread-safe; one per series (the job keeps it in keyed state through {@link #encode()}).
 */
public final class SeriesNormalizer {

    /** Format byte of {@link #encode()}. */
    public static final byte FORMAT_VERSION = 1;

    /** Largest magnitude of a normalised value. */
    public static final float Z_CLIP = 10f;

    /** Floor of the scale relative to the mean's magnitude. */
    static final double RELATIVE_FLOOR = 1e-3;

    /** Absolute floor of the scale. */
    static final double ABSOLUTE_FLOOR = 1e-6;

    private final double[] mean;
    private final double[] variance;
    private long count;

    /**
     * Creates a normalizer that has seen nothing.
     *
     * @param features values per observation, at least 1
     */
    public SeriesNormalizer(int features) {
        if (features < 1) {
            throw new IllegalArgumentException("features must be at least 1 but was " + features);
        }
        mean = new double[features];
        variance = new double[features];
    }

    /** Returns the values per observation. */
    public int features() {
        return mean.length;
    }

    /** Returns how many observations updated the statistics. */
    public long count() {
        return count;
    }

    /** Returns the current mean of one feature (0 before any observation). */
    public double mean(int feature) {
        return mean[feature];
    }

    /** Returns the current scale of one feature, floored (see the class comment). */
    public double scale(int feature) {
        double s = Math.sqrt(variance[feature]);
        return Math.max(s, Math.max(RELATIVE_FLOOR * Math.abs(mean[feature]), ABSOLUTE_FLOOR));
    }

    /**
     * Normalises one observation with the statistics as they are, without updating them.
     *
     * @param x one value per feature
     * @return z per feature, clipped; all 0 before the first observation; NaN where x is NaN
     */
    public float[] normalize(float[] x) {
        checkLength(x);
        float[] z = new float[x.length];
        if (count == 0) {
            for (int f = 0; f < x.length; f++) {
                z[f] = Float.isNaN(x[f]) ? Float.NaN : 0f;
            }
            return z;
        }
        for (int f = 0; f < x.length; f++) {
            double v = (x[f] - mean[f]) / scale(f);
            z[f] = (float) Math.max(-Z_CLIP, Math.min(Z_CLIP, v));
        }
        return z;
    }

    /**
     * Normalises an observation with the statistics before it, then updates them with it: the z a
     * model sees for this value, now and whenever it is in a later window.
     *
     * @param x one value per feature, finite
     * @param horizon the memory of the statistics in observations, at least 1
     * @return z per feature, clipped
     * @throws IllegalArgumentException if a value is not finite or the horizon is below 1
     */
    public float[] observe(float[] x, int horizon) {
        float[] z = normalize(x);
        update(x, horizon);
        return z;
    }

    /**
     * Updates the statistics with an observation.
     *
     * @param x one value per feature, finite
     * @param horizon the memory of the statistics in observations, at least 1
     * @throws IllegalArgumentException if a value is not finite or the horizon is below 1
     */
    public void update(float[] x, int horizon) {
        checkLength(x);
        if (horizon < 1) {
            throw new IllegalArgumentException("horizon must be at least 1 but was " + horizon);
        }
        for (int f = 0; f < x.length; f++) {
            if (!Float.isFinite(x[f])) {
                throw new IllegalArgumentException(
                        "x[" + f + "] must be finite to update the statistics but was " + x[f]);
            }
        }
        count++;
        double a = Math.max(1.0 / count, 1.0 / horizon);
        for (int f = 0; f < x.length; f++) {
            double d = x[f] - mean[f];
            mean[f] += a * d;
            variance[f] = (1 - a) * (variance[f] + a * d * d);
        }
    }

    /**
     * Turns normalised values back into the series' units with the current statistics.
     *
     * @param z one value per feature
     * @return m + s z per feature
     */
    public float[] denormalize(float[] z) {
        checkLength(z);
        float[] x = new float[z.length];
        for (int f = 0; f < z.length; f++) {
            x[f] = (float) (mean[f] + scale(f) * z[f]);
        }
        return x;
    }

    private void checkLength(float[] x) {
        if (x == null || x.length != mean.length) {
            throw new IllegalArgumentException(
                    "expected "
                            + mean.length
                            + " values but got "
                            + (x == null ? "null" : x.length));
        }
    }

    /**
     * Encodes the statistics: format byte, int features, long count, then per feature the mean and
     * the variance as raw IEEE-754 doubles, big-endian.
     *
     * @return the bytes
     */
    public byte[] encode() {
        ByteBuffer buf = ByteBuffer.allocate(1 + 4 + 8 + 16 * mean.length);
        buf.put(FORMAT_VERSION).putInt(mean.length).putLong(count);
        for (int f = 0; f < mean.length; f++) {
            buf.putLong(Double.doubleToRawLongBits(mean[f]));
            buf.putLong(Double.doubleToRawLongBits(variance[f]));
        }
        return buf.array();
    }

    /**
     * Decodes bytes written by {@link #encode()}.
     *
     * @param bytes the encoded statistics
     * @return the normalizer
     * @throws IllegalArgumentException if the format is unknown or the bytes are malformed
     */
    public static SeriesNormalizer decode(byte[] bytes) {
        ByteBuffer buf = Codecs.open(bytes, "SeriesNormalizer", FORMAT_VERSION);
        try {
            int features = buf.getInt();
            if (features < 1 || features > buf.remaining() / 16) {
                throw new IllegalArgumentException(
                        "SeriesNormalizer bytes are corrupt: " + features + " features");
            }
            SeriesNormalizer n = new SeriesNormalizer(features);
            n.count = buf.getLong();
            if (n.count < 0) {
                throw new IllegalArgumentException(
                        "SeriesNormalizer bytes are corrupt: count " + n.count);
            }
            for (int f = 0; f < features; f++) {
                n.mean[f] = Double.longBitsToDouble(buf.getLong());
                n.variance[f] = Double.longBitsToDouble(buf.getLong());
            }
            if (buf.hasRemaining()) {
                throw new IllegalArgumentException(
                        "SeriesNormalizer bytes are corrupt: "
                                + buf.remaining()
                                + " unexpected trailing bytes");
            }
            return n;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException(
                    "SeriesNormalizer bytes are truncated: " + bytes.length + " bytes", e);
        }
    }
}
