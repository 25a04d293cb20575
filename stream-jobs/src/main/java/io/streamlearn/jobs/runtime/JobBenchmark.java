package io.streamlearn.jobs.runtime;

import ai.djl.Device;
import io.streamlearn.jobs.JobSettings;
import io.streamlearn.jobs.Jobs;
import io.streamlearn.jobs.KafkaClientProperties;
import io.streamlearn.jobs.StreamlearnOptions;
import io.streamlearn.models.bench.BareLoop;
import io.streamlearn.models.bench.ModelBenchmark;
import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.Prediction;
import io.streamlearn.schemas.Recommendation;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MetricOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * {@code streamlearn bench --job}: the whole job on the {@link EmbeddedRuntime} (a broker and a
 * MiniCluster in this process, as {@code demo}), with the defaults users get, fed generated events
 * at rising rates until it no longer keeps up. Per rate it prints the events per second the job
 * answered, the fraction of them the trainer learned (its {@code examplesLearned} counter, over
 * Flink's REST API: examples handed to a training step; a step in flight at the end still counts),
 * and the latency from an event's send to its answer being readable, p50 / p99 / p99.9, for a
 * {@code read_uncommitted} and a {@code read_committed} consumer of the answers topic (answers are
 * matched to events by key and event time). After each job, the same model's bare loop ({@link
 * BareLoop}: no Flink, no Kafka) and the job's peak over it.
 *
 * <pre>
 * streamlearn bench --job [--feed metrics|clicks|both] [--rates 250,500,1000,...] [--seconds 8]
 *                         [--series 64] [--guarantee both|exactly-once|at-least-once]
 *                         [--config job.properties]
 * </pre>
 *
 * {@code --config} lays job keys over the defaults (to measure a setting); the benchmark's own
 * topics, ids and checkpoint interval stay.
 *
 * <p>A rate is kept up when at least 99 % of its events are answered within a grace period after it
 * ends (half a step, at least 2 s), at no less than 90 % of the rate they were sent at; the first
 * rate that is not ends the job's run. A benchmark, not a test: it asserts nothing; the broker, the
 * generator and the consumers share the machine with the job.
 */
public final class JobBenchmark {
    static final String USAGE =
            "usage: streamlearn bench --job [--feed metrics|clicks|both]"
                    + " [--rates 250,500,1000,2000,4000,8000] [--seconds 8] [--series 64]"
                    + " [--guarantee both|exactly-once|at-least-once] [--config job.properties]";

    private static final Set<String> OPTIONS =
            Set.of("feed", "rates", "seconds", "series", "guarantee");

    /** Share of a rate's events that must be answered in time for the job to keep up. */
    /** How stale the trainer's counter may be when read over REST. */
    private static final Duration METRIC_FETCH = Duration.ofMillis(200);

    private static final double KEPT_UP = 0.99;

    /** Answers per second, over events sent per second, below which the job fell behind. */
    private static final double KEPT_UP_RATE = 0.9;

    private final List<String> feeds;
    private final int[] rates;
    private final double seconds;
    private final int series;
    private final List<String> guarantees;
    private final Map<String, String> config;
    private final PrintStream out;

