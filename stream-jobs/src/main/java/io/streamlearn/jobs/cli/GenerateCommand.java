package io.streamlearn.jobs.cli;

import io.streamlearn.jobs.KafkaAccess;
import io.streamlearn.jobs.KafkaClientProperties;
import io.streamlearn.jobs.StreamlearnOptions;
import io.streamlearn.jobs.replay.InteractionFiles;
import io.streamlearn.jobs.runtime.ClickstreamGenerator;
import io.streamlearn.jobs.runtime.EventProducer;
import io.streamlearn.models.bench.ModelBenchmark;
import io.streamlearn.schemas.InteractionEvent;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * {@code streamlearn generate}: generated events for a user's own Kafka, or a generated history
 * file. {@code --type metric} (the default) writes {@code MetricGenerator} series; {@code --type
 * interaction} a {@link ClickstreamGenerator} clickstream, to Kafka at {@code --rate} events/s, or
 * with {@code --output <file>} as fast as it goes to a CSV file in the format {@code replay
 * recommend --input} reads ({@link InteractionFiles}).
 */
final class GenerateCommand {
    /** The options of every type. */
    private static final Set<String> COMMON =
            Set.of(
                    "type",
                    "bootstrap-servers",
                    "config",
                    "topic",
                    "rate",
                    "duration",
                    "count",
                    "seed");

    /** The options of {@code --type interaction} beyond {@link #COMMON}. */
    private static final Set<String> CLICKS =
            Set.of(
                    "output",
                    "users",
                    "items",
                    "successors",
                    "follow",
                    "skew",
                    "popular-successors",
                    "session-length",
                    "active-users",
                    "drift-at");

    private GenerateCommand() {}

    /**
     * Runs the command.
     *
     * @param options {@code --name value} pairs, names without the dashes
     * @param stop turns true on Ctrl-C: writing stops after the record in progress
     * @return the exit code: 0 done, 2 for a usage error or a failure to write
     */
    static int run(
            Map<String, String> options, AtomicBoolean stop, PrintStream out, PrintStream err) {
        try {
            String type = options.getOrDefault("type", "metric");
            switch (type) {
                case "metric" -> metrics(options, stop, out);
                case "interaction" -> clicks(options, stop, out);
                default ->
                        throw new IllegalArgumentException(
                                "--type must be metric or interaction, got '" + type + "'");
            }
            return 0;
        } catch (IllegalArgumentException | IllegalStateException e) {
            err.println("streamlearn generate: " + e.getMessage());
            err.println(Streamlearn.USAGE);
            return 2;
        } catch (IOException e) {
            err.println("streamlearn generate: " + e);
            return 2;
        } catch (UncheckedIOException e) {
            err.println("streamlearn generate: " + e.getCause());
            return 2;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("streamlearn generate: interrupted");
            return 1;
        }
    }

    private static void metrics(Map<String, String> options, AtomicBoolean stop, PrintStream out)
            throws IOException, InterruptedException {
        known(options, COMMON, Set.of("series"), "metric");
        int series = ModelBenchmark.positive(options, "series", 8);
        String topic =
                options.getOrDefault("topic", StreamlearnOptions.EVENTS_TOPIC.defaultValue());
        Supplier<EventProducer.Message> events =
                EventProducer.metrics(series, longOption(options, "seed", 7));
        toKafka(options, topic, events, stop, out, series + " series");
    }

    private static void clicks(Map<String, String> options, AtomicBoolean stop, PrintStream out)
            throws IOException, InterruptedException {
        known(options, COMMON, CLICKS, "interaction");
        ClickstreamGenerator generator = clickstream(options);
        String what =
                "a clickstream of "
                        + options.getOrDefault("users", "50")
                        + " users and "
                        + options.getOrDefault("items", "200")
                        + " items";
        if (!options.containsKey("output")) {
            String topic =
                    options.getOrDefault(
                            "topic", StreamlearnOptions.INTERACTIONS_TOPIC.defaultValue());
            toKafka(options, topic, EventProducer.interactions(generator), stop, out, what);
            return;
        }
        for (String kafkaOnly :
                Set.of("bootstrap-servers", "config", "topic", "rate", "duration")) {
            if (options.containsKey(kafkaOnly)) {
                throw new IllegalArgumentException(
                        "--" + kafkaOnly + " is for Kafka; with --output give --count <events>");
            }
        }
        Path file = Path.of(options.get("output"));
        long count = longOption(options, "count", -1);
        if (count < 1) {
            throw new IllegalArgumentException(
                    "--output needs --count <events> (at least 1), got '"
                            + options.get("count")
                            + "'");
        }
        out.printf("Generating %s into %s%n", what, file);
        long written = writeFile(file, generator, count, stop);
        out.println("streamlearn generate: " + written + " events written to " + file);
    }

