package io.streamlearn.jobs.runtime;

import io.streamlearn.jobs.JobSettings;
import io.streamlearn.jobs.Jobs;
import io.streamlearn.jobs.KafkaClientProperties;
import io.streamlearn.jobs.StreamlearnOptions;
import io.streamlearn.jobs.feeds.FeedApp;
import io.streamlearn.jobs.feeds.FeedOptions;
import io.streamlearn.jobs.replay.RankingEvaluation;
import io.streamlearn.models.ModelConfig;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The embedded default: both feeds at once on the {@link EmbeddedRuntime}. Generated metric series
 * (seasonal, with noise, spikes and the odd malformed record) go through the metrics job, which
 * forecasts them and scores every event's anomaly likelihood, and the alert feed (Kafka Streams, in
 * this process) turns the scores into alerts. A generated clickstream (Markov, {@link
 * ClickstreamGenerator}) goes through the recommendation job. Both pipelines run in one Flink job;
 * every five seconds two progress lines show what a consumer of the output topics sees.
 */
public final class Demo {
    /** Users and clicks: the clickstream's rate is this share of the metrics' rate. */
    private static final int CLICKS_SHARE = 2;

    /** What {@code streamlearn demo} runs without options. */
    public static final Duration DEFAULT_DURATION = Duration.ofSeconds(60);

    public static final int DEFAULT_RATE = 400;
    public static final int DEFAULT_SERIES = 8;
    public static final String DEFAULT_RECOMMENDER = "gru";

    private final Duration duration;
    private final int eventsPerSecond;
    private final int series;
    private final String family;
    private final String recommender;
    private final PrintStream out;

    /**
     * @param family the forecaster's network: a {@code streamlearn.model.family} value
     * @param recommender the next-item model's network
     */
    public Demo(
            Duration duration,
            int eventsPerSecond,
            int series,
            String family,
            String recommender,
            PrintStream out) {
        this.duration = duration;
        this.eventsPerSecond = eventsPerSecond;
        this.series = series;
        if (!ModelConfig.parseFamily(family).supports(ModelConfig.Task.NEXT_VALUE)) {
            throw new IllegalArgumentException(
                    "--model must be rnn, gru, lstm, attention or mlp (a next-value forecaster)"
                            + " but was '"
                            + family
                            + "'");
        }
        if (!ModelConfig.parseFamily(recommender).supports(ModelConfig.Task.NEXT_ITEM)) {
            throw new IllegalArgumentException(
                    "--recommender must be rnn, gru, lstm, attention or mlp but was '"
                            + recommender
                            + "'");
        }
        this.family = family;
        this.recommender = recommender;
        this.out = out;
    }