    private JobBenchmark(Map<String, String> options, Map<String, String> config, PrintStream out) {
        this.config = Map.copyOf(config);
        for (String name : options.keySet()) {
            if (!OPTIONS.contains(name)) {
                throw new IllegalArgumentException("unknown option --" + name);
            }
        }
        String feed = options.getOrDefault("feed", "both");
        feeds =
                switch (feed) {
                    case "both" -> List.of("metrics", "clicks");
                    case "metrics", "clicks" -> List.of(feed);
                    default ->
                            throw new IllegalArgumentException(
                                    "--feed must be metrics, clicks or both but was '"
                                            + feed
                                            + "'");
                };
        String guarantee = options.getOrDefault("guarantee", "both");
        guarantees =
                switch (guarantee) {
                    case "both" -> List.of("exactly-once", "at-least-once");
                    case "exactly-once", "at-least-once" -> List.of(guarantee);
                    default ->
                            throw new IllegalArgumentException(
                                    "--guarantee must be exactly-once, at-least-once or both but"
                                            + " was '"
                                            + guarantee
                                            + "'");
                };
        String list = options.getOrDefault("rates", "250,500,1000,2000,4000,8000");
        String[] parts = list.split(",");
        rates = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            rates[i] = ModelBenchmark.positive(Map.of("rates", parts[i].trim()), "rates", 1);
        }
        seconds = ModelBenchmark.positiveNumber(options, "seconds", 8);
        series = ModelBenchmark.positive(options, "series", 64);
        this.out = out;
    }

    /**
     * Runs the benchmark with the given options (those after {@code --job}).
     *
     * @return 0; 2 after printing a bad option and the usage; 1 when the job or the runtime failed
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return run(args, Map.of(), out, err);
    }

    /**
     * @param config job keys laid over the defaults ({@code --config}, read by the caller)
     */
    public static int run(
            String[] args, Map<String, String> config, PrintStream out, PrintStream err) {
        JobBenchmark bench;
        try {
            bench = new JobBenchmark(ModelBenchmark.options(args), config, out);
        } catch (IllegalArgumentException e) {
            err.println("streamlearn bench --job: " + e.getMessage());
            err.println(USAGE);
            return 2;
        }
        try {
            bench.run();
            return 0;
        } catch (Exception e) {
            err.println("streamlearn bench --job: " + JobWatch.rootCause(e));
            return 1;
        }
    }

    private void run() throws Exception {
        out.printf(
                Locale.ROOT,
                "streamlearn bench --job: %d cores (load average %.1f), Java %s, %s %s; intra-op"
                        + " threads %s; checkpoint interval %s; %.1f s per rate; rates %s/s%s%n",
                Runtime.getRuntime().availableProcessors(),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
                System.getProperty("java.version"),
                System.getProperty("os.name"),
                System.getProperty("os.arch"),
                System.getProperty("ai.djl.pytorch.num_threads", "(PyTorch's default)"),
                StreamlearnOptions.CHECKPOINT_INTERVAL.defaultValue().toMillis() / 1000.0 + " s",
                seconds,
                Arrays.toString(rates),
                config.isEmpty() ? "" : "; --config " + new TreeMap<>(config));
        try (EmbeddedRuntime runtime = EmbeddedRuntime.start()) {
            for (String feed : feeds) {
                for (String guarantee : guarantees) {
                    Configuration conf = configuration(runtime, feed, guarantee, config);
                    JobSettings settings = JobSettings.from(conf);
                    // Before and after the job, so that a change in the machine's load shows.
                    BareLoop.Rates before = bareLoop(settings);
                    double peak = measure(runtime, feed, conf, settings);
                    BareLoop.Rates after = bareLoop(settings);
                    out.printf(
                            Locale.ROOT,
                            "  bare model loop (no Flink, no Kafka; cpu): answers in batches of %d"
                                + " on one thread, steps of %d to %d waiting examples on another,"
                                + " by the live trainer's rules (largest taken: %d before, %d"
                                + " after): %,.0f events/s answered before the job (%.1f%%"
                                + " learned), %,.0f after (%.1f%% learned)%n",
                            settings.batching().size(),
                            settings.batchSize(),
                            settings.backlog().maxBatchSize(),
                            before.largestTrainBatch(),
                            after.largestTrainBatch(),
                            before.eventsPerSecond(),
                            100.0 * before.learnedFraction(),
                            after.eventsPerSecond(),
                            100.0 * after.learnedFraction());
                    out.printf(
                            Locale.ROOT,
                            "%s, %s: peak %,.0f events/s = %.3f of the bare loop (their mean)%n",
                            feed,
                            guarantee,
                            peak,
                            peak / ((before.eventsPerSecond() + after.eventsPerSecond()) / 2));
                }
            }
        }
    }

    /** The same model work at the job's batch sizes: its predictors' and its live trainer's. */
    private BareLoop.Rates bareLoop(JobSettings settings) throws InterruptedException {
        BareLoop.Work work =
                new BareLoop.Work(
                        settings.batching().size(),
                        settings.batchSize(),
                        settings.backlog().maxBatchSize(),
                        settings.backlog().maxLag(),
                        settings.publishEverySteps(),
                        settings.minPublishInterval());
        return BareLoop.measure(
                settings.model(), work, settings.recommend().k(), seconds, Device.cpu());
    }

    /**
     * The job's configuration: the defaults ({@code demo}'s recommendation job for clicks), its own
     * topics and transactional ids, and the given delivery guarantee.
     */
    private static Configuration configuration(
            EmbeddedRuntime runtime, String feed, String guarantee, Map<String, String> config)
            throws IOException {
        Configuration conf =
                feed.equals("clicks")
                        ? Demo.clicksConfiguration(runtime, "gru")
                        : runtime.configuration();
        config.forEach(conf::setString);
        String run = "bench-" + feed + "-" + guarantee;
        for (ConfigOption<String> topic :
                List.of(
                        StreamlearnOptions.EVENTS_TOPIC,
                        StreamlearnOptions.INTERACTIONS_TOPIC,
                        StreamlearnOptions.PREDICTIONS_TOPIC,
                        StreamlearnOptions.RECOMMENDATIONS_TOPIC,
                        StreamlearnOptions.ANOMALY_SCORES_TOPIC,
                        StreamlearnOptions.DEAD_LETTERS_TOPIC,
                        StreamlearnOptions.MODELS_TOPIC,
                        StreamlearnOptions.MODEL_COMMANDS_TOPIC)) {
            conf.set(topic, run + "-" + conf.get(topic));
        }
        conf.set(StreamlearnOptions.GROUP_ID, run);
        conf.set(StreamlearnOptions.TRANSACTIONAL_ID_PREFIX, run);
        // The job's default, not the embedded runtime's shorter one: what a user's job commits at.
        conf.set(
                StreamlearnOptions.CHECKPOINT_INTERVAL,
                StreamlearnOptions.CHECKPOINT_INTERVAL.defaultValue());
        conf.set(StreamlearnOptions.DELIVERY_GUARANTEE, guarantee);
        // Each job brings up its own MiniCluster: a port of its own, whatever the last one left.
        conf.set(RestOptions.PORT, EmbeddedKafka.freePort());
        // The trainer's counter is read over REST, whose metric values are refreshed every 10 s
        // by default: longer than a rate's step.
        conf.set(MetricOptions.METRIC_FETCHER_UPDATE_INTERVAL, METRIC_FETCH);
        JobWatch.boundRestarts(conf);
        return conf;
    }

    /** Runs one job through the rates; returns its peak answered events per second. */
    private double measure(
            EmbeddedRuntime runtime, String feed, Configuration conf, JobSettings settings)
            throws Exception {
        runtime.createTopics(settings);
        StreamExecutionEnvironment env = runtime.environment(conf);
        Jobs.buildWithKafka(env, settings);
        JobClient job = env.executeAsync("streamlearn bench " + settings.groupId());
        Ledger ledger = new Ledger();
        boolean clicks = feed.equals("clicks");
        Supplier<EventProducer.Message> events =
                clicks
                        ? EventProducer.interactions(
                                ClickstreamGenerator.builder().build(),
                                e -> ledger.sending(e.getUserId(), e.getEventTime()))
                        : EventProducer.metrics(
                                new MetricGenerator(series, 7L),
                                e -> ledger.sending(e.getSeriesId(), e.getEventTime()));
        String answers = clicks ? settings.recommendationsTopic() : settings.predictionsTopic();
        out.printf(
                Locale.ROOT,
                "%n%s job, %s, %s: %s, window %d, hidden %d, batch %d%s; answers on %s%n",
                clicks ? "recommendation" : "metrics",
                StreamlearnOptions.DELIVERY_GUARANTEE.key()
                        + "="
                        + settings.deliveryGuarantee()
                                .name()
                                .toLowerCase(Locale.ROOT)
                                .replace('_', '-'),
                settings.bufferTimeout() == null
                        ? "Flink's network buffer timeout"
                        : "network buffer timeout " + settings.bufferTimeout().toMillis() + " ms",
                settings.model().family().name().toLowerCase(Locale.ROOT),
                settings.model().window(),
                settings.model().hiddenSize(),
                settings.batchSize(),
                clicks ? "" : ", " + series + " series",
                answers);
        List<Thread> readers = new ArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        try {
            Function<ConsumerRecord<byte[], byte[]>, String> key =
                    clicks ? JobBenchmark::recommendationKey : JobBenchmark::predictionKey;
            readers.add(
                    reader(
                            runtime,
                            answers,
                            "read_uncommitted",
                            stop,
                            r -> ledger.answered(0, key.apply(r))));
            readers.add(
                    reader(
                            runtime,
                            answers,
                            "read_committed",
                            stop,
                            r -> ledger.answered(1, key.apply(r))));
            String input = clicks ? settings.interactionsTopic() : settings.eventsTopic();
            warmUp(runtime, input, events, ledger, job);
            out.printf(
                    Locale.ROOT,
                    "  %7s %8s %11s %8s %8s | %-28s | %-28s%n",
                    "rate/s",
                    "sent",
                    "answered/s",
                    "answered",
                    "learned",
                    "read_uncommitted p50/p99/p99.9 ms",
                    "read_committed p50/p99/p99.9 ms");
            double peak = 0;
            for (int rate : rates) {
                Ledger.Step s = ledger.begin();
                long learnedBefore = examplesLearned(conf, job);
                long start = System.nanoTime();
                send(runtime, input, events, rate, Math.max(1, Math.round(rate * seconds)), job);
                long sentNanos = System.nanoTime() - start;
                long grace = Math.max(2_000_000_000L, (long) (seconds * 0.5e9));
                long committedGrace = grace + settings.checkpointInterval().toNanos();
                long end = System.nanoTime();
                while (System.nanoTime() - end < committedGrace
                        && (s.answered(0) < s.sent() || s.answered(1) < s.sent())) {
                    if (System.nanoTime() - end > grace && s.answered(0) < KEPT_UP * s.sent()) {
                        break; // fallen behind: no use waiting for the committed ones
                    }
                    failIfDone(job);
                    Thread.sleep(50);
                }
                s.close();
                double learned = (double) (examplesLearned(conf, job) - learnedBefore) / s.sent();
                double answeredPerSecond =
                        s.answered(0) / (Math.max(sentNanos, s.lastAnswer(0) - start) / 1e9);
                peak = Math.max(peak, answeredPerSecond);
                out.printf(
                        Locale.ROOT,
                        "  %7d %8d %11.0f %7.1f%% %7.1f%% | %s | %s%n",
                        rate,
                        s.sent(),
                        answeredPerSecond,
                        100.0 * s.answered(0) / s.sent(),
                        100.0 * learned,
                        s.latencies(0),
                        s.latencies(1));
                double sentPerSecond = s.sent() / (sentNanos / 1e9);
                if (s.answered(0) < KEPT_UP * s.sent()
                        || answeredPerSecond < KEPT_UP_RATE * sentPerSecond) {
                    out.printf(
                            Locale.ROOT,
                            "  fell behind at %d/s: %.1f%% answered within %.1f s of the last"
                                    + " send, at %.0f/s while %.0f/s were sent%n",
                            rate,
                            100.0 * s.answered(0) / s.sent(),
                            grace / 1e9,
                            answeredPerSecond,
                            sentPerSecond);
                    break;
                }
            }
            return peak;
        } finally {
            stop.set(true);
            for (Thread reader : readers) {
                reader.join(10_000);
            }
            if (!job.getJobExecutionResult().isDone()) {
                job.cancel().get();
            }
        }
    }

    /**
     * Feeds events slowly until the first answer is readable: the trainer's first model, before
     * which the predictors hold their queries back, and the warm-up of the series.
     */
    private void warmUp(
            EmbeddedRuntime runtime,
            String topic,
            Supplier<EventProducer.Message> events,
            Ledger ledger,
            JobClient job)
            throws Exception {
        Ledger.Step s = ledger.begin();
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        int rate = Math.min(rates[0], 500);
        while (s.answered(0) == 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        "no answer within 3 minutes of warm-up: the job is not running");
            }
            send(runtime, topic, events, rate, Math.max(1, rate / 2), job);
        }
        while (s.answered(0) < s.sent() && System.nanoTime() < deadline) {
            failIfDone(job);
            Thread.sleep(50);
        }
    }

    private static void send(
            EmbeddedRuntime runtime,
            String topic,
            Supplier<EventProducer.Message> events,
            int rate,
            long count,
            JobClient job)
            throws Exception {
        failIfDone(job);
        EventProducer.run(
                KafkaClientProperties.of(runtime.bootstrapServers()),
                topic,
                events,
                rate,
                0,
                count,
                new AtomicLong(),
                new AtomicBoolean());
    }

    private static void failIfDone(JobClient job) throws InterruptedException {
        if (job.getJobExecutionResult().isDone()) {
            try {
                job.getJobExecutionResult().get();
                throw new IllegalStateException("the job ended by itself");
            } catch (ExecutionException e) {
                throw JobWatch.failed(e.getCause());
            }
        }
    }

    private static final AvroSerde<Prediction> PREDICTIONS = AvroSerde.of(Prediction.class);
    private static final AvroSerde<Recommendation> RECOMMENDATIONS =
            AvroSerde.of(Recommendation.class);

    private static String predictionKey(ConsumerRecord<byte[], byte[]> record) {
        Prediction p = PREDICTIONS.decode(record.value());
        return Ledger.key(p.getEntityId(), p.getEventTime());
    }

    private static String recommendationKey(ConsumerRecord<byte[], byte[]> record) {
        Recommendation r = RECOMMENDATIONS.decode(record.value());
        return Ledger.key(r.getUserId(), r.getEventTime());
    }

    /**
     * The trainer's {@code examplesLearned} counter, read over Flink's REST API: the examples it
     * handed to a step, whatever its batch size (the live trainer grows its batch when it lags, and
     * samples).
     */
    private static long examplesLearned(Configuration conf, JobClient job) throws Exception {
        // Each job's MiniCluster has a REST port of its own (see the job's configuration).
        String base = "http://127.0.0.1:" + conf.get(RestOptions.PORT) + "/jobs/" + job.getJobID();
        Matcher vertex =
                Pattern.compile("\\{\"id\":\"([0-9a-f]{32})\"[^{}]*?\"name\":\"([^\"]*)\"")
                        .matcher(get(base));
        while (vertex.find()) {
            if (!vertex.group(2).contains("trainer")) {
                continue;
            }
            String metrics = base + "/vertices/" + vertex.group(1) + "/metrics";
            Matcher id =
                    Pattern.compile("\"id\":\"([^\"]*\\.examplesLearned)\"").matcher(get(metrics));
            if (!id.find()) {
                return 0; // not registered yet: the trainer has not opened
            }
            // The REST metric store answers from its cache and refreshes it in the background
            // when it is older than the fetch interval: ask, let it refresh, ask again.
            get(metrics + "?get=" + id.group(1));
            Thread.sleep(2 * METRIC_FETCH.toMillis());
            Matcher value =
                    Pattern.compile("\"value\":\"([0-9]+)\"")
                            .matcher(get(metrics + "?get=" + id.group(1)));
            return value.find() ? Long.parseLong(value.group(1)) : 0;
        }
        throw new IllegalStateException("no trainer among the job's tasks at " + base);
    }

    private static String get(String url) throws IOException {
        HttpURLConnection connection = (HttpURLConnection) URI.create(url).toURL().openConnection();
        try {
            connection.setConnectTimeout(5_000);
            connection.setReadTimeout(5_000);
            if (connection.getResponseCode() != 200) {
                throw new IOException(url + " answered " + connection.getResponseCode());
            }
            try (InputStream in = connection.getInputStream()) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        } finally {
            connection.disconnect();
        }
    }

    /** A consumer of {@code topic} from its beginning, on its own thread, until {@code stop}. */
    private static Thread reader(
            EmbeddedRuntime runtime,
            String topic,
            String isolation,
            AtomicBoolean stop,
            Consumer<ConsumerRecord<byte[], byte[]>> each) {
        KafkaConsumer<byte[], byte[]> consumer = runtime.readFromStart(topic, isolation);
        Thread thread =
                new Thread(
                        () -> {
                            try (consumer) {
                                while (!stop.get()) {
                                    for (ConsumerRecord<byte[], byte[]> r :
                                            consumer.poll(Duration.ofMillis(100))) {
                                        each.accept(r);
                                    }
                                }
                            }
                        },
                        "bench-" + isolation + "-" + topic);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    /**
     * When each event was sent, and when each reader first saw its answer: per step, the count and
     * the latencies.
     */
    static final class Ledger {
        private final Map<String, Sent> sent = new ConcurrentHashMap<>();
        private volatile Step current;

        static String key(String entity, Instant eventTime) {
            return entity + "@" + eventTime.toEpochMilli();
        }

        Step begin() {
            current = new Step();
            sent.clear();
            return current;
        }

        void sending(String entity, Instant eventTime) {
            Step step = current;
            step.sent.incrementAndGet();
            sent.put(key(entity, eventTime), new Sent(System.nanoTime(), step));
        }

        /** Reader 0 (read_uncommitted) or 1 (read_committed) has read the answer to {@code key}. */
        void answered(int reader, String key) {
            long now = System.nanoTime();
            Sent s = sent.get(key);
            if (s != null && !s.seen[reader]) {
                s.seen[reader] = true;
                s.step.answer(reader, now - s.nanos, now);
            }
        }

        private record Sent(long nanos, Step step, boolean[] seen) {
            Sent(long nanos, Step step) {
                this(nanos, step, new boolean[2]);
            }
        }

        /** One rate's events. */
        static final class Step {
            private final AtomicLong sent = new AtomicLong();
            private final List<List<Long>> latencies =
                    List.of(new ArrayList<>(), new ArrayList<>());
            private final long[] last = new long[2];
            private boolean closed;

            long sent() {
                return sent.get();
            }

            /** Ignores answers from now on, so that the figures printed agree with each other. */
            synchronized void close() {
                closed = true;
            }

            synchronized void answer(int reader, long latencyNanos, long now) {
                if (closed) {
                    return;
                }
                latencies.get(reader).add(latencyNanos);
                last[reader] = now;
            }

            synchronized long answered(int reader) {
                return latencies.get(reader).size();
            }

            synchronized long lastAnswer(int reader) {
                return last[reader];
            }

            /** "p50 / p99 / p99.9" in milliseconds, or dashes before any answer. */
            synchronized String latencies(int reader) {
                List<Long> all = new ArrayList<>(latencies.get(reader));
                if (all.isEmpty()) {
                    return String.format(Locale.ROOT, "%8s / %8s / %8s", "-", "-", "-");
                }
                all.sort(null);
                return String.format(
                        Locale.ROOT,
                        "%8.1f / %8.1f / %8.1f",
                        percentile(all, 50),
                        percentile(all, 99),
                        percentile(all, 99.9));
            }

            private static double percentile(List<Long> sorted, double p) {
                int i = (int) Math.ceil(p / 100 * sorted.size()) - 1;
                return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i))) / 1e6;
            }
        }
    }
}
