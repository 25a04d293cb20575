package io.streamlearn.models;

import java.io.Serializable;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Turns one series' raw surprise scores (a forecast's error in its own standard deviations, or a
 * reconstruction error) and its values into an alert score in [0, 1], in O(1) time and fixed-size
 * state per event. Two signals vote, and the louder one counts; the steps, each measured on the
 * Numenta Anomaly Benchmark (docs/feeds/anomalies.md):
 *
 * <ol>
 *   <li><b>Forecast error, by time of day.</b> A model that sees a short window cannot foresee what
 *       happens every day at the same hour (a nightly batch job, a daily ramp): the raw score
 *       {@code r} is divided by its usual size at that hour (UTC) of the day, {@code r' = r / (m_h
 *       + 0.1)}, where {@code m_h} is an exponentially weighted mean (rate {@code max(0.05,
 *       1/n_h)}) of the raw scores seen in hour {@code h}; 0 until the hour has three.
 *   <li><b>Values, by time of day.</b> How far the values fall from their usual level at this hour,
 *       {@code |x − μ_h| / σ_h} (exponentially weighted as above; {@code σ_h} at least 5 % of the
 *       series' own deviation), averaged over the values: what a day that does not look like the
 *       others shows, even when each step is easy to forecast.
 *   <li><b>Likelihood</b> of each signal, after Ahmad, Lavin, Purdy &amp; Agha (2017): the mean
 *       {@code m} of its last {@code recent} values against its running mean {@code μ} and standard
 *       deviation {@code σ} (exponentially weighted over {@code horizon} events, a plain mean
 *       before that; {@code σ ≥ 0.05}), {@code z = (m − μ) / σ}, from {@code minHistory} values on;
 *       the larger {@code z} of the two counts. The score is the tail probability on a log scale,
 *       {@code s = min(1, −log10 Q(z) / 10)} with {@code Q(z) = ½ erfc(z/√2)}: 0.6 is a
 *       one-in-a-million surprise.
 *   <li><b>Range.</b> A value beyond the range the series has shown so far, by more than {@code
 *       rangeTolerance} of that range, scores 1.
 *   <li><b>Conservative start.</b> The first {@code warmUp} events score 0.
 *   <li><b>First step into the red zone.</b> A score at or above {@code level} is an alert; after
 *       an alert the next {@code suppression} events cannot alert. Scores that do not alert are
 *       halved and capped below {@code level} ({@code min(s, level) / 2}), so an alert feed whose
 *       threshold is at least {@code level} pages once per incident.
 * </ol>
 *
 * <p>The state is a few counters, 24 hourly means of the raw score and, per value, 24 hourly means
 * and variances, two likelihoods' {@code recent} values and the value range: no history is kept.
 * {@link #encode()} writes it with a version byte; {@link #migrate} continues a series from the
 * previous format ({@link AnomalyLikelihood}, version 1). Not thread-safe; one per series.
 */
public final class AnomalyDetector {
    /** Format byte of {@link #encode()}; version 1 was {@link AnomalyLikelihood}'s history. */
    public static final byte FORMAT_VERSION = 2;

    static final int HOURS = 24;
    private static final double HOUR_RATE = 0.05;
    private static final double HOUR_FLOOR = 0.1;
    private static final int HOUR_MIN_COUNT = 3;
    private static final double MIN_SIGMA = 0.05;
    private static final double PROFILE_FLOOR = 0.05;
    private static final long HOUR_MILLIS = 3_600_000L;

    /**
     * The detector's parameters.
     *
     * @param recent raw scores averaged before the comparison (the short window)
     * @param horizon events the running mean and variance weigh (the long window)
     * @param minHistory raw scores before the likelihood leaves 0
     * @param warmUp a series' first events that never alert
     * @param suppression events after an alert during which the series cannot alert again
     * @param rangeTolerance how far beyond the range seen so far, as a fraction of it, a value must
     *     fall to score 1; negative turns the range check off
     * @param level the score at and above which the detector alerts, in (0, 1]
     */
    public record Settings(
            int recent,
            int horizon,
            int minHistory,
            int warmUp,
            int suppression,
            double rangeTolerance,
            double level)
            implements Serializable {
        public Settings {
            if (recent < 1) {
                throw new IllegalArgumentException("recent must be at least 1, got " + recent);
            }
            if (horizon < 2) {
                throw new IllegalArgumentException("horizon must be at least 2, got " + horizon);
            }
            if (minHistory < 2) {
                throw new IllegalArgumentException(
                        "minHistory must be at least 2, got " + minHistory);
            }
            if (warmUp < 0 || suppression < 0) {
                throw new IllegalArgumentException(
                        "warmUp and suppression must not be negative, got "
                                + warmUp
                                + " and "
                                + suppression);
            }
            if (!Double.isFinite(rangeTolerance)) {
                throw new IllegalArgumentException(
                        "rangeTolerance must be a number, got " + rangeTolerance);
            }
            if (!(level > 0 && level <= 1)) {
                throw new IllegalArgumentException("level must be in (0, 1], got " + level);
            }
        }
    }

    private final Settings settings;
    private long events;
    private long sinceAlert;
    private final Likelihood forecast;
    private final Likelihood profile;
    private final double[] hourMean = new double[HOURS];
    private final int[] hourCount = new int[HOURS];
    private long valuesSeen;
    private double[] low;
    private double[] high;
    private final int[] valueHourCount = new int[HOURS];
    private double[][] valueHourMean;
    private double[][] valueHourVariance;
    private double[] valueMean;
    private double[] valueVariance;

    public AnomalyDetector(Settings settings) {
        this.settings = settings;
        this.forecast = new Likelihood(settings.recent());
        this.profile = new Likelihood(settings.recent());
        this.sinceAlert = Long.MAX_VALUE / 2;
    }

    /**
     * The likelihood of one stream of non-negative scores: the mean of the last few against the
     * running mean and variance of all of them (exponentially weighted over {@code horizon}).
     */
    private static final class Likelihood {
        final double[] recent;
        int recentCount;
        int recentNext;
        long scored;
        double mean;
        double variance;

        Likelihood(int recent) {
            this.recent = new double[recent];
        }

        /** Adds a value; returns its z against the values before it (0 before minHistory). */
        double z(double value, Settings settings) {
            recent[recentNext] = value;
            recentNext = (recentNext + 1) % recent.length;
            recentCount = Math.min(recentCount + 1, recent.length);
            double z = 0;
            if (scored >= settings.minHistory()) {
                double shortMean = 0;
                for (int i = 0; i < recentCount; i++) {
                    shortMean += recent[i];
                }
                shortMean /= recentCount;
                double sigma = Math.max(Math.sqrt(variance), MIN_SIGMA);
                z = (shortMean - Math.max(mean, 0)) / sigma;
            }
            scored++;
            double rate = 1.0 / Math.min(scored, settings.horizon());
            double d = value - mean;
            mean += rate * d;
            variance = (1 - rate) * (variance + rate * d * d);
            return z;
        }

        void encode(ByteBuffer out) {
            out.putLong(scored).putDouble(mean).putDouble(variance);
            out.putInt(recentCount).putInt(recentNext);
            for (double r : recent) {
                out.putDouble(r);
            }
        }

        void decode(ByteBuffer in) {
            scored = in.getLong();
            mean = in.getDouble();
            variance = in.getDouble();
            recentCount = in.getInt();
            recentNext = in.getInt();
            for (int i = 0; i < recent.length; i++) {
                recent[i] = in.getDouble();
            }
        }

        int bytes() {
            return 8 * 3 + 4 * 2 + 8 * recent.length;
        }
    }

    public Settings settings() {
        return settings;
    }

    /** Events scored so far. */
    long events() {
        return events;
    }

    /**
     * Scores one event.
     *
     * @param raw the event's raw surprise; null or NaN when it has none (a series' first event)
     * @param eventTimeMillis the event's time (for the hour of day)
     * @param values the observed values, in the series' units (for the range)
     * @return the alert score in [0, 1]
     */
    public double update(Double raw, long eventTimeMillis, float[] values) {
        int hour = (int) Math.floorMod(Math.floorDiv(eventTimeMillis, HOUR_MILLIS), (long) HOURS);
        double z = 0;
        if (raw != null && !Double.isNaN(raw)) {
            z = forecast.z(hourRatio(Math.max(0, raw), hour), settings);
        }
        boolean outside = outsideRange(values);
        double deviation = profileDeviation(values, hour);
        if (!Double.isNaN(deviation)) {
            z = Math.max(z, profile.z(deviation, settings));
        }
        long event = events++;
        sinceAlert = Math.min(sinceAlert + 1, Long.MAX_VALUE / 2);
        double score = outside ? 1.0 : tailScore(z);
        if (event < settings.warmUp()) {
            return 0.0;
        }
        if (score >= settings.level() && sinceAlert > settings.suppression()) {
            sinceAlert = 0;
            return score;
        }
        return Math.min(score, settings.level()) / 2;
    }

    private double hourRatio(double raw, int hour) {
        double ratio = hourCount[hour] >= HOUR_MIN_COUNT ? raw / (hourMean[hour] + HOUR_FLOOR) : 0;
        if (hourCount[hour] < Integer.MAX_VALUE) {
            hourCount[hour]++;
        }
        double rate = Math.max(HOUR_RATE, 1.0 / hourCount[hour]);
        hourMean[hour] += rate * (raw - hourMean[hour]);
        return Double.isFinite(ratio) ? ratio : 0;
    }

    /**
     * How far the values fall from their usual level at this hour of the day, in that hour's
     * standard deviations (at least 5 % of the series' own), averaged over the values; NaN until
     * the hour has three events. Then learns them.
     */
    private double profileDeviation(float[] values, int hour) {
        if (values == null || values.length == 0) {
            return Double.NaN;
        }
        int features = values.length;
        if (valueMean == null || valueMean.length != features) {
            valueHourMean = new double[features][HOURS];
            valueHourVariance = new double[features][HOURS];
            valueMean = new double[features];
            valueVariance = new double[features];
            Arrays.fill(valueHourCount, 0);
        }
        boolean judge = valueHourCount[hour] >= HOUR_MIN_COUNT;
        if (valueHourCount[hour] < Integer.MAX_VALUE) {
            valueHourCount[hour]++;
        }
        double hourRate = Math.max(HOUR_RATE, 1.0 / valueHourCount[hour]);
        double seriesRate = 1.0 / Math.max(1, Math.min(valuesSeen, settings.horizon()));
        double sum = 0;
        int counted = 0;
        for (int f = 0; f < features; f++) {
            double v = values[f];
            if (!Double.isFinite(v)) {
                continue;
            }
            if (judge) {
                double sigma =
                        Math.max(
                                Math.sqrt(valueHourVariance[f][hour]),
                                PROFILE_FLOOR * Math.sqrt(valueVariance[f]) + 1e-9);
                sum += Math.abs(v - valueHourMean[f][hour]) / sigma;
                counted++;
            }
            double d = v - valueHourMean[f][hour];
            valueHourMean[f][hour] += hourRate * d;
            valueHourVariance[f][hour] =
                    (1 - hourRate) * (valueHourVariance[f][hour] + hourRate * d * d);
            double e = v - valueMean[f];
            valueMean[f] += seriesRate * e;
            valueVariance[f] = (1 - seriesRate) * (valueVariance[f] + seriesRate * e * e);
        }
        return counted == 0 ? Double.NaN : sum / counted;
    }

    private boolean outsideRange(float[] values) {
        if (values == null || values.length == 0) {
            return false;
        }
        if (low == null || low.length != values.length) {
            low = new double[values.length];
            high = new double[values.length];
            Arrays.fill(low, Double.POSITIVE_INFINITY);
            Arrays.fill(high, Double.NEGATIVE_INFINITY);
            valuesSeen = 0;
        }
        boolean outside = false;
        boolean judge =
                settings.rangeTolerance() >= 0 && valuesSeen > 0 && valuesSeen >= settings.warmUp();
        for (int f = 0; f < values.length; f++) {
            double v = values[f];
            if (!Double.isFinite(v)) {
                continue;
            }
            double margin = settings.rangeTolerance() * (high[f] - low[f]);
            if (judge && (v > high[f] + margin || v < low[f] - margin)) {
                outside = true;
            }
            low[f] = Math.min(low[f], v);
            high[f] = Math.max(high[f], v);
        }
        valuesSeen++;
        return outside;
    }

    /** {@code min(1, −log10 Q(z) / 10)}: 0 for z ≤ 0, 0.6 at a tail of 1e-6, 1 from 1e-10. */
    static double tailScore(double z) {
        if (!(z > 0)) {
            return 0;
        }
        double tail = 0.5 * AnomalyLikelihood.erfc(z / Math.sqrt(2));
        if (!(tail > 0)) {
            return 1;
        }
        return Math.max(0, Math.min(1, -Math.log10(tail) / 10));
    }

    /** The state, so a series continues exactly after a restore. */
    public byte[] encode() {
        int features = low == null ? 0 : low.length;
        int profiled = valueMean == null ? 0 : valueMean.length;
        ByteBuffer out =
                ByteBuffer.allocate(
                        1
                                + 5 * 4
                                + 2 * 8
                                + 3 * 8
                                + forecast.bytes()
                                + profile.bytes()
                                + (8 + 4) * HOURS
                                + 4
                                + 16 * features
                                + 4 * HOURS
                                + 4
                                + profiled * (16 * HOURS + 16));
        out.put(FORMAT_VERSION);
        out.putInt(settings.recent())
                .putInt(settings.horizon())
                .putInt(settings.minHistory())
                .putInt(settings.warmUp())
                .putInt(settings.suppression());
        out.putDouble(settings.rangeTolerance()).putDouble(settings.level());
        out.putLong(events).putLong(sinceAlert).putLong(valuesSeen);
        forecast.encode(out);
        profile.encode(out);
        for (int h = 0; h < HOURS; h++) {
            out.putDouble(hourMean[h]).putInt(hourCount[h]);
        }
        out.putInt(features);
        for (int f = 0; f < features; f++) {
            out.putDouble(low[f]).putDouble(high[f]);
        }
        for (int h = 0; h < HOURS; h++) {
            out.putInt(valueHourCount[h]);
        }
        out.putInt(profiled);
        for (int f = 0; f < profiled; f++) {
            out.putDouble(valueMean[f]).putDouble(valueVariance[f]);
            for (int h = 0; h < HOURS; h++) {
                out.putDouble(valueHourMean[f][h]).putDouble(valueHourVariance[f][h]);
            }
        }
        return out.array();
    }

    /**
     * Reads a state written by {@link #encode()}.
     *
     * @throws IllegalArgumentException for another format version or a truncated state
     */
    public static AnomalyDetector decode(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            byte version = in.get();
            if (version != FORMAT_VERSION) {
                throw new IllegalArgumentException(
                        "anomaly detector state has format version "
                                + version
                                + "; this build reads "
                                + FORMAT_VERSION
                                + " (and migrates 1)");
            }
            AnomalyDetector d =
                    new AnomalyDetector(
                            new Settings(
                                    in.getInt(),
                                    in.getInt(),
                                    in.getInt(),
                                    in.getInt(),
                                    in.getInt(),
                                    in.getDouble(),
                                    in.getDouble()));
            d.events = in.getLong();
            d.sinceAlert = in.getLong();
            d.valuesSeen = in.getLong();
            d.forecast.decode(in);
            d.profile.decode(in);
            for (int h = 0; h < HOURS; h++) {
                d.hourMean[h] = in.getDouble();
                d.hourCount[h] = in.getInt();
            }
            int features = in.getInt();
            if (features > 0) {
                d.low = new double[features];
                d.high = new double[features];
                for (int f = 0; f < features; f++) {
                    d.low[f] = in.getDouble();
                    d.high[f] = in.getDouble();
                }
            }
            for (int h = 0; h < HOURS; h++) {
                d.valueHourCount[h] = in.getInt();
            }
            int profiled = in.getInt();
            if (profiled > 0) {
                d.valueMean = new double[profiled];
                d.valueVariance = new double[profiled];
                d.valueHourMean = new double[profiled][HOURS];
                d.valueHourVariance = new double[profiled][HOURS];
                for (int f = 0; f < profiled; f++) {
                    d.valueMean[f] = in.getDouble();
                    d.valueVariance[f] = in.getDouble();
                    for (int h = 0; h < HOURS; h++) {
                        d.valueHourMean[f][h] = in.getDouble();
                        d.valueHourVariance[f][h] = in.getDouble();
                    }
                }
            }
            return d;
        } catch (BufferUnderflowException | NegativeArraySizeException e) {
            throw new IllegalArgumentException(
                    "anomaly detector state is truncated (" + bytes.length + " bytes)", e);
        }
    }

    /**
     * Continues a series whose state was written by the previous format, {@link AnomalyLikelihood}
     * (version 1: its last raw scores). The raw scores replay into the forecast error's statistics
     * as if they had come at one hour of the day each, spread round the clock, and count toward the
     * warm-up; the value range and the values' hourly profile, which version 1 did not keep, start
     * again.
     */
    public static AnomalyDetector migrate(byte[] likelihoodState, Settings settings) {
        double[] history = AnomalyLikelihood.decode(likelihoodState).history();
        AnomalyDetector d = new AnomalyDetector(settings);
        for (int i = 0; i < history.length; i++) {
            d.forecast.z(d.hourRatio(Math.max(0, history[i]), i % HOURS), settings);
            d.events++;
            d.sinceAlert = Math.min(d.sinceAlert + 1, Long.MAX_VALUE / 2);
        }
        return d;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AnomalyDetector other && Arrays.equals(encode(), other.encode());
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(encode());
    }
}
