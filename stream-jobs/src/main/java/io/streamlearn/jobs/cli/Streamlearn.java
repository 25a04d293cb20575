package io.streamlearn.jobs.cli;

import io.streamlearn.jobs.KafkaAccess;
import io.streamlearn.jobs.KafkaClientProperties;
import io.streamlearn.jobs.StreamlearnOptions;
import io.streamlearn.jobs.feeds.FeedApp;
import io.streamlearn.jobs.runtime.Demo;
import io.streamlearn.jobs.runtime.JobBenchmark;
import io.streamlearn.models.bench.ModelBenchmark;
import io.streamlearn.state.FileModelStore;
import io.streamlearn.state.KafkaModelStore;
import io.streamlearn.state.ModelStore;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.util.TimeUtils;

/**
 * The {@code streamlearn} command line. {@code demo} runs everything embedded; {@code run} starts
 * the same job against an existing Kafka, configured by a properties file of {@code streamlearn.*}
 * (and any Flink) keys.
 */
public final class Streamlearn {
    /** What {@code --help} prints: every command {@link #main} takes. */
    static final String USAGE =
            String.join(
                    "\n",
                    "usage: streamlearn <command> [options]",
                    "",
                    "commands:",
                    "  demo [--duration 60s] [--rate 400] [--series 8] [--model lstm]"
                            + " [--recommender gru]",
                    "        embedded Kafka + Flink, both feeds: generated metric series"
                            + " (forecasts, anomaly scores,",
                    "        alerts) and a generated clickstream (recommendations), live"
                            + " progress; --model, --recommender:",
                    "        rnn, gru, lstm, attention or mlp",
                    "  run --config <file.properties> [--<key> <value> ...]",
                    "        the job against your Kafka (streamlearn.model.task picks metrics or"
                            + " interactions);",
                    "        keys are listed in docs/configuration.md",
                    "  feed recommendations|alerts --config <file.properties>",
                    "        the Kafka Streams feed app over the job's output: GET"
                            + " /users/{id}/recommendations",
                    "        or GET /series/{id}/alerts (keys in docs/configuration.md)",
                    "  models list|show|rollback --bootstrap-servers <host:port> [--topic models]"
                            + " [--path <dir>] [--version N] [--commands-topic model-commands]",
                    "        [--config <file.properties>]",
                    "        the model store's versions; show one (verified); serve one again",
                    "  generate --bootstrap-servers <host:port> [--type metric] [--topic metrics]"
                            + " [--rate 100] [--duration 10m | --count N]",
                    "        [--seed 7] [--config <file>] [--series 8]",
                    "        write generated metric series to your Kafka (until Ctrl-C without"
                            + " --duration or --count)",
                    "  generate --type interaction [--bootstrap-servers <host:port> [--topic"
                            + " interactions] [--rate 100] | --output <file.csv> --count N]",
                    "        [--users 50] [--items 200] [--successors 6] [--follow 0.8] [--skew 1]"
                            + " [--popular-successors false]",
                    "        [--session-length 0] [--active-users <all>] [--drift-at <event>]"
                            + " [--seed 7]",
                    "        a generated clickstream (Markov successors, Zipf popularity, optional"
                            + " sessions and drift) to",
                    "        your Kafka, or to a file that 'replay recommend --input' reads"
                            + " (docs/replay.md)",
                    "  bench [--family all|lstm,...] [--device cpu|gpu] [--hidden 64] [--window 20]"
                            + " [--seconds 1] [--recurrent-state]",
                    "        [--catalogue 10000,100000 [--capacity rows]]",
                    "        measure the model families: training, inference and one-step"
                            + " events/s; with --catalogue",
                    "        the recommender's top-10 over that many items instead"
                            + " (docs/benchmarks.md)",
                    "  bench --job [--feed metrics|clicks|both] [--rates 250,500,...] [--seconds 8]"
                            + " [--series 64] [--guarantee both|exactly-once|at-least-once]",
                    "        the whole job, embedded as in demo, at rising rates: events/s"
                            + " answered and learned, latency",
                    "        to a read_uncommitted and a read_committed consumer, and the bare"
                            + " model loop's rate",
                    "  replay <subcommand> [options]",
                    "        backtests on files: 'streamlearn replay --help' lists them",
                    "  read --bootstrap-servers <host:port> --topic <name> [--type prediction]"
                            + " [--max 20] [--config <file>]",
                    "        print a topic's records as JSON (types: alert, anomaly-score,"
                            + " dead-letter, interaction,",
                    "        metric, model, prediction, recommendation)",
                    "",
                    "read, models and generate take a secured cluster's client settings from"
                            + " --config <file.properties>:",
                    "the streamlearn.kafka.properties.* keys (and"
                            + " streamlearn.kafka.bootstrap-servers) of the job's file;"
                            + " --bootstrap-servers overrides the file's.");