    /**
     * Writes {@code count} events (fewer if {@code stop} turns true) as a history file, streaming:
     * memory does not grow with the count.
     *
     * @return the events written
     */
    static long writeFile(Path file, ClickstreamGenerator generator, long count, AtomicBoolean stop)
            throws IOException {
        long first = generator.count();
        Iterable<InteractionEvent> events =
                () ->
                        new Iterator<>() {
                            @Override
                            public boolean hasNext() {
                                return generator.count() - first < count && !stop.get();
                            }

                            @Override
                            public InteractionEvent next() {
                                if (!hasNext()) {
                                    throw new NoSuchElementException();
                                }
                                return generator.next();
                            }
                        };
        InteractionFiles.write(file, events);
        return generator.count() - first;
    }

    /** The generator {@code --type interaction}'s options describe; absent ones keep defaults. */
    static ClickstreamGenerator clickstream(Map<String, String> options) {
        ClickstreamGenerator.Builder b = ClickstreamGenerator.builder();
        if (options.containsKey("users")) {
            b.optUsers(ModelBenchmark.positive(options, "users", 0));
        }
        if (options.containsKey("items")) {
            b.optItems(ModelBenchmark.positive(options, "items", 0));
        }
        if (options.containsKey("successors")) {
            b.optSuccessors(ModelBenchmark.positive(options, "successors", 0));
        }
        if (options.containsKey("follow")) {
            b.optFollow(ReplayCommands.number(options, "follow", 0));
        }
        if (options.containsKey("skew")) {
            b.optSkew(ReplayCommands.number(options, "skew", 0));
        }
        if (options.containsKey("popular-successors")) {
            b.optPopularSuccessors(bool(options, "popular-successors"));
        }
        if (options.containsKey("session-length")) {
            b.optSessionLength(ReplayCommands.number(options, "session-length", 0));
        }
        if (options.containsKey("active-users")) {
            b.optActiveUsers(ModelBenchmark.positive(options, "active-users", 0));
        }
        if (options.containsKey("drift-at")) {
            long driftAt = longOption(options, "drift-at", -1);
            if (driftAt < 0) {
                throw new IllegalArgumentException(
                        "--drift-at must be an event number (0 or more), got " + driftAt);
            }
            b.optDriftAt(driftAt);
        }
        if (options.containsKey("seed")) {
            b.optSeed(longOption(options, "seed", 7));
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            // The builder names its setting; the user knows the option.
            throw new IllegalArgumentException(
                    "a generate option is out of range: " + e.getMessage());
        }
    }

    private static void toKafka(
            Map<String, String> options,
            String topic,
            Supplier<EventProducer.Message> events,
            AtomicBoolean stop,
            PrintStream out,
            String what)
            throws IOException, InterruptedException {
        KafkaClientProperties kafka = Streamlearn.clientSettings(options, "generate");
        KafkaAccess.check(kafka);
        int rate = ModelBenchmark.positive(options, "rate", 100);
        if (options.containsKey("duration") && options.containsKey("count")) {
            throw new IllegalArgumentException("give --duration or --count, not both");
        }
        long count = longOption(options, "count", Long.MAX_VALUE);
        if (count < 1) {
            throw new IllegalArgumentException("--count must be at least 1, got " + count);
        }
        if (options.containsKey("duration")) {
            count =
                    Math.max(
                            1,
                            rate * ReplayCommands.duration(options, "duration", null).toSeconds());
        }
        out.printf(
                "Generating %s at %d events/s into %s at %s%n",
                what, rate, topic, kafka.bootstrapServers());
        AtomicLong produced = new AtomicLong();
        EventProducer.run(kafka, topic, events, rate, 0, count, produced, stop);
        out.println("streamlearn generate: " + produced.get() + " events written");
    }

    private static void known(
            Map<String, String> options, Set<String> common, Set<String> own, String type) {
        for (String name : options.keySet()) {
            if (!common.contains(name) && !own.contains(name)) {
                throw new IllegalArgumentException(
                        "unknown option --" + name + " for --type " + type);
            }
        }
    }

    private static long longOption(Map<String, String> options, String name, long fallback) {
        String value = options.get(name);
        if (value == null) {
            return fallback;
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "--" + name + " must be a whole number, got '" + value + "'");
        }
    }

    private static boolean bool(Map<String, String> options, String name) {
        String value = options.get(name);
        if (!value.equals("true") && !value.equals("false")) {
            throw new IllegalArgumentException(
                    "--" + name + " must be true or false, got '" + value + "'");
        }
        return value.equals("true");
    }
}
