package io.streamlearn.jobs.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamlearn.jobs.StreamlearnOptions;
import io.streamlearn.jobs.feeds.AlertRule;
import io.streamlearn.jobs.feeds.FeedOptions;
import io.streamlearn.jobs.replay.AlertWindowReport;
import io.streamlearn.jobs.replay.AnomalyReplay;
import io.streamlearn.jobs.replay.InteractionFiles;
import io.streamlearn.jobs.replay.NabScore;
import io.streamlearn.jobs.replay.RecommendReplay;
import io.streamlearn.jobs.runtime.JobWatch;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.flink.util.TimeUtils;

/**
 * {@code streamlearn replay <subcommand>}: backtests on files. {@code anomaly} and {@code
 * recommend} run the jobs on a history ({@link AnomalyReplay}, {@link RecommendReplay}); {@code
 * report} applies the alert rule to scored files and counts the alerts against labelled anomaly
 * windows ({@link AlertWindowReport}); {@code score} scores them as the Numenta Anomaly Benchmark
 * does ({@link NabScore}).
 */
public final class ReplayCommands {
    static final String USAGE =
            String.join(
                    "\n",
                    "usage: streamlearn replay <subcommand> [options]",
                    "",
                    "  anomaly --input <csv file or folder> --output <folder> [--model lstm]"
                            + " [--config <file.properties>]",
                    "        the metrics job on series of timestamp,value rows, in time order;"
                            + " writes each file back",
                    "        with an anomaly_score per row (from that row and the rows before"
                            + " it only)",
                    "  recommend --input <file> --output <folder> [--delimiter ,] [--header true]"
                            + " [--user-column user]",
                    "        [--item-column item] [--time-column timestamp] [--model gru] [--k"
                            + " 10] [--exclude-seen false]",
                    "        [--config <file.properties>]",
                    "        the recommendation job on a history of interactions, prequential;"
                            + " writes metrics.json",
                    "        and curve.csv (the model next to the popularity and transition"
                            + " baselines)",
                    "  report --scores <folder> --windows <windows.json> [--threshold 0.65]"
                            + " [--suppression 10m] [--probation 0.15]",
                    "        the alert rule on scored CSVs (timestamp,value,anomaly_score) against"
                            + " labelled windows:",
                    "        per file, the first alert in each window or 'missed', and the alerts"
                            + " outside windows (Markdown)",
                    "  score --scores <folder> --windows <windows.json> [--probation 0.15]"
                            + " [--json <file>]",
                    "        NAB's scoring of scored CSVs against labelled windows: the standard,"
                            + " reward-low-FP and",
                    "        reward-low-FN scores (0 never alerts, 100 perfect), each with the"
                            + " threshold that maximises it",
                    "        over all files, and a per-file breakdown (Markdown; JSON to --json,"
                            + " default <scores>/nab_score.json)");

    private ReplayCommands() {}

