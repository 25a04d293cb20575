package io.streamlearn.jobs.runtime;

import io.streamlearn.jobs.ForecastJob;
import io.streamlearn.jobs.JobSettings;
import io.streamlearn.jobs.StreamlearnOptions;
import io.streamlearn.models.ModelConfig;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;

/**
 * The embedded default: a Kafka broker (KRaft) and a Flink MiniCluster in this process, a generator
 * of seasonal metric series with noise, spikes and the odd malformed record, the forecasting job
 * between them, and a progress line every few seconds read from the output topics as a consumer
 * would.
 */
public final class Demo {
    private final Duration duration;
    private final int eventsPerSecond;
    private final int series;
    private final String family;
    private final PrintStream out;

    /**
     * @param family the forecaster's network: a {@code streamlearn.model.family} value
     */
    public Demo(
            Duration duration, int eventsPerSecond, int series, String family, PrintStream out) {
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
        this.family = family;
        this.out = out;
    }

    /** Runs until the duration is over or {@code stop} turns true, then cleans up everything. */
    public void run(AtomicBoolean stop) throws Exception {
        // The demo's own progress lines are the output; the embedded broker and cluster would
        // otherwise fill the terminal with start-up warnings. Errors still show.
        Configurator.setRootLevel(Level.ERROR);
        Configurator.setLevel("io.streamlearn", Level.WARN);
        out.println("streamlearn demo: starting an embedded Kafka broker (KRaft) ...");
        Path flinkTmp = Files.createTempDirectory("streamlearn-flink-");
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            Configuration conf = new Configuration();
            conf.set(CoreOptions.TMP_DIRS, flinkTmp.toString());
            conf.set(WebOptions.UPLOAD_DIR, flinkTmp.resolve("web-upload").toString());
            conf.set(StreamlearnOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
            conf.set(StreamlearnOptions.CHECKPOINT_INTERVAL, Duration.ofSeconds(1));
            conf.set(StreamlearnOptions.FAMILY, family);
            conf.set(PipelineOptions.GENERIC_TYPES, false);
            conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
            conf.set(RestOptions.ADDRESS, "127.0.0.1");
            int restPort = EmbeddedKafka.freePort();
            conf.set(RestOptions.PORT, restPort);
            JobSettings settings = JobSettings.from(conf);
            kafka.createTopics(
                    1,
                    settings.eventsTopic(),
                    settings.predictionsTopic(),
                    settings.deadLettersTopic(),
                    settings.modelsTopic(),
                    settings.modelCommandsTopic());
            out.println(
                    "Kafka:       "
                            + kafka.bootstrapServers()
                            + "  topics: "
                            + settings.eventsTopic()
                            + " -> "
                            + settings.predictionsTopic()
                            + ", "
                            + settings.deadLettersTopic()
                            + ", "
                            + settings.modelsTopic());

            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf);
            env.setParallelism(1);
            ForecastJob.buildWithKafka(env, settings);
            JobClient job = env.executeAsync("streamlearn demo");
            out.println(
                    "Flink web UI: http://127.0.0.1:"
                            + restPort
                            + "  (job "
                            + job.getJobID()
                            + ")");
            out.printf(
                    Locale.ROOT,
                    "Model:       %s forecaster, window %d, hidden %d, %s (--model picks"
                            + " another)%n",
                    settings.model().family(),
                    settings.model().window(),
                    settings.model().hiddenSize(),
                    settings.model().optimizer().name().toLowerCase(Locale.ROOT));
            out.printf(
                    Locale.ROOT,
                    "Generating %d series at %d events/s for %ds (Ctrl-C stops early)%n",
                    series,
                    eventsPerSecond,
                    duration.toSeconds());

            AtomicLong produced = new AtomicLong();
            Thread generator =
                    new Thread(
                            () ->
                                    generate(
                                            kafka.bootstrapServers(),
                                            settings.eventsTopic(),
                                            produced,
                                            stop),
                            "demo-generator");
            generator.setDaemon(true);
            generator.start();
            try (Progress progress =
                    new Progress(
                            kafka.bootstrapServers(),
                            settings.predictionsTopic(),
                            settings.deadLettersTopic(),
                            settings.modelsTopic())) {
                report(progress, produced, stop);
            } finally {
                stop.set(true);
                generator.join(5_000);
                out.println("Stopping the job and the broker ...");
                job.cancel().get();
            }
        } finally {
            Directories.deleteRecursively(flinkTmp);
        }
        out.println("streamlearn demo: done; temporary files removed.");
    }

    private void report(Progress progress, AtomicLong produced, AtomicBoolean stop) {
        long startNanos = System.nanoTime();
        long lastPrint = startNanos;
        long lastProduced = 0;
        while (!stop.get()) {
            progress.poll(Duration.ofMillis(500));
            long now = System.nanoTime();
            if (now - lastPrint >= 5_000_000_000L) {
                long in = produced.get();
                double rate = (in - lastProduced) / ((now - lastPrint) / 1e9);
                out.printf(
                        Locale.ROOT,
                        "[%3ds] events in %7d (%4.0f/s) | predictions %7d | dead letters %3d |"
                                + " model v%-4d step %-5d | online MAE model %s  naive %s%n",
                        Duration.ofNanos(now - startNanos).toSeconds(),
                        in,
                        rate,
                        progress.predictions(),
                        progress.deadLetters(),
                        progress.modelVersion(),
                        progress.modelStep(),
                        format(progress.modelMae()),
                        format(progress.naiveMae()));
                lastPrint = now;
                lastProduced = in;
            }
            if (now - startNanos >= duration.toNanos()) {
                return;
            }
        }
    }

    private static String format(double mae) {
        return Double.isNaN(mae) ? "  -   " : String.format(Locale.ROOT, "%6.3f", mae);
    }

    private void generate(String bootstrap, String topic, AtomicLong produced, AtomicBoolean stop) {
        try {
            // The odd malformed record, to show the dead-letter path at work.
            EventProducer.run(
                    bootstrap,
                    topic,
                    EventProducer.metrics(series, 7L),
                    eventsPerSecond,
                    500,
                    Long.MAX_VALUE,
                    produced,
                    stop);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