    /** Runs until the duration is over or {@code stop} turns true, then cleans up everything. */
    public void run(AtomicBoolean stop) throws Exception {
        out.println("streamlearn demo: starting an embedded Kafka broker (KRaft) ...");
        Path feedState = Files.createTempDirectory("streamlearn-feed-");
        try (EmbeddedRuntime runtime = EmbeddedRuntime.start()) {
            Configuration metricsConf = runtime.configuration();
            metricsConf.set(StreamlearnOptions.FAMILY, family);
            JobWatch.boundRestarts(metricsConf);
            JobSettings metrics = JobSettings.from(metricsConf);
            JobSettings clicks = JobSettings.from(clicksConfiguration(runtime, recommender));
            runtime.createTopics(metrics, clicks);
            Configuration feedConf = runtime.configuration();
            feedConf.set(FeedOptions.HTTP_PORT, 0);
            feedConf.set(FeedOptions.STATE_DIR, feedState.toString());
            String alertsTopic = feedConf.get(FeedOptions.ANOMALY_ALERTS_TOPIC);
            runtime.kafka()
                    .createTopics(
                            1, alertsTopic, feedConf.get(FeedOptions.FEED_DEAD_LETTERS_TOPIC));
            out.printf(
                    Locale.ROOT,
                    "Kafka:       %s  topics: %s -> %s, %s -> %s; %s -> %s; %s, %s, %s%n",
                    runtime.bootstrapServers(),
                    metrics.eventsTopic(),
                    metrics.predictionsTopic(),
                    metrics.anomalyScoresTopic(),
                    alertsTopic,
                    clicks.interactionsTopic(),
                    clicks.recommendationsTopic(),
                    metrics.deadLettersTopic(),
                    metrics.modelsTopic(),
                    clicks.modelsTopic());

            Jobs.checkKafka(metrics);
            Jobs.checkKafka(clicks);
            StreamExecutionEnvironment env = runtime.environment(metricsConf);
            Jobs.buildWithKafka(env, metrics);
            Jobs.buildWithKafka(env, clicks);
            JobClient job = env.executeAsync("streamlearn demo");
            JobWatch watch = new JobWatch(job, metricsConf);
            out.println("Flink web UI: " + runtime.webUi() + "  (job " + job.getJobID() + ")");
            try (FeedApp alerts = FeedApp.start(FeedApp.Feed.ALERTS, feedConf)) {
                out.printf(
                        Locale.ROOT,
                        "Alert feed:  http://127.0.0.1:%d/series/{id}/alerts  (score >= %s,"
                                + " one per series per %s)%n",
                        alerts.httpPort(),
                        feedConf.get(FeedOptions.ALERT_THRESHOLD),
                        feedConf.get(FeedOptions.ALERT_SUPPRESSION).toMinutes() + " min");
                out.printf(
                        Locale.ROOT,
                        "Models:      %s forecaster (window %d, hidden %d) on metrics; %s next-item"
                                + " (window %d, hidden %d) on clicks (--model, --recommender)%n",
                        metrics.model().family(),
                        metrics.model().window(),
                        metrics.model().hiddenSize(),
                        clicks.model().family(),
                        clicks.model().window(),
                        clicks.model().hiddenSize());
                int clickRate = Math.max(1, eventsPerSecond / CLICKS_SHARE);
                out.printf(
                        Locale.ROOT,
                        "Generating %d series at %d events/s and clicks at %d/s for %ds (Ctrl-C"
                                + " stops early)%n",
                        series,
                        eventsPerSecond,
                        clickRate,
                        duration.toSeconds());

                AtomicLong metricsIn = new AtomicLong();
                AtomicLong clicksIn = new AtomicLong();
                Thread metricGenerator =
                        generator(
                                runtime,
                                metrics.eventsTopic(),
                                EventProducer.metrics(series, 7L),
                                eventsPerSecond,
                                metricsIn,
                                stop);
                Thread clickGenerator =
                        generator(
                                runtime,
                                clicks.interactionsTopic(),
                                EventProducer.interactions(ClickstreamGenerator.builder().build()),
                                clickRate,
                                clicksIn,
                                stop);
                try (Progress progress =
                        new Progress(runtime.bootstrapServers(), metrics, clicks, alertsTopic)) {
                    report(
                            progress,
                            metricsIn,
                            clicksIn,
                            stop,
                            job,
                            watch,
                            metrics.checkpointInterval());
                } finally {
                    stop.set(true);
                    metricGenerator.join(5_000);
                    clickGenerator.join(5_000);
                    out.println("Stopping the job, the alert feed and the broker ...");
                    watch.close();
                    if (!job.getJobExecutionResult().isDone()) {
                        job.cancel().get();
                    }
                }
            }
        } finally {
            Directories.deleteRecursively(feedState);
        }
        out.println("streamlearn demo: done; temporary files removed.");
    }

    /** The recommendation job's keys: its own topics, models and transactional ids. */
    static Configuration clicksConfiguration(EmbeddedRuntime runtime, String family) {
        Configuration conf = runtime.configuration();
        conf.set(StreamlearnOptions.TASK, "next-item");
        conf.set(StreamlearnOptions.FAMILY, family);
        conf.set(StreamlearnOptions.WINDOW, 10);
        conf.set(StreamlearnOptions.MODELS_TOPIC, "item-models");
        conf.set(StreamlearnOptions.MODEL_COMMANDS_TOPIC, "item-model-commands");
        conf.set(StreamlearnOptions.GROUP_ID, "streamlearn-clicks");
        conf.set(StreamlearnOptions.TRANSACTIONAL_ID_PREFIX, "streamlearn-clicks");
        return conf;
    }