    /**
     * Runs one subcommand.
     *
     * @return the exit code: 0 done, 2 for a usage or input error, 1 when the job failed (the
     *     message on {@code err}: the root cause, one line)
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
            out.println(USAGE);
            return 0;
        }
        try {
            Map<String, String> options = options(args);
            switch (args[0]) {
                case "report" -> report(options, out);
                case "score" -> score(options, out);
                case "anomaly" -> anomaly(options, out);
                case "recommend" -> recommend(options, out);
                default ->
                        throw new IllegalArgumentException(
                                "unknown replay subcommand '" + args[0] + "'");
            }
            return 0;
        } catch (IllegalArgumentException e) {
            err.println("streamlearn replay: " + e.getMessage());
            err.println(USAGE);
            return 2;
        } catch (IOException e) {
            err.println("streamlearn replay: " + e);
            return 2;
        } catch (UncheckedIOException e) {
            err.println("streamlearn replay: " + e.getCause());
            return 2;
        } catch (IllegalStateException e) {
            // A job that failed for good, or a check before it started: the message says why.
            err.println("streamlearn replay: " + e.getMessage());
            return 1;
        } catch (Exception e) {
            err.println("streamlearn replay: the job failed: " + JobWatch.rootCause(e));
            return 1;
        }
    }

    private static void anomaly(Map<String, String> options, PrintStream out) throws Exception {
        known(options, Set.of("input", "output", "model", "config"));
        AnomalyReplay.run(
                Path.of(required(options, "input")),
                Path.of(required(options, "output")),
                jobKeys(options),
                out);
    }

    private static void recommend(Map<String, String> options, PrintStream out) throws Exception {
        Set<String> names = new HashSet<>(InteractionFiles.Options.NAMES);
        names.addAll(Set.of("input", "output", "model", "k", "exclude-seen", "config"));
        known(options, names);
        Map<String, String> job = jobKeys(options);
        job.putIfAbsent(StreamlearnOptions.FAMILY.key(), "gru");
        if (options.containsKey("k")) {
            job.put(StreamlearnOptions.RECOMMEND_K.key(), options.get("k"));
        }
        if (options.containsKey("exclude-seen")) {
            job.put(StreamlearnOptions.EXCLUDE_SEEN.key(), options.get("exclude-seen"));
        }
        RecommendReplay.run(
                Path.of(required(options, "input")),
                InteractionFiles.Options.parse(options),
                Path.of(required(options, "output")),
                job,
                out);
    }

    /** The job's keys: {@code --config}'s, then {@code --model}. */
    private static Map<String, String> jobKeys(Map<String, String> options) throws IOException {
        Map<String, String> job = new HashMap<>();
        if (options.containsKey("config")) {
            job.putAll(RunJob.load(Path.of(options.get("config"))));
        }
        if (options.containsKey("model")) {
            job.put(StreamlearnOptions.FAMILY.key(), options.get("model"));
        }
        return job;
    }

    private static void report(Map<String, String> options, PrintStream out) throws IOException {
        known(options, Set.of("scores", "windows", "threshold", "suppression", "probation"));
        AlertRule rule =
                new AlertRule(
                        number(options, "threshold", FeedOptions.ALERT_THRESHOLD.defaultValue()),
                        duration(
                                options,
                                "suppression",
                                FeedOptions.ALERT_SUPPRESSION.defaultValue()));
        out.print(
                AlertWindowReport.markdown(
                        AlertWindowReport.run(
                                Path.of(required(options, "scores")),
                                Path.of(required(options, "windows")),
                                rule,
                                number(options, "probation", 0.15))));
    }

    private static void score(Map<String, String> options, PrintStream out) throws IOException {
        known(options, Set.of("scores", "windows", "probation", "json"));
        Path scores = Path.of(required(options, "scores"));
        NabScore.Report report =
                NabScore.run(
                        scores,
                        Path.of(required(options, "windows")),
                        number(options, "probation", NabScore.DEFAULT_PROBATION));
        Path json =
                options.containsKey("json")
                        ? Path.of(options.get("json"))
                        : scores.resolve("nab_score.json");
        new ObjectMapper()
                .writerWithDefaultPrettyPrinter()
                .writeValue(json.toFile(), NabScore.json(report));
        out.print(NabScore.markdown(report));
        out.println();
        out.println("JSON: " + json);
    }

    /** {@code --name value} pairs after the subcommand. */
    static Map<String, String> options(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --name value, got '" + args[i] + "'");
            }
            options.put(args[i].substring(2), args[++i]);
        }
        return options;
    }

    static void known(Map<String, String> options, Set<String> names) {
        for (String name : options.keySet()) {
            if (!names.contains(name)) {
                throw new IllegalArgumentException("unknown option --" + name);
            }
        }
    }

    static String required(Map<String, String> options, String name) {
        String value = options.get(name);
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("--" + name + " is required");
        }
        return value;
    }

    static double number(Map<String, String> options, String name, double fallback) {
        String value = options.get(name);
        if (value == null) {
            return fallback;
        }
        try {
            return Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "--" + name + " must be a number, got '" + value + "'");
        }
    }

    static Duration duration(Map<String, String> options, String name, Duration fallback) {
        String value = options.get(name);
        if (value == null) {
            return fallback;
        }
        try {
            return TimeUtils.parseDuration(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "--" + name + " must be a duration (10m, 30s, 1h), got '" + value + "'");
        }
    }
}
