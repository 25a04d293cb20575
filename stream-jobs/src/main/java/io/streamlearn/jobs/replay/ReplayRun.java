package io.streamlearn.jobs.replay;

import io.streamlearn.jobs.JobSettings;
import io.streamlearn.jobs.Jobs;
import io.streamlearn.jobs.StreamlearnOptions;
import io.streamlearn.jobs.runtime.EmbeddedRuntime;
import io.streamlearn.jobs.runtime.EventProducer;
import io.streamlearn.jobs.runtime.JobWatch;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * One replay on the embedded runtime, as {@code demo} runs its jobs: the history is produced to the
 * job's input topic in time order, the job (the same one {@code run} starts) reads it to its end
 * with event-time alignment, and its output is read as a {@code read_committed} consumer would,
 * while a progress line shows events done, events/s, the job's restarts (if any) and the caller's
 * current figures.
 *
 * <p>The input ends with a marker ({@link #END_OF_INPUT}): one event of an entity of its own, just
 * after the last event. With the watermark right behind the newest event, the marker moves it past
 * every real event, the last ones too (they may share a timestamp), so each is answered, by a model
 * trained only on earlier events, while the job runs and its checkpoints commit the answers. The
 * marker's own answer never comes (no event follows it), and as its entity's first event it is no
 * training example; once every real event is answered the replay cancels the job. (Ending the
 * source instead, or stopping the job with a draining savepoint, moves the watermark to the end of
 * time as well, but in Flink 2.2 the tasks then finished without committing the sinks' last
 * transactions when the checkpoints in flight were declined as tasks closed: replays at the default
 * item capacity ended with 0, 864 of 1500 or 15130 of 16000 answers.) A job that keeps failing
 * stops after {@link JobWatch#BOUNDED_RESTARTS} restarts, and the replay fails with the root cause.
 */
final class ReplayRun {
    /** The entity of the end-of-input marker. */
    static final String END_OF_INPUT = "streamlearn-end-of-input";

    private static final long PROGRESS_NANOS = 2_000_000_000L;

    /** How long after the first answers the rate shown leaves out the start-up. */
    private static final long STEADY_NANOS = 10_000_000_000L;

    /** How long the results may take to appear after the job has finished. */
    private static final long SETTLE_NANOS = 30_000_000_000L;

    private ReplayRun() {}

    /**
     * The job's configuration: the runtime's, the user's keys, then what makes a replay a backtest:
     * event-time alignment, with the watermark right behind the newest event (the input is in time
     * order) and no idleness (the input ends instead). Unless the user's keys set it, the state
     * keeps no time-to-live: Flink's TTL counts processing time, and no replay runs the days it
     * takes an entity's state to expire ({@code streamlearn.state.ttl}, 7 days), so it would remove
     * nothing and change no answer, but its cleanup visits the keyed state at every access of it
     * (about a tenth of the predictor's CPU in {@code replay anomaly}; docs/benchmarks.md).
     */
    static Configuration configuration(EmbeddedRuntime runtime, Map<String, String> keys) {
        return backtest(runtime.configuration(), keys);
    }

    /** {@link #configuration} on top of {@code conf} (the runtime's), which it changes. */
    static Configuration backtest(Configuration conf, Map<String, String> keys) {
        conf.addAll(Configuration.fromMap(keys));
        if (!conf.contains(StreamlearnOptions.STATE_TTL)) {
            conf.set(StreamlearnOptions.STATE_TTL, Duration.ZERO);
        }
        conf.set(StreamlearnOptions.TIME_ALIGNMENT, "event-time");
        conf.set(StreamlearnOptions.MAX_OUT_OF_ORDERNESS, Duration.ZERO);
        conf.set(StreamlearnOptions.IDLENESS, Duration.ZERO);
        JobWatch.boundRestarts(conf);
        return conf;
    }

    /**
     * Produces the input, runs the job to the end of it and hands every output record to {@code
     * onOutput}, in the topic's order, until there is one per input record.
     *
     * @param build builds the job on Kafka ({@link Jobs#buildWithKafka} or a variant of it)
     */
    static void run(
            EmbeddedRuntime runtime,
            Configuration conf,
            JobSettings settings,
            List<EventProducer.Message> input,
            EventProducer.Message endMarker,
            BiConsumer<StreamExecutionEnvironment, JobSettings> build,
            String outputTopic,
            Consumer<byte[]> onOutput,
            Supplier<String> figures,
            PrintStream out)
            throws Exception {
        runtime.createTopics(settings);
        Jobs.checkKafka(settings);
        String inputTopic =
                settings.recommends() ? settings.interactionsTopic() : settings.eventsTopic();
        List<EventProducer.Message> withMarker = new ArrayList<>(input);
        withMarker.add(endMarker);
        Iterator<EventProducer.Message> messages = withMarker.iterator();
        EventProducer.run(
                settings.kafka(),
                inputTopic,
                messages::next,
                Integer.MAX_VALUE,
                0,
                withMarker.size(),
                new AtomicLong(),
                new AtomicBoolean());

        StreamExecutionEnvironment env = runtime.environment(conf);
        build.accept(env, settings);
        JobClient job = env.executeAsync("streamlearn replay");
        out.printf(
                Locale.ROOT,
                "Replaying %d events through %s (Flink web UI %s, job %s)%n",
                input.size(),
                settings.model().family().name().toLowerCase(Locale.ROOT),
                runtime.webUi(),
                job.getJobID());
        CompletableFuture<?> finished = job.getJobExecutionResult();
        try (JobWatch watch = new JobWatch(job, conf)) {
            try {
                follow(finished, watch, input.size(), outputTopic, runtime, onOutput, figures, out);
            } catch (ExecutionException e) {
                printFailures(watch, out);
                throw JobWatch.failed(e.getCause());
            }
        } finally {
            if (!finished.isDone()) {
                job.cancel().get(); // every event answered: what is left is the marker's
            }
        }
    }

    /** Prints each failure the job restarted from, once, numbered. */
    private static void printFailures(JobWatch watch, PrintStream out) {
        List<String> causes = watch.newFailures();
        for (int i = 0; i < causes.size(); i++) {
            out.printf(
                    Locale.ROOT,
                    "       the job failed (failure %d; it restarts at most %d times): %s%n",
                    watch.failures() - causes.size() + i + 1,
                    JobWatch.BOUNDED_RESTARTS,
                    causes.get(i));
        }
    }

    private static void follow(
            CompletableFuture<?> finished,
            JobWatch watch,
            long total,
            String outputTopic,
            EmbeddedRuntime runtime,
            Consumer<byte[]> onOutput,
            Supplier<String> figures,
            PrintStream out)
            throws Exception {
        long done = 0;
        long start = System.nanoTime();
        long lastPrint = start;
        // The rate is a mean since the first answers were read, not over the last line's 2 s:
        // answers become readable at checkpoints (2 s apart by default), so a 2 s window holds one
        // checkpoint's answers or two, and the rate printed flipped between half and double. Until
        // those answers are STEADY_NANOS old it is the mean since the start, as a short replay's
        // first read may hold nearly all of it.
        long firstAt = 0;
        long doneAtFirst = 0;
        long finishedAt = 0;
        long doneAtFinish = 0;
        try (KafkaConsumer<byte[], byte[]> consumer =
                runtime.readFromStart(outputTopic, "read_committed")) {
            while (done < total) {
                for (ConsumerRecord<byte[], byte[]> record :
                        consumer.poll(Duration.ofMillis(300))) {
                    onOutput.accept(record.value());
                    done++;
                }
                long now = System.nanoTime();
                if (firstAt == 0 && done > 0) {
                    firstAt = now;
                    doneAtFirst = done;
                }
                if (now - lastPrint >= PROGRESS_NANOS) {
                    printFailures(watch, out);
                    out.printf(
                            Locale.ROOT,
                            "[%4ds] events done %8d / %d (%5.0f/s)%s | %s%n",
                            Duration.ofNanos(now - start).toSeconds(),
                            done,
                            total,
                            rate(done, doneAtFirst, start, firstAt, now),
                            watch.failures() == 0 ? "" : " | restarts " + watch.failures(),
                            figures.get());
                    lastPrint = now;
                }
                if (finished.isDone()) {
                    finished.get(); // a failed job throws here
                    // Its last transaction commits with the final checkpoint, which may land
                    // just after the job reports its end: wait while results still come.
                    if (done > doneAtFinish || finishedAt == 0) {
                        finishedAt = now;
                        doneAtFinish = done;
                    } else if (now - finishedAt > SETTLE_NANOS) {
                        printFailures(watch, out);
                        throw new IllegalStateException(
                                "the job finished with "
                                        + done
                                        + " results for "
                                        + total
                                        + " events; see the log");
                    }
                }
            }
        }
        // Every event answered; the job, still running behind the end marker, is cancelled next.
        printFailures(watch, out);
        long end = System.nanoTime();
        boolean steady = firstAt != 0 && end - firstAt >= STEADY_NANOS;
        out.printf(
                Locale.ROOT,
                "[%4ds] events done %8d / %d (%5.0f/s %s) | %s%n",
                Duration.ofNanos(end - start).toSeconds(),
                done,
                total,
                rate(done, doneAtFirst, start, firstAt, end),
                steady ? "after the first answers" : "with start-up",
                figures.get());
    }

    /**
     * Events per second: since the first answers once they are {@link #STEADY_NANOS} old (the
     * events they held not counted), else since the start.
     */
    private static double rate(long done, long doneAtFirst, long start, long firstAt, long now) {
        if (firstAt != 0 && now - firstAt >= STEADY_NANOS) {
            return (done - doneAtFirst) / ((now - firstAt) / 1e9);
        }
        return now <= start ? 0 : done / ((now - start) / 1e9);
    }
}