    private Streamlearn() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
            System.out.println(USAGE);
            return;
        }
        if (args[0].equals("feed") && args.length > 1) {
            feed(args[1], options(args, 2));
            return;
        }
        if (args[0].equals("bench")) {
            String[] rest = Arrays.copyOfRange(args, 1, args.length);
            List<String> job = new ArrayList<>(Arrays.asList(rest));
            int code;
            if (job.remove("--job")) {
                Map<String, String> config = Map.of();
                int at = job.indexOf("--config");
                if (at >= 0 && at + 1 < job.size()) {
                    config = RunJob.load(Path.of(job.get(at + 1)));
                    job.subList(at, at + 2).clear();
                }
                code = JobBenchmark.run(job.toArray(new String[0]), config, System.out, System.err);
            } else {
                code = ModelBenchmark.run(rest, System.out, System.err);
            }
            System.exit(code);
            return;
        }
        if (args[0].equals("replay")) {
            System.exit(
                    ReplayCommands.run(
                            Arrays.copyOfRange(args, 1, args.length), System.out, System.err));
            return;
        }
        if (args[0].equals("models")) {
            models(args.length > 1 ? args[1] : "", options(args, 2));
            return;
        }
        Map<String, String> options = options(args, 1);
        switch (args[0]) {
            case "demo" -> demo(options);
            case "run" -> run(args);
            case "read" -> read(options);
            case "generate" -> generate(options);
            case "feed" ->
                    fail("feed needs 'recommendations' or 'alerts': feed <name> --config <file>");
            default -> fail("unknown command '" + args[0] + "'");
        }
    }

    private static void demo(Map<String, String> options) throws Exception {
        Duration duration =
                options.containsKey("duration")
                        ? TimeUtils.parseDuration(options.get("duration"))
                        : Demo.DEFAULT_DURATION;
        int rate = positiveInt(options, "rate", Demo.DEFAULT_RATE);
        int series = positiveInt(options, "series", Demo.DEFAULT_SERIES);
        String family = options.getOrDefault("model", StreamlearnOptions.FAMILY.defaultValue());
        String recommender = options.getOrDefault("recommender", Demo.DEFAULT_RECOMMENDER);
        Demo demo = null;
        try {
            demo = new Demo(duration, rate, series, family, recommender, System.out);
        } catch (IllegalArgumentException e) {
            fail(e.getMessage());
        }
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch finished = stopOnCtrlC(stop);
        try {
            demo.run(stop);
        } catch (IllegalStateException e) {
            // The job failed for good (or a check before it started): the root cause, one line.
            System.err.println("streamlearn demo: " + e.getMessage());
            finished.countDown();
            System.exit(1);
        } finally {
            finished.countDown();
        }
        System.exit(0);
    }

    /**
     * On Ctrl-C, sets {@code stop} and holds the JVM's exit until the returned latch is counted
     * down, so that the work in progress finishes cleanly (the job is cancelled, records flushed).
     */
    private static CountDownLatch stopOnCtrlC(AtomicBoolean stop) {
        CountDownLatch finished = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(
                        new Thread(
                                () -> {
                                    stop.set(true);
                                    try {
                                        finished.await();
                                    } catch (InterruptedException e) {
                                        Thread.currentThread().interrupt();
                                    }
                                }));
        return finished;
    }

    private static void run(String[] args) throws Exception {
        try {
            RunJob.main(Arrays.copyOfRange(args, 1, args.length));
        } catch (IllegalArgumentException e) {
            fail(e.getMessage());
        }
    }

    private static void generate(Map<String, String> options) {
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch finished = stopOnCtrlC(stop);
        int code;
        try {
            code = GenerateCommand.run(options, stop, System.out, System.err);
        } finally {
            finished.countDown();
        }
        if (code != 0) {
            System.exit(code);
        }
    }

    private static void read(Map<String, String> options) {
        String topic = options.get("topic");
        if (topic == null) {
            fail("read needs --topic <name>");
        }
        KafkaClientProperties kafka = kafka(options, "read");
        try {
            TopicPrinter.print(
                    kafka,
                    topic,
                    options.getOrDefault("type", "prediction"),
                    positiveInt(options, "max", 20),
                    Duration.ofSeconds(5),
                    System.out);
        } catch (IllegalArgumentException e) {
            fail(e.getMessage());
        }
    }

    /** A properties file of streamlearn.* (and Flink or Kafka Streams) keys. */
    private static Configuration load(String file) throws IOException {
        return Configuration.fromMap(RunJob.load(Path.of(file)));
    }

    private static void feed(String name, Map<String, String> options) throws Exception {
        String file = options.get("config");
        if (file == null) {
            fail("feed " + name + " needs --config <file.properties>");
        }
        FeedApp.Feed feed = null;
        try {
            feed = FeedApp.Feed.parse(name);
        } catch (IllegalArgumentException e) {
            fail(e.getMessage());
        }
        CountDownLatch stopped = new CountDownLatch(1);
        try (FeedApp app = FeedApp.start(feed, load(file))) {
            Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown));
            System.out.println(
                    "streamlearn feed "
                            + name
                            + ": serving HTTP on port "
                            + app.httpPort()
                            + (feed == FeedApp.Feed.RECOMMENDATIONS
                                    ? "  (GET /users/{id}/recommendations)"
                                    : "  (GET /series/{id}/alerts)"));
            stopped.await();
        }
    }

    private static void models(String action, Map<String, String> options) {
        String path = options.get("path");
        KafkaClientProperties kafka =
                path == null || action.equals("rollback")
                        ? kafka(
                                options,
                                "models "
                                        + action
                                        + (action.equals("rollback")
                                                ? ""
                                                : " without --path <dir> of a files store"))
                        : null;
        String topic =
                options.getOrDefault("topic", StreamlearnOptions.MODELS_TOPIC.defaultValue());
        try (ModelStore store =
                path != null
                        ? new FileModelStore(Path.of(path))
                        : new KafkaModelStore(
                                kafka.with(Map.of()), topic, Duration.ofSeconds(30))) {
            switch (action) {
                case "list" -> ModelCommands.list(store, System.out);
                case "show" -> ModelCommands.show(store, version(options, action), System.out);
                case "rollback" ->
                        ModelCommands.rollback(
                                store,
                                version(options, action),
                                kafka,
                                options.getOrDefault(
                                        "commands-topic",
                                        StreamlearnOptions.MODEL_COMMANDS_TOPIC.defaultValue()),
                                System.out);
                default -> fail("models needs 'list', 'show' or 'rollback', got '" + action + "'");
            }
        } catch (NoSuchElementException | IllegalArgumentException | IllegalStateException e) {
            fail(e.getMessage());
        }
    }

    /**
     * The client settings of {@code read}, {@code models} and {@code generate} ({@link
     * #clientSettings}), checked against Kafka ({@link KafkaAccess}) so that a refused login stops
     * here with a message naming the settings.
     */
    private static KafkaClientProperties kafka(Map<String, String> options, String command) {
        KafkaClientProperties kafka = null;
        try {
            kafka = clientSettings(options, command);
            KafkaAccess.check(kafka);
        } catch (IOException e) {
            fail("cannot read --config " + options.get("config") + ": " + e);
        } catch (IllegalArgumentException | IllegalStateException e) {
            fail(e.getMessage());
        }
        return kafka;
    }

    /**
     * The {@code streamlearn.kafka.*} keys of {@code --config <file>} (the job's own file will do),
     * with {@code --bootstrap-servers} over the file's brokers.
     *
     * @throws IllegalArgumentException when neither names the brokers
     */
    static KafkaClientProperties clientSettings(Map<String, String> options, String command)
            throws IOException {
        Map<String, String> keys = new HashMap<>();
        String file = options.get("config");
        if (file != null) {
            keys.putAll(RunJob.load(Path.of(file)));
        }
        String servers = options.get("bootstrap-servers");
        if (servers != null) {
            keys.put(StreamlearnOptions.BOOTSTRAP_SERVERS.key(), servers);
        }
        if (!keys.containsKey(StreamlearnOptions.BOOTSTRAP_SERVERS.key())) {
            throw new IllegalArgumentException(
                    command
                            + " needs --bootstrap-servers <host:port> (or a --config file with "
                            + StreamlearnOptions.BOOTSTRAP_SERVERS.key()
                            + ")");
        }
        return KafkaClientProperties.from(Configuration.fromMap(keys));
    }

    private static long version(Map<String, String> options, String action) {
        String version = options.get("version");
        if (version == null || !version.matches("\\d+")) {
            fail("models " + action + " needs --version <number>, got '" + version + "'");
        }
        return Long.parseLong(version);
    }

    private static Map<String, String> options(String[] args, int from) {
        Map<String, String> options = new HashMap<>();
        for (int i = from; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                fail("expected --name value, got '" + args[i] + "'");
            }
            options.put(args[i].substring(2), args[++i]);
        }
        return options;
    }

    private static int positiveInt(Map<String, String> options, String name, int fallback) {
        String value = options.get(name);
        if (value == null) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(value);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // falls through to the error below
        }
        fail("--" + name + " must be a positive whole number, got '" + value + "'");
        return fallback;
    }

    private static void fail(String message) {
        System.err.println("streamlearn: " + message);
        System.err.println(USAGE);
        System.exit(2);
    }
}
