package io.streamlearn.jobs.replay;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamlearn.jobs.feeds.AlertRule;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * Backtests the alert rule on scored files against labelled anomaly windows, as NAB counts it: for
 * each window, the first alert inside it (a detection; earlier is better) or none (missed); alerts
 * outside every window are false alarms. The alerts come from the same {@link AlertRule} as the
 * alert feed, applied to each file (one series) in row order.
 *
 * <p>Inputs: a folder of {@code replay anomaly} outputs (CSV with a header naming at least {@code
 * timestamp} and {@code anomaly_score}, timestamps {@code YYYY-MM-DD HH:MM:SS}), and a JSON object
 * mapping a file's relative path to its windows {@code [[start, end], ...]} (NAB's {@code
 * combined_windows.json} form; both ends inclusive, timestamps with an optional fraction). A scores
 * file matches the key equal to its path, or the one key that ends with it after a {@code /} (so
 * {@code --scores} may hold one folder of NAB's). As in NAB, the first {@code probation} of each
 * file's rows, at most {@code probation × 5000} rows, is a learning period: its rows neither alert
 * nor suppress.
 */
public final class AlertWindowReport {
    private AlertWindowReport() {}

    /** A labelled anomaly window, both ends inclusive. */
    public record Window(Instant start, Instant end) {
        boolean contains(Instant t) {
            return !t.isBefore(start) && !t.isAfter(end);
        }
    }

    /**
     * One file's outcome.
     *
     * @param firstAlerts for each window, the first alert inside it, or null when it was missed
     */
    public record FileResult(
            String file,
            List<Window> windows,
            List<Instant> firstAlerts,
            int alertsInside,
            int alertsOutside) {
        public long detected() {
            return firstAlerts.stream().filter(a -> a != null).count();
        }
    }

    /** The whole report: one result per scores file, and the labelled files that had none. */
    public record Report(
            AlertRule rule, double probation, List<FileResult> files, List<String> unscored) {}

    /** Reads the windows file: relative path of a series to its windows. */
    public static Map<String, List<Window>> readWindows(Path json) throws IOException {
        if (!Files.isRegularFile(json)) {
            throw new IllegalArgumentException("--windows " + json + " is not a file");
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json.toFile());
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(
                    json + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(
                    json + ": expected an object of \"file\": [[start, end], ...]");
        }
        Map<String, List<Window>> windows = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : root.properties()) {
            List<Window> list = new ArrayList<>();
            for (JsonNode pair : entry.getValue()) {
                if (!pair.isArray()
                        || pair.size() != 2
                        || !pair.get(0).isTextual()
                        || !pair.get(1).isTextual()) {
                    throw new IllegalArgumentException(
                            json
                                    + ": \""
                                    + entry.getKey()
                                    + "\": expected [start, end] pairs of timestamps, got "
                                    + pair);
                }
                Instant start = windowTime(json, entry.getKey(), pair.get(0).asText());
                Instant end = windowTime(json, entry.getKey(), pair.get(1).asText());
                if (end.isBefore(start)) {
                    throw new IllegalArgumentException(
                            json + ": \"" + entry.getKey() + "\": window ends before it starts");
                }
                list.add(new Window(start, end));
            }
            windows.put(entry.getKey(), List.copyOf(list));
        }
        return windows;
    }

    private static Instant windowTime(Path json, String file, String text) {
        try {
            return Timestamps.dateTime(text.trim());
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(
                    json
                            + ": \""
                            + file
                            + "\": '"
                            + text
                            + "' is not YYYY-MM-DD HH:MM:SS[.ffffff]");
        }
    }

    /** Applies the rule to every {@code *.csv} under {@code scores} and scores it. */
    public static Report run(Path scores, Path windowsJson, AlertRule rule, double probation)
            throws IOException {
        if (!(probation >= 0 && probation < 1)) {
            throw new IllegalArgumentException(
                    "--probation must be a fraction in [0, 1), got " + probation);
        }
        if (!Files.isDirectory(scores)) {
            throw new IllegalArgumentException("--scores " + scores + " is not a folder");
        }
        Map<String, List<Window>> windows = readWindows(windowsJson);
        List<Path> files = SeriesFiles.csvFiles(scores, "--scores");
        TreeSet<String> unscored = new TreeSet<>(windows.keySet());
        List<FileResult> results = new ArrayList<>();
        for (Path file : files) {
            String id = scores.relativize(file).toString().replace('\\', '/');
            String key = windowsKey(id, windows);
            unscored.remove(key);
            List<Window> labelled = key == null ? List.of() : windows.get(key);
            results.add(
                    evaluate(key == null ? id : key, readScores(file), labelled, rule, probation));
        }
        return new Report(rule, probation, results, List.copyOf(unscored));
    }

    static String windowsKey(String id, Map<String, List<Window>> windows) {
        if (windows.containsKey(id)) {
            return id;
        }
        List<String> matches = windows.keySet().stream().filter(k -> k.endsWith("/" + id)).toList();
        if (matches.size() > 1) {
            throw new IllegalArgumentException(
                    id + " matches several files of the windows: " + matches);
        }
        return matches.isEmpty() ? null : matches.get(0);
    }

    /** One scored row of a file. */
    public record Score(Instant time, double score) {}

    /**
     * Reads a scores CSV: the {@code timestamp} and {@code anomaly_score} columns, in row order.
     */
    static List<Score> readScores(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<String> header =
                lines.isEmpty() ? List.of() : Arrays.asList(lines.get(0).trim().split(",", -1));
        int time = header.indexOf("timestamp");
        int score = header.indexOf("anomaly_score");
        if (time < 0 || score < 0) {
            throw new IllegalArgumentException(
                    file
                            + ":1: expected a header with timestamp and anomaly_score, got '"
                            + (lines.isEmpty() ? "" : lines.get(0))
                            + "'");
        }
        List<Score> scores = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (line.isEmpty()) {
                continue;
            }
            String[] cells = line.split(",", -1);
            if (cells.length < header.size()) {
                throw new IllegalArgumentException(
                        file
                                + ":"
                                + (i + 1)
                                + ": expected "
                                + header.size()
                                + " columns, got "
                                + cells.length);
            }
            try {
                scores.add(
                        new Score(
                                Timestamps.dateTime(cells[time].trim()),
                                Double.parseDouble(cells[score].trim())));
            } catch (DateTimeParseException | NumberFormatException e) {
                throw new IllegalArgumentException(
                        file
                                + ":"
                                + (i + 1)
                                + ": expected a YYYY-MM-DD HH:MM:SS timestamp and a number, got '"
                                + line
                                + "'");
            }
        }
        return scores;
    }

    /**
     * Rows of a file of {@code rows} that are its learning period, NAB's rule (the one {@link
     * NabScore} was calibrated with): the fraction of the rows, at most that fraction of 5000.
     */
    static int probationRows(int rows, double probation) {
        return (int) Math.ceil(Math.min(Math.floor(probation * rows), probation * 5000));
    }

    /** Applies the rule to one file's scores, in row order, and matches alerts to its windows. */
    public static FileResult evaluate(
            String file,
            List<Score> scores,
            List<Window> windows,
            AlertRule rule,
            double probation) {
        Instant[] first = new Instant[windows.size()];
        int inside = 0;
        int outside = 0;
        Instant lastAlert = null;
        for (Score s : scores.subList(probationRows(scores.size(), probation), scores.size())) {
            if (!rule.alerts(s.score(), s.time(), lastAlert)) {
                continue;
            }
            lastAlert = s.time();
            boolean in = false;
            for (int w = 0; w < windows.size(); w++) {
                if (windows.get(w).contains(s.time())) {
                    in = true;
                    if (first[w] == null) {
                        first[w] = s.time();
                    }
                }
            }
            if (in) {
                inside++;
            } else {
                outside++;
            }
        }
        return new FileResult(file, windows, Arrays.asList(first), inside, outside);
    }

    /** The report as a Markdown table, a row per file and a total. */
    public static String markdown(Report report) {
        StringBuilder out = new StringBuilder();
        out.append(
                String.format(
                        Locale.ROOT,
                        "Alerts at threshold %s, suppression %s; the first %s %% of each file's"
                                + " rows (at most %d) ignored as a learning period.%n%n",
                        report.rule().threshold(),
                        span(report.rule().suppression()),
                        trim(report.probation() * 100),
                        (int) (report.probation() * 5000)));
        out.append(
                "| file | windows | detected | first alert in each window (after its start) |"
                        + " alerts outside windows |\n");
        out.append("|---|---:|---:|---|---:|\n");
        int windows = 0;
        long detected = 0;
        int outside = 0;
        for (FileResult f : report.files()) {
            List<String> firsts = new ArrayList<>();
            for (int w = 0; w < f.windows().size(); w++) {
                Instant alert = f.firstAlerts().get(w);
                firsts.add(
                        alert == null
                                ? "missed"
                                : Timestamps.PRINTED.format(alert)
                                        + " (+"
                                        + span(Duration.between(f.windows().get(w).start(), alert))
                                        + ")");
            }
            out.append(
                    String.format(
                            Locale.ROOT,
                            "| %s | %d | %d | %s | %d |%n",
                            f.file(),
                            f.windows().size(),
                            f.detected(),
                            firsts.isEmpty() ? "(no windows)" : String.join("; ", firsts),
                            f.alertsOutside()));
            windows += f.windows().size();
            detected += f.detected();
            outside += f.alertsOutside();
        }
        out.append(
                String.format(
                        Locale.ROOT,
                        "| **total** | %d | %d | | %d |%n",
                        windows,
                        detected,
                        outside));
        if (!report.unscored().isEmpty()) {
            out.append(
                    String.format(
                            "%nLabelled files without scores (not counted): %s%n",
                            String.join(", ", report.unscored())));
        }
        return out.toString();
    }

    /** A duration as {@code 2d3h}, {@code 16h50m}, {@code 10m}, {@code 30s} or {@code 0m}. */
    static String span(Duration d) {
        if (d.toMinutes() == 0 && d.toSeconds() > 0) {
            return d.toSeconds() + "s";
        }
        long minutes = d.toMinutes();
        long days = minutes / (24 * 60);
        long hours = minutes / 60 % 24;
        long mins = minutes % 60;
        StringBuilder s = new StringBuilder();
        if (days > 0) {
            s.append(days).append('d');
        }
        if (hours > 0) {
            s.append(hours).append('h');
        }
        if (mins > 0 || s.length() == 0) {
            s.append(mins).append('m');
        }
        return s.toString();
    }

    static String trim(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
}
