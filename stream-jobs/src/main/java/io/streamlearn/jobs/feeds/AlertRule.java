package io.streamlearn.jobs.feeds;

import java.time.Duration;
import java.time.Instant;

/**
 * When an anomaly score becomes an alert: its likelihood is at or above the threshold, and its
 * series has not alerted less than the suppression window ago, in event time, so one incident pages
 * once rather than at every point. Pure: the caller keeps each series' last alert time (the alert
 * feed in its state store, the window report in a map), so the feed and a backtest on files apply
 * exactly the same rule.
 */
public final class AlertRule {
    private final double threshold;
    private final Duration suppression;

    /**
     * @param threshold in (0, 1]
     * @param suppression zero or more; zero alerts at every score at or above the threshold
     * @throws IllegalArgumentException for a threshold or suppression out of range, naming which
     */
    public AlertRule(double threshold, Duration suppression) {
        if (!(threshold > 0 && threshold <= 1)) {
            throw new IllegalArgumentException(
                    "the alert threshold must be in (0, 1], got " + threshold);
        }
        if (suppression.isNegative()) {
            throw new IllegalArgumentException(
                    "the alert suppression must not be negative, got " + suppression);
        }
        this.threshold = threshold;
        this.suppression = suppression;
    }

    /**
     * Whether a score alerts.
     *
     * @param likelihood the anomaly likelihood; NaN never alerts
     * @param time the score's event time
     * @param lastAlert the series' last alert, null if it has none
     */
    public boolean alerts(double likelihood, Instant time, Instant lastAlert) {
        if (!(likelihood >= threshold)) {
            return false;
        }
        return lastAlert == null || Duration.between(lastAlert, time).compareTo(suppression) >= 0;
    }

    public double threshold() {
        return threshold;
    }

    public Duration suppression() {
        return suppression;
    }
}
