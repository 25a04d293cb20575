package io.streamlearn.jobs.replay;

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
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The replay contract's files: input CSVs with the header {@code timestamp,value} (timestamps
 * {@code YYYY-MM-DD HH:MM:SS}, UTC), one series per file; output CSVs at the same relative path
 * with {@code timestamp,value,anomaly_score}, one row per input row, same order.
 */
public final class SeriesFiles {
    static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");
    private static final String HEADER = "timestamp,value";

    private SeriesFiles() {}

    /** One row of a series: its position in the file, its time and value. */
    public record Row(int index, Instant time, String timestamp, String value, double number) {}

    /** One input file; its id is its path relative to the input root. */
    public record Series(String id, List<Row> rows) {}

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
            series.add(new Series(id, readFile(file)));
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

    private static List<Row> readFile(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        if (lines.isEmpty() || !lines.get(0).trim().equals(HEADER)) {
            throw new IllegalArgumentException(
                    file
                            + ":1: expected the header '"
                            + HEADER
                            + "', got '"
                            + (lines.isEmpty() ? "" : lines.get(0))
                            + "'");
        }
        List<Row> rows = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (line.isEmpty()) {
                continue;
            }
            String[] cells = line.split(",", -1);
            if (cells.length != 2) {
                throw new IllegalArgumentException(
                        file
                                + ":"
                                + (i + 1)
                                + ": expected 2 columns (timestamp,value), got "
                                + cells.length);
            }
            Instant time;
            double value;
            try {
                time = LocalDateTime.parse(cells[0].trim(), TIMESTAMP).toInstant(ZoneOffset.UTC);
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException(
                        file
                                + ":"
                                + (i + 1)
                                + ": timestamp '"
                                + cells[0]
                                + "' is not YYYY-MM-DD HH:MM:SS");
            }
            try {
                value = Double.parseDouble(cells[1].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(
                        file + ":" + (i + 1) + ": value '" + cells[1] + "' is not a number");
            }
            if (!Double.isFinite(value)) {
                throw new IllegalArgumentException(
                        file + ":" + (i + 1) + ": value '" + cells[1] + "' is not finite");
            }
            rows.add(new Row(rows.size(), time, cells[0].trim(), cells[1].trim(), value));
        }
        return rows;
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
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            out.write("timestamp,value,anomaly_score\n");
            for (Row row : series.rows()) {
                out.write(row.timestamp());
                out.write(',');
                out.write(row.value());
                out.write(',');
                out.write(String.format(Locale.ROOT, "%.6f", scores[row.index()]));
                out.write('\n');
            }
        }
    }
}
