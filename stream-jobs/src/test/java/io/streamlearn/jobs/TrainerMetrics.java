package io.streamlearn.jobs;

import java.time.Duration;
import java.util.Map;
import org.apache.flink.api.common.JobID;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.testutils.InMemoryReporter;

/**
 * The trainer's metrics of a job on a MiniCluster that reports to an {@link InMemoryReporter}: how
 * many examples it learned ({@code examplesLearned}), skipped ({@code examplesSkipped}) and has
 * waiting for a step ({@code trainerBacklog}), as an operator reads them.
 */
final class TrainerMetrics {
    private final InMemoryReporter reporter;
    private final JobID job;

    TrainerMetrics(InMemoryReporter reporter, JobID job) {
        this.reporter = reporter;
        this.job = job;
    }

    /** The sum of the job's counters and numeric gauges of this name (0 before they exist). */
    long value(String name) {
        long sum = 0;
        for (Map.Entry<MetricGroup, Map<String, Metric>> group :
                reporter.getMetricsByGroup().entrySet()) {
            if (!job.toString().equals(group.getKey().getAllVariables().get("<job_id>"))) {
                continue;
            }
            Metric metric = group.getValue().get(name);
            if (metric instanceof Counter counter) {
                sum += counter.getCount();
            } else if (metric instanceof Gauge<?> gauge
                    && gauge.getValue() instanceof Number number) {
                sum += number.longValue();
            }
        }
        return sum;
    }

    /** Examples the trainer has taken in: learned, skipped by its keep-up policy, or waiting. */
    long taken() {
        return value("examplesLearned") + value("examplesSkipped") + value("trainerBacklog");
    }

    /**
     * Waits until the trainer has taken in at least {@code examples} and fewer than a batch of them
     * wait for a step: it has learned (or skipped) all it can so far.
     *
     * @throws AssertionError after {@code timeout}, with the counts seen last
     */
    void awaitCaughtUp(long examples, int batchSize, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (taken() < examples || value("trainerBacklog") >= batchSize) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(
                        String.format(
                                "the trainer did not catch up with %d examples within %s: learned"
                                        + " %d, skipped %d, waiting %d",
                                examples,
                                timeout,
                                value("examplesLearned"),
                                value("examplesSkipped"),
                                value("trainerBacklog")));
            }
            Thread.sleep(50);
        }
    }
}