    /**
     * Prints the progress lines until the duration is over or {@code stop} turns true.
     *
     * @throws IllegalStateException with the root cause when the job fails for good
     */
    private void report(
            Progress progress,
            AtomicLong metricsIn,
            AtomicLong clicksIn,
            AtomicBoolean stop,
            JobClient job,
            JobWatch watch,
            Duration checkpointInterval)
            throws InterruptedException {
        long startNanos = System.nanoTime();
        KeepingUp metricsAnswered = KeepingUp.forCheckpointInterval(checkpointInterval, startNanos);
        KeepingUp clicksAnswered = KeepingUp.forCheckpointInterval(checkpointInterval, startNanos);
        long lastPrint = startNanos;
        long lastMetrics = 0;
        long lastClicks = 0;
        while (!stop.get()) {
            progress.poll(Duration.ofMillis(500));
            if (job.getJobExecutionResult().isDone()) {
                try {
                    job.getJobExecutionResult().get();
                    throw new IllegalStateException("the job ended by itself");
                } catch (ExecutionException e) {
                    throw JobWatch.failed(e.getCause());
                }
            }
            long now = System.nanoTime();
            if (now - lastPrint >= 5_000_000_000L) {
                for (String cause : watch.newFailures()) {
                    out.printf(
                            Locale.ROOT,
                            "       the job failed and restarts (at most %d times): %s%n",
                            JobWatch.BOUNDED_RESTARTS,
                            cause);
                }
                double seconds = (now - lastPrint) / 1e9;
                long m = metricsIn.get();
                long c = clicksIn.get();
                RankingEvaluation.Figures ranking = progress.ranking();
                out.printf(
                        Locale.ROOT,
                        "[%3ds] metrics %7d in (%4.0f/s) | predictions     %7d at %s | model v%-4d"
                                + " stored v%-4d | MAE model %s naive %s | alerts %d%s%n",
                        Duration.ofNanos(now - startNanos).toSeconds(),
                        m,
                        (m - lastMetrics) / seconds,
                        progress.predictions(),
                        metricsAnswered.update(
                                m, progress.predictions() + progress.deadLetters(0), now),
                        progress.servingVersion(0),
                        progress.storedVersion(0),
                        format(progress.modelMae()),
                        format(progress.naiveMae()),
                        progress.alerts(),
                        watch.failures() == 0 ? "" : " | restarts " + watch.failures());
                out.printf(
                        Locale.ROOT,
                        "       clicks  %7d in (%4.0f/s) | recommendations %7d at %s | model v%-4d"
                            + " stored v%-4d | HR@10 model %s popularity %s | dead letters %d%n",
                        c,
                        (c - lastClicks) / seconds,
                        progress.recommendations(),
                        clicksAnswered.update(
                                c, progress.recommendations() + progress.deadLetters(1), now),
                        progress.servingVersion(1),
                        progress.storedVersion(1),
                        format(ranking.model().hr()),
                        format(ranking.popularity().hr()),
                        progress.deadLetters());
                lastPrint = now;
                lastMetrics = m;
                lastClicks = c;
            }
            if (now - startNanos >= duration.toNanos()) {
                return;
            }
        }
    }

    private static String format(double value) {
        return Double.isNaN(value) ? "  -  " : String.format(Locale.ROOT, "%5.3f", value);
    }

    private static Thread generator(
            EmbeddedRuntime runtime,
            String topic,
            Supplier<EventProducer.Message> events,
            int rate,
            AtomicLong produced,
            AtomicBoolean stop) {
        Thread thread =
                new Thread(
                        () -> {
                            try {
                                // The odd malformed record, to show the dead-letter path at work.
                                EventProducer.run(
                                        KafkaClientProperties.of(runtime.bootstrapServers()),
                                        topic,
                                        events,
                                        rate,
                                        500,
                                        Long.MAX_VALUE,
                                        produced,
                                        stop);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        },
                        "demo-generator-" + topic);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }
}
