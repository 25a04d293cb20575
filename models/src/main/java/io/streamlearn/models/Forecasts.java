package io.streamlearn.models;

/**
 * Gaussian forecasts of the next normalised values of a batch of series, from {@link Forecaster}:
 * per row and feature a mean and a log-variance in the units of {@link SeriesNormalizer}, and for
 * recurrent models each series' new {@link RecurrentState}.
 */
public final class Forecasts {

    private static final double LOG_TWO_PI = Math.log(2 * Math.PI);

    private final int rows;
    private final int features;
    private final float[] mean;
    private final float[] logVariance;
    private final RecurrentState[] states;

    Forecasts(int rows, int features, float[] mean, float[] logVariance, RecurrentState[] states) {
        this.rows = rows;
        this.features = features;
        this.mean = mean;
        this.logVariance = logVariance;
        this.states = states;
    }

    /** The first {@code n} rows: drops the filler rows of {@link RowBlocks}. */
    Forecasts head(int n) {
        if (n == rows) {
            return this;
        }
        return new Forecasts(
                n,
                features,
                java.util.Arrays.copyOf(mean, n * features),
                java.util.Arrays.copyOf(logVariance, n * features),
                states == null ? null : java.util.Arrays.copyOf(states, n));
    }

    /** Returns the number of rows. */
    public int size() {
        return rows;
    }

    /** Returns the values per row. */
    public int features() {
        return features;
    }

    /** Returns a row's predicted means (normalised units). */
    public float[] mean(int row) {
        float[] out = new float[features];
        System.arraycopy(mean, row * features, out, 0, features);
        return out;
    }

    /** Returns a row's predicted log-variances (normalised units). */
    public float[] logVariance(int row) {
        float[] out = new float[features];
        System.arraycopy(logVariance, row * features, out, 0, features);
        return out;
    }

    /** Returns a row's predicted standard deviations, exp(logVariance / 2). */
    public float[] stdDev(int row) {
        float[] out = new float[features];
        for (int f = 0; f < features; f++) {
            out[f] = (float) Math.exp(0.5 * logVariance[row * features + f]);
        }
        return out;
    }

    /** Returns a row's new recurrent state, or null for a model without one. */
    public RecurrentState state(int row) {
        return states == null ? null : states[row];
    }

    /**
     * Returns a row's surprise at observed normalised values; see {@link #surprise(float[],
     * float[], float[])}.
     */
    public double surprise(int row, float[] observed) {
        return surprise(mean(row), logVariance(row), observed);
    }

    /**
     * The surprise of observed values under a Gaussian forecast: the negative log-likelihood,
     * summed over features,
     *
     * <pre>
     * sum_f 0.5 (ln 2 pi + lv_f + (z_f - mu_f)^2 / exp(lv_f))
     * </pre>
     *
     * in normalised units, so it is comparable across series of any scale. It grows with the
     * squared error measured in the forecast's own standard deviations; the anomaly score of a
     * value (see {@link AnomalyLikelihood}).
     *
     * @param mean predicted means
     * @param logVariance predicted log-variances
     * @param observed the observed normalised values
     * @return the surprise; NaN if an input is NaN
     */
    public static double surprise(float[] mean, float[] logVariance, float[] observed) {
        if (mean.length != observed.length || logVariance.length != observed.length) {
            throw new IllegalArgumentException(
                    "mean, logVariance and observed must have the same length");
        }
        double nll = 0;
        for (int f = 0; f < observed.length; f++) {
            double e = observed[f] - mean[f];
            nll += 0.5 * (LOG_TWO_PI + logVariance[f] + e * e * Math.exp(-logVariance[f]));
        }
        return nll;
    }
}
