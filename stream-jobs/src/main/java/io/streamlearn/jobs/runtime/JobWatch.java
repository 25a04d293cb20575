package io.streamlearn.jobs.runtime;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.flink.client.deployment.StandaloneClusterId;
import org.apache.flink.client.program.rest.RestClusterClient;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.rest.messages.EmptyRequestBody;
import org.apache.flink.runtime.rest.messages.JobExceptionsHeaders;
import org.apache.flink.runtime.rest.messages.JobExceptionsInfoWithHistory;
import org.apache.flink.runtime.rest.messages.job.JobExceptionsMessageParameters;
import org.apache.flink.util.SerializedThrowable;

/**
 * Follows a running job's failures through Flink's REST API (the job's exception history, what the
 * web UI's Exceptions tab shows): how often it has restarted, and each failure's root cause as one
 * line. A job that restarts shows it here instead of looking merely slow; {@code replay} and {@code
 * demo} print the count with their progress, {@code run} logs each cause once.
 */
public final class JobWatch implements AutoCloseable {
    /** Restarts {@code replay} and {@code demo} allow before they give up on a job. */
    public static final int BOUNDED_RESTARTS = 2;

    /**
     * Seconds between those restarts: long enough for a passing outage to pass, and for each
     * failure to show in the progress before the next.
     */
    public static final int RESTART_DELAY_SECONDS = 5;

    private static final Set<String> OURS =
            Set.of(IllegalStateException.class.getName(), IllegalArgumentException.class.getName());

    private final JobClient job;
    private final RestClusterClient<StandaloneClusterId> rest;
    private final CompletableFuture<?> ended;
    private int seen;

    /**
     * @param restConfiguration where the job's REST API is ({@code rest.address}, {@code
     *     rest.port})
     */
    public JobWatch(JobClient job, Configuration restConfiguration) throws Exception {
        this.job = job;
        this.rest = new RestClusterClient<>(restConfiguration, StandaloneClusterId.getInstance());
        this.ended = job.getJobExecutionResult();
    }

    /**
     * A bounded restart strategy, for runs that end ({@code replay}) or that a person watches
     * ({@code demo}): a failure that recurs stops the job instead of restarting it for ever. Keys
     * the configuration already has win.
     */
    public static void boundRestarts(Configuration conf) {
        if (!conf.contains(RestartStrategyOptions.RESTART_STRATEGY)) {
            conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
            conf.set(
                    RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, BOUNDED_RESTARTS);
            conf.set(
                    RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY,
                    Duration.ofSeconds(RESTART_DELAY_SECONDS));
        }
    }

    /**
     * The root causes of the failures since the last call, oldest first, one line each. Empty once
     * the job has ended, or when the REST API does not answer.
     */
    public List<String> newFailures() {
        if (ended.isDone()) {
            return List.of(); // an embedded cluster goes with its job: nothing would answer
        }
        JobExceptionsMessageParameters parameters =
                JobExceptionsHeaders.getInstance().getUnresolvedMessageParameters();
        parameters.jobPathParameter.resolve(job.getJobID());
        JobExceptionsInfoWithHistory history;
        try {
            history =
                    rest.sendRequest(
                                    JobExceptionsHeaders.getInstance(),
                                    parameters,
                                    EmptyRequestBody.getInstance())
                            .get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            return List.of();
        }
        // Newest first in the history.
        List<JobExceptionsInfoWithHistory.RootExceptionInfo> entries =
                history.getExceptionHistory().getEntries();
        List<String> causes = new ArrayList<>();
        for (int i = entries.size() - seen - 1; i >= 0; i--) {
            causes.add(rootCause(entries.get(i).getStacktrace()));
        }
        seen = Math.max(seen, entries.size());
        return causes;
    }

    /**
     * What to throw once the job has failed for good: the root cause of its last failure, in one
     * line. (The failures it restarted from were shown as they came.)
     */
    public static IllegalStateException failed(Throwable failure) {
        return new IllegalStateException("the job failed: " + rootCause(failure), failure);
    }

    /** Failures seen so far by {@link #newFailures}: the job's restarts, while it runs. */
    public int failures() {
        return seen;
    }

    /**
     * The innermost cause of a failure, as one line: its message for the errors this project throws
     * with a message meant for users, else its class and message.
     */
    public static String rootCause(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String name =
                root instanceof SerializedThrowable serialized
                        ? serialized.getOriginalErrorClassName()
                        : root.getClass().getName();
        return line(name, root.getMessage());
    }

    /** The same, from a stack trace as text: its last "Caused by:", else its first line. */
    static String rootCause(String stacktrace) {
        String cause = stacktrace.lines().findFirst().orElse("");
        for (String line : stacktrace.lines().toList()) {
            if (line.startsWith("Caused by: ")) {
                cause = line.substring("Caused by: ".length());
            }
        }
        int colon = cause.indexOf(": ");
        return colon < 0 ? cause : line(cause.substring(0, colon), cause.substring(colon + 2));
    }

    private static String line(String className, String message) {
        if (message == null || message.isBlank()) {
            return className;
        }
        String first = message.lines().findFirst().orElse("");
        return OURS.contains(className) ? first : className + ": " + first;
    }

    @Override
    public void close() {
        rest.close();
    }
}
