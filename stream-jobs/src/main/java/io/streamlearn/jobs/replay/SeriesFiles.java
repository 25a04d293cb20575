package io.streamlearn.jobs.replay;

import io.streamlearn.jobs.input.EventTimes;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Formatter;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The replay contract's files: input CSVs with the header {@code timestamp,value} (timestamps
 * {@code YYYY-MM-DD HH:MM:SS}, UTC), one series per file; output CSVs at the same relative path
 * with {@code timestamp,value,anomaly_score}, one row per input row read, same order. A file
 * without the header stops the read; a row that cannot be read (wrong number of columns, a bad
 * timestamp or value, not UTF-8, longer than {@link TextLines#MAX_LINE}) is left out and kept in
 * {@link Series#rejected()} with its line and reason; blank lines are skipped.
 */
public final class SeriesFiles {
    /** Strict: the default (smart) resolver reads 2026-02-30 as 02-28 and 24:00:00 as 00:00. */
    static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss", Locale.ROOT)
                    .withResolverStyle(ResolverStyle.STRICT);

    private static final String HEADER = "timestamp,value";

    private SeriesFiles() {}

    /** One row of a series: its position in the file, its time and value. */
    public record Row(int index, Instant time, String timestamp, String value, double number) {}

    /**
     * One input file; its id is its path relative to the input root.
     *
     * @param rows the rows read, in file order
     * @param rejected the rows that could not be read, left out of {@code rows}
     */
    public record Series(String id, List<Row> rows, List<RejectedRow> rejected) {
        /** A series with no rejected row. */
        public Series(String id, List<Row> rows) {
            this(id, rows, List.of());
        }
    }

    /** Reads a CSV file, or every {@code *.csv} under a folder (sorted by path). */
    public static List<Series> read(Path input) throws IOException {
        if (!Files.exists(input)) {
            throw new IllegalArgumentException("--input " + input + " does not exist");
        }
        List<Path> files;
        Path root;
        if (Files.isDirectory(input)) {
            root = input;
            files = csvFiles(input, "--input");
        } else {
            root = input.toAbsolutePath().getParent();
            files = List.of(input.toAbsolutePath());
        }
        List<Series> series = new ArrayList<>();
        for (Path file : files) {
            String id =
                    root.toAbsolutePath()
                            .relativize(file.toAbsolutePath())
                            .toString()
                            .replace('\\', '/');
            series.add(readFile(id, file));
        }
        if (series.stream().allMatch(s -> s.rows().isEmpty())
                && series.stream().anyMatch(s -> !s.rejected().isEmpty())) {
            RejectedRow first =
                    series.stream().flatMap(s -> s.rejected().stream()).findFirst().orElseThrow();
            throw new IllegalArgumentException(
                    "--input " + input + ": no row could be read; the first: " + first);
        }
        return series;
    }

    /**
     * Every {@code *.csv} file below a folder, sorted by path; none is an error naming the option.
     */
    static List<Path> csvFiles(Path folder, String option) throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(folder)) {
            files =
                    walk.filter(p -> Files.isRegularFile(p) && p.toString().endsWith(".csv"))
                            .sorted()
                            .toList();
        }
        if (files.isEmpty()) {
            throw new IllegalArgumentException(option + " " + folder + " holds no .csv files");
        }
        return files;
    }

    private static Series readFile(String id, Path file) throws IOException {
        List<Row> rows = new ArrayList<>();
        List<RejectedRow> rejected = new ArrayList<>();
        try (TextLines lines = new TextLines(file)) {
            TextLines.Line header = lines.next();
            if (header == null || header.text() == null || !header.text().trim().equals(HEADER)) {
                throw new IllegalArgumentException(
                        file
                                + ":1: expected the header '"
                                + HEADER
                                + "', got "
                                + (header == null
                                        ? "an empty file"
                                        : header.text() == null
                                                ? "a " + header.problem()
                                                : "'" + quote(header.text()) + "'"));
            }
            TextLines.Line line;
            while ((line = lines.next()) != null) {
                String problem = line.problem();
                if (problem == null) {
                    if (line.text().isBlank()) {
                        continue;
                    }
                    problem = parse(line.text().trim(), rows);
                }
                if (problem != null) {
                    rejected.add(new RejectedRow(file.toString(), line.number(), problem));
                }
            }
        }
        return new Series(id, rows, rejected);
    }

    /** Adds the row a line holds to {@code rows}; returns what is wrong with it instead, if any. */
    private static String parse(String line, List<Row> rows) {
        String[] cells = line.split(",", -1);
        if (cells.length != 2) {
            return "expected 2 columns (timestamp,value), got " + cells.length;
        }
        Instant time;
        try {
            time = LocalDateTime.parse(cells[0].trim(), TIMESTAMP).toInstant(ZoneOffset.UTC);
        } catch (DateTimeParseException e) {
            return "timestamp '" + quote(cells[0]) + "' is not YYYY-MM-DD HH:MM:SS";
        }
        double value;
        try {
            value = Double.parseDouble(cells[1].trim());
        } catch (NumberFormatException e) {
            return "value '" + quote(cells[1]) + "' is not a number";
        }
        if (!Double.isFinite(value) || Math.abs(value) > Float.MAX_VALUE) {
            return "value '" + quote(cells[1]) + "' is not finite as a float";
        }
        String range = EventTimes.problem("timestamp", time);
        if (range != null) {
            return range;
        }
        rows.add(new Row(rows.size(), time, cells[0].trim(), cells[1].trim(), value));
        return null;
    }

    /** A cell for a message: its start only, where it is long. */
    static String quote(String cell) {
        return cell.length() <= 100
                ? cell
                : cell.substring(0, 100) + "... (" + cell.length() + " characters)";
    }

    /** Every row of every series in event-time order; ties keep file order, then row order. */
    public static List<SeriesRow> inTimeOrder(List<Series> series) {
        List<SeriesRow> all = new ArrayList<>();
        for (Series s : series) {
            for (Row row : s.rows()) {
                all.add(new SeriesRow(s.id(), row));
            }
        }
        all.sort(Comparator.comparing((SeriesRow r) -> r.row().time()));
        return all;
    }

    /** A row with the series it belongs to. */
    public record SeriesRow(String seriesId, Row row) {}

    /** Writes one output file: the input rows with their scores, in input order. */
    public static void write(Path output, Series series, double[] scores) throws IOException {
        if (scores.length != series.rows().size()) {
            throw new IllegalStateException(
                    series.id()
                            + ": "
                            + scores.length
                            + " scores for "
                            + series.rows().size()
                            + " rows");
        }
        Path file = output.resolve(series.id());
        Files.createDirectories(file.getParent());
        // One Formatter for the file: String.format made one per row, and with it looked up the
        // locale's digits again each time.
        StringBuilder score = new StringBuilder();
        Formatter format = new Formatter(score, Locale.ROOT);
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            out.write("timestamp,value,anomaly_score\n");
            for (Row row : series.rows()) {
                out.write(row.timestamp());
                out.write(',');
                out.write(row.value());
                out.write(',');
                score.setLength(0);
                format.format("%.6f", scores[row.index()]);
                out.append(score);
                out.write('\n');
            }
        }
    }
}
