package io.streamlearn.jobs.cli;

import io.streamlearn.jobs.runtime.JobWatch;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.JobListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * For {@code run}: the job restarts after each failure, as Flink's restart strategy says (by
 * default for ever: a live job should ride out a broker's or a node's outage), and this logs each
 * failure it restarts from once, as one line with its root cause, where Flink's own log repeats it
 * as stacks of wrappers. It follows the job through its client while the job runs; where the client
 * cannot say the job's status (a job submitted detached), it logs nothing.
 */
final class RestartLog implements JobListener {
    private static final Logger LOG = LoggerFactory.getLogger(RestartLog.class);
    private static final long POLL_MILLIS = 5_000;

    private final Configuration rest;

    /**
     * @param rest where the job's REST API is ({@code rest.address}, {@code rest.port}), for the
     *     failures' causes
     */
    RestartLog(Configuration rest) {
        this.rest = rest;
    }

    @Override
    public void onJobSubmitted(JobClient client, Throwable failure) {
        if (client == null) {
            return;
        }
        Thread thread = new Thread(() -> follow(client), "streamlearn-restart-log");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void onJobExecuted(JobExecutionResult result, Throwable failure) {}

    private void follow(JobClient client) {
        JobWatch watch = null;
        try {
            watch = new JobWatch(client, rest);
        } catch (Exception e) {
            LOG.debug("No REST API to read failures from: {}", e.toString());
        }
        JobStatus last = null;
        try {
            while (true) {
                JobStatus status = client.getJobStatus().get(30, TimeUnit.SECONDS);
                List<String> causes = watch == null ? List.of() : watch.newFailures();
                for (int i = 0; i < causes.size(); i++) {
                    LOG.error(
                            "The job failed (failure {} since it started) and restarts: {}",
                            watch.failures() - causes.size() + i + 1,
                            causes.get(i));
                }
                if (causes.isEmpty() && status == JobStatus.RESTARTING && last != status) {
                    LOG.error(
                            "The job failed and restarts; the cause is in the Flink web UI's"
                                    + " Exceptions tab");
                }
                if (status.isGloballyTerminalState()) {
                    return;
                }
                last = status;
                Thread.sleep(POLL_MILLIS); // the poll interval of a status, not a wait for one
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.debug("Stopped following the job's restarts: {}", e.toString());
        } finally {
            if (watch != null) {
                watch.close();
            }
        }
    }
}
