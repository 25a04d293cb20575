package io.streamlearn.models.metrics;

/**
 * Prequential error of value forecasts: mean absolute error and root mean squared error of each
 * forecast against the values that then arrived, averaged over features and, with an {@link Ewma}
 * of the given horizon, over recent forecasts. Not thread-safe.
 */
public final class ErrorMetrics {

    private final Ewma absolute;
    private final Ewma squared;

    /**
     * Creates the metrics.
     *
     * @param horizon forecasts of memory; {@code Long.MAX_VALUE} for all of them
     */
    public ErrorMetrics(long horizon) {
        absolute = new Ewma(horizon);
        squared = new Ewma(horizon);
    }

    /**
     * Scores one forecast.
     *
     * @param predicted the forecast values
     * @param actual the values that arrived
     * @throws IllegalArgumentException if the lengths differ or are 0
     */
    public void add(float[] predicted, float[] actual) {
        if (predicted.length != actual.length || actual.length == 0) {
            throw new IllegalArgumentException(
                    "predicted and actual must have the same, non-zero length but had "
                            + predicted.length
                            + " and "
                            + actual.length);
        }
        double abs = 0;
        double sq = 0;
        for (int i = 0; i < actual.length; i++) {
            double e = (double) predicted[i] - actual[i];
            abs += Math.abs(e);
            sq += e * e;
        }
        absolute.add(abs / actual.length);
        squared.add(sq / actual.length);
    }

    /** Returns the mean absolute error; NaN before the first forecast. */
    public double mae() {
        return absolute.value();
    }

    /** Returns the root mean squared error; NaN before the first forecast. */
    public double rmse() {
        return Math.sqrt(squared.value());
    }

    /** Returns how many forecasts were scored. */
    public long count() {
        return absolute.count();
    }
}
