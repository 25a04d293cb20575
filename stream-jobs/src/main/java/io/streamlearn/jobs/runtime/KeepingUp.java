package io.streamlearn.jobs.runtime;

import java.time.Duration;
import java.util.Locale;

/**
 * Whether a job answers its input as fast as it arrives, from two running counts read at each
 * progress line: the events sent to it and those answered (an answer read from its output topic, or
 * a dead letter for a record it could not use). The events not yet answered are the lag; it is told
 * in events and in seconds of input at the rate they were sent.
 *
 * <p>The job keeps up while the lag is no more than {@code allowance} of input: a {@code
 * read_committed} reader sees an answer only once the checkpoint after it completes, so up to a
 * checkpoint interval (and the commit) of answers is always on its way. Beyond that it is behind,
 * and "catching up" while it answers at least as fast as events are sent, else "falling behind".
 */
final class KeepingUp {
    private final Duration allowance;
    private long lastSent;
    private long lastAnswered;
    private long lastNanos;

    /**
     * @param allowance the lag, in time of input, that still counts as keeping up
     * @param startNanos when nothing had been sent yet ({@link System#nanoTime()})
     */
    KeepingUp(Duration allowance, long startNanos) {
        this.allowance = allowance;
        this.lastNanos = startNanos;
    }

    /**
     * For a job with this checkpoint interval: it keeps up while no more than the interval and 1 s
     * of input wait for their answers.
     */
    static KeepingUp forCheckpointInterval(Duration checkpointInterval, long startNanos) {
        return new KeepingUp(checkpointInterval.plusSeconds(1), startNanos);
    }

    /**
     * The counts now; returns the answer rate since the last call and the verdict, e.g. {@code
     * "19950/s: keeping up (12000 not yet answered, 0.6 s)"} or {@code "3100/s: behind by 1234000
     * (61.7 s), falling further behind"}.
     *
     * @param sent events sent to the job so far
     * @param answered of them, those answered so far
     * @param nanos when the counts were read ({@link System#nanoTime()})
     */
    String update(long sent, long answered, long nanos) {
        long pending = Math.max(0, sent - answered);
        double seconds = Math.max(1e-9, (nanos - lastNanos) / 1e9);
        double sentPerSecond = (sent - lastSent) / seconds;
        double answeredPerSecond = (answered - lastAnswered) / seconds;
        remember(sent, answered, nanos);
        String rate = String.format(Locale.ROOT, "%.0f/s", answeredPerSecond);
        if (sentPerSecond <= 0) {
            return pending == 0
                    ? rate + ": all answered"
                    : String.format(
                            Locale.ROOT, "%s: %d not yet answered, nothing sent", rate, pending);
        }
        double lagSeconds = pending / sentPerSecond;
        if (lagSeconds <= allowance.toMillis() / 1000.0) {
            return String.format(
                    Locale.ROOT,
                    "%s: keeping up (%d not yet answered, %.1f s)",
                    rate,
                    pending,
                    lagSeconds);
        }
        return String.format(
                Locale.ROOT,
                "%s: behind by %d (%.1f s), %s",
                rate,
                pending,
                lagSeconds,
                answeredPerSecond >= sentPerSecond ? "catching up" : "falling further behind");
    }

    private void remember(long sent, long answered, long nanos) {
        lastSent = sent;
        lastAnswered = answered;
        lastNanos = nanos;
    }
}
