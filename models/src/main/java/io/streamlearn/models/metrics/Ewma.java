package io.streamlearn.models.metrics;

/**
 * A running mean that forgets: each value x moves the mean m by {@code a (x - m)} with {@code a =
 * max(1 / n, 1 / horizon)}, n counting values. The first {@code horizon} values are averaged
 * equally (no start-up bias towards 0), later ones weigh like an exponentially weighted moving
 * average with a time constant of {@code horizon} values. {@link #cumulative()} never forgets.
 *
 * <p>The prequential metrics are built on it: the online loss is an {@code Ewma} of the losses of
 * predictions scored as their truth arrives. Not thread-safe.
 */
public final class Ewma {

    private final long horizon;
    private long count;
    private double value = Double.NaN;

    /**
     * Creates an average with the given memory.
     *
     * @param horizon values of memory, at least 1
     */
    public Ewma(long horizon) {
        if (horizon < 1) {
            throw new IllegalArgumentException("horizon must be at least 1 but was " + horizon);
        }
        this.horizon = horizon;
    }

    /** Returns an average of every value ever added. */
    public static Ewma cumulative() {
        return new Ewma(Long.MAX_VALUE);
    }

    /**
     * Adds a value; a NaN is ignored (it would poison every later value).
     *
     * @param x the value
     */
    public void add(double x) {
        if (Double.isNaN(x)) {
            return;
        }
        count++;
        if (count == 1) {
            value = x;
            return;
        }
        double a = Math.max(1.0 / count, 1.0 / horizon);
        value += a * (x - value);
    }

    /** Returns the average; NaN before the first value. */
    public double value() {
        return value;
    }

    /** Returns how many values were added. */
    public long count() {
        return count;
    }
}
