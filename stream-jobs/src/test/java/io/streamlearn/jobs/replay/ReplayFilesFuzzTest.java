package io.streamlearn.jobs.replay;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.BiFunction;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * Bad rows at volume for the CSV readers of {@code replay}: {@value #TRIES} generated files each,
 * every file with {@value #BAD_PER_FILE} bad rows (wrong column counts, malformed and out-of-range
 * timestamps, values that are no finite float, unclosed quotes, bytes that are not UTF-8, lines
 * over the length limit) among good rows and blank lines. The reader must not throw, must report
 * each bad row once with its line and a reason, and must read every good row as it was written. The
 * counts are printed at the end.
 */
class ReplayFilesFuzzTest {
    static final int TRIES = 1_000;
    static final int BAD_PER_FILE = 10;

    /** The counts of one reader's run. */
    private static final class Counts {
        long files;
        long lines;
        long bad;
        long rejected;
        long good;
        long goodUnchanged;
        final Map<String, Long> badByKind = new TreeMap<>();

        @Override
        public String toString() {
            return String.format(
                    Locale.ROOT,
                    "files %d, lines %d, bad rows %d, rejected with line and reason %d, good rows"
                            + " %d of which read unchanged %d; bad by kind %s",
                    files,
                    lines,
                    bad,
                    rejected,
                    good,
                    goodUnchanged,
                    badByKind);
        }
    }

    private static final Map<String, Counts> COUNTS = new TreeMap<>();

    @AfterContainer
    static void printCounts() {
        COUNTS.forEach((reader, c) -> System.out.printf("fuzz %s: %s%n", reader, c));
        for (var entry : COUNTS.entrySet()) {
            Counts c = entry.getValue();
            if (c.bad < (long) TRIES * BAD_PER_FILE || c.rejected != c.bad) {
                throw new AssertionError(entry.getKey() + ": " + c);
            }
        }
    }

    /** One line of a generated file: its bytes, and what it must read as (null: rejected). */
    private record Line(byte[] bytes, String kind, Object expected) {
        static Line text(String text, String kind, Object expected) {
            return new Line(text.getBytes(StandardCharsets.UTF_8), kind, expected);
        }

        boolean bad() {
            return expected == null && !kind.equals("blank") && !kind.equals("header");
        }
    }

    /** A generated file: its lines in order (the header first). */
    private record File(List<Line> lines) {
        @Override
        public String toString() {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < lines.size(); i++) {
                Line l = lines.get(i);
                String text = new String(l.bytes(), StandardCharsets.UTF_8);
                b.append(i + 1)
                        .append(' ')
                        .append(l.kind())
                        .append(": ")
                        .append(text.length() > 80 ? text.substring(0, 80) + "..." : text)
                        .append('\n');
            }
            return b.toString();
        }
    }

    /** Bad lines that hold for any CSV: not UTF-8, or longer than the reader's limit. */
    private static Line bytesGoneBad(Random random, String goodRow) {
        if (random.nextInt(40) == 0) {
            return Line.text(
                    goodRow + ",".repeat(TextLines.MAX_LINE + random.nextInt(1000)),
                    "line over the limit",
                    null);
        }
        byte[][] invalid = {
            {(byte) 0xFF},
            {(byte) 0xFE},
            {(byte) 0xC0, (byte) 0x80},
            {(byte) 0x80},
            {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
            {(byte) 0xC3}
        };
        byte[] row = goodRow.getBytes(StandardCharsets.US_ASCII);
        int at = random.nextInt(row.length + 1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(row, 0, at);
        out.writeBytes(invalid[random.nextInt(invalid.length)]);
        out.write(row, at, row.length - at);
        return new Line(out.toByteArray(), "not UTF-8", null);
    }

    /**
     * {@value #BAD_PER_FILE} bad lines, up to 20 good ones and a few blank ones, shuffled after a
     * good first row (which, for interactions, decides the timestamp form).
     */
    private static Arbitrary<File> file(
            String header,
            BiFunction<Random, Integer, Line> good,
            BiFunction<Random, Integer, Line> bad) {
        return Arbitraries.randomValue(
                random -> {
                    int kind = random.nextInt(4);
                    List<Line> body = new ArrayList<>();
                    for (int i = 0; i < BAD_PER_FILE; i++) {
                        body.add(bad.apply(random, kind));
                    }
                    for (int i = random.nextInt(21); i > 0; i--) {
                        body.add(good.apply(random, kind));
                    }
                    for (int i = random.nextInt(3); i > 0; i--) {
                        body.add(Line.text(random.nextBoolean() ? "" : " \t", "blank", null));
                    }
                    Collections.shuffle(body, random);
                    List<Line> lines = new ArrayList<>();
                    lines.add(Line.text(header, "header", null));
                    lines.add(good.apply(random, kind));
                    lines.addAll(body);
                    return new File(lines);
                });
    }

    private static Path write(File file) {
        try {
            Path path = Files.createTempFile("fuzz", ".csv");
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (Line line : file.lines()) {
                out.writeBytes(line.bytes());
                out.write('\n');
            }
            Files.write(path, out.toByteArray());
            return path;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Checks the rejected rows against the bad lines: each once, in order, with a reason. */
    private static void checkRejected(
            String reader, File file, List<RejectedRow> rejected, Counts counts) {
        List<Long> expected = new ArrayList<>();
        for (int i = 0; i < file.lines().size(); i++) {
            Line line = file.lines().get(i);
            counts.lines++;
            if (line.bad()) {
                expected.add(i + 1L);
                counts.bad++;
                counts.badByKind.merge(line.kind(), 1L, Long::sum);
            }
        }
        List<Long> got = rejected.stream().map(RejectedRow::line).toList();
        if (!expected.equals(got)) {
            throw new AssertionError(
                    reader
                            + ": rejected lines "
                            + got
                            + ", expected "
                            + expected
                            + "; reasons "
                            + rejected
                            + " in\n"
                            + file);
        }
        for (RejectedRow row : rejected) {
            if (row.reason() == null || row.reason().isBlank() || row.reason().length() > 400) {
                throw new AssertionError(reader + ": a reason must say why, briefly: " + row);
            }
            counts.rejected++;
        }
    }

    // ---- replay anomaly: SeriesFiles ---------------------------------------------------------

    private static final DateTimeFormatter SERIES_TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss", Locale.ROOT)
                    .withZone(ZoneOffset.UTC);

    @Property(tries = TRIES, shrinking = ShrinkingMode.OFF)
    void seriesFilesReportEveryBadRowAndReadEveryGoodOne(@ForAll("series") File file)
            throws Exception {
        Path path = write(file);
        try {
            List<SeriesFiles.Series> read;
            try {
                read = SeriesFiles.read(path);
            } catch (RuntimeException e) {
                throw new AssertionError("SeriesFiles threw " + e + " on\n" + file, e);
            }
            Counts counts = COUNTS.computeIfAbsent("SeriesFiles", r -> new Counts());
            counts.files++;
            SeriesFiles.Series series = read.get(0);
            checkRejected("SeriesFiles", file, series.rejected(), counts);
            List<SeriesFiles.Row> expected =
                    file.lines().stream()
                            .filter(l -> l.expected() != null)
                            .map(l -> (SeriesFiles.Row) l.expected())
                            .toList();
            for (int i = 0; i < expected.size(); i++) {
                SeriesFiles.Row want = expected.get(i);
                SeriesFiles.Row row = series.rows().get(i);
                if (!new SeriesFiles.Row(
                                i, want.time(), want.timestamp(), want.value(), want.number())
                        .equals(row)) {
                    throw new AssertionError(
                            "SeriesFiles: row " + i + " is " + row + ", not " + want);
                }
                counts.good++;
                counts.goodUnchanged++;
            }
            if (series.rows().size() != expected.size()) {
                throw new AssertionError(
                        "SeriesFiles: "
                                + series.rows().size()
                                + " rows, expected "
                                + expected.size());
            }
        } finally {
            Files.delete(path);
        }
    }

    @Provide
    Arbitrary<File> series() {
        return file(
                "timestamp,value",
                ReplayFilesFuzzTest::goodSeriesRow,
                ReplayFilesFuzzTest::badSeriesRow);
    }

    private static Instant goodTime(Random random) {
        return Instant.ofEpochSecond(-2_208_988_800L + (long) (random.nextDouble() * 6.3e9));
    }

    private static Line goodSeriesRow(Random random, int unused) {
        Instant time = goodTime(random);
        String timestamp = SERIES_TIME.format(time);
        double number =
                switch (random.nextInt(4)) {
                    case 0 -> random.nextInt(1000);
                    case 1 -> random.nextGaussian() * 1e6;
                    case 2 ->
                            (random.nextBoolean() ? 1 : -1) * Float.MAX_VALUE * random.nextDouble();
                    default -> random.nextGaussian();
                };
        String value =
                random.nextBoolean() ? Double.toString(number) : String.valueOf((long) number);
        double parsed = Double.parseDouble(value);
        return Line.text(
                timestamp + "," + value,
                "good",
                new SeriesFiles.Row(-1, time, timestamp, value, parsed));
    }

    private static Line badSeriesRow(Random random, int unused) {
        String timestamp = SERIES_TIME.format(goodTime(random));
        String value = Double.toString(random.nextGaussian());
        return switch (random.nextInt(9)) {
            case 0 -> Line.text(timestamp, "one column", null);
            case 1 -> Line.text(timestamp + "," + value + "," + value, "three columns", null);
            case 2 ->
                    Line.text(
                            List.of(
                                                    "2026-02-30 00:00:00",
                                                    "2026-01-01",
                                                    "2026-01-01T00:00:00Z",
                                                    "yesterday",
                                                    "1767225600",
                                                    "2026-01-01 24:00:00")
                                            .get(random.nextInt(6))
                                    + ","
                                    + value,
                            "bad timestamp",
                            null);
            case 3 ->
                    Line.text(
                            timestamp
                                    + ","
                                    + List.of(
                                                    "NaN",
                                                    "Infinity",
                                                    "-Infinity",
                                                    "1e39",
                                                    "-3.5e38",
                                                    "x",
                                                    "")
                                            .get(random.nextInt(7)),
                            "bad value",
                            null);
            case 4 ->
                    Line.text(
                            (random.nextBoolean() ? "0000" : "+10000") + "-06-01 00:00:00," + value,
                            "time out of range",
                            null);
            case 5 ->
                    Line.text(
                            timestamp + "," + "9".repeat(400) + "e" + random.nextInt(10),
                            "value beyond a float",
                            null);
            case 6 -> Line.text(",", "empty cells", null);
            default -> bytesGoneBad(random, timestamp + "," + value);
        };
    }

    // ---- replay recommend: InteractionFiles --------------------------------------------------

    @Property(tries = TRIES, shrinking = ShrinkingMode.OFF)
    void interactionFilesReportEveryBadRowAndReadEveryGoodOne(@ForAll("interactions") File file)
            throws Exception {
        Path path = write(file);
        try {
            InteractionFiles.History read;
            try {
                read = InteractionFiles.history(path, InteractionFiles.Options.defaults());
            } catch (RuntimeException e) {
                throw new AssertionError("InteractionFiles threw " + e + " on\n" + file, e);
            }
            Counts counts = COUNTS.computeIfAbsent("InteractionFiles", r -> new Counts());
            counts.files++;
            checkRejected("InteractionFiles", file, read.rejected(), counts);
            List<InteractionFiles.Interaction> expected = new ArrayList<>();
            for (int i = 0; i < file.lines().size(); i++) {
                if (file.lines().get(i).expected() instanceof InteractionFiles.Interaction want) {
                    expected.add(
                            new InteractionFiles.Interaction(
                                    want.userId(), want.itemId(), want.time(), i + 1L));
                }
            }
            expected.sort(Comparator.comparing(InteractionFiles.Interaction::time));
            if (!expected.equals(read.interactions())) {
                throw new AssertionError(
                        "InteractionFiles: read "
                                + read.interactions()
                                + ", expected "
                                + expected
                                + " from\n"
                                + file);
            }
            counts.good += expected.size();
            counts.goodUnchanged += expected.size();
        } finally {
            Files.delete(path);
        }
    }

    @Provide
    Arbitrary<File> interactions() {
        return file(
                "user,item,timestamp",
                ReplayFilesFuzzTest::goodInteraction,
                ReplayFilesFuzzTest::badInteraction);
    }

    /** A time in one of the four forms (whole seconds, so every form holds it exactly). */
    private static String timestamp(Instant time, int form) {
        return switch (form) {
            case 0 -> Long.toString(time.getEpochSecond());
            case 1 -> Long.toString(time.toEpochMilli());
            case 2 -> time.toString();
            default -> SERIES_TIME.format(time);
        };
    }

    private static String id(Random random) {
        StringBuilder id = new StringBuilder();
        for (int i = 1 + random.nextInt(12); i > 0; i--) {
            id.append((char) ('a' + random.nextInt(26)));
        }
        return id.toString();
    }

    private static Line goodInteraction(Random random, int form) {
        // Epoch seconds before 1973 read as seconds, after as millis: keep seconds after 1973.
        Instant time =
                form == 1
                        ? Instant.ofEpochSecond(
                                100_000_000_000L / 1000 + random.nextInt(2_000_000_000))
                        : form == 0
                                ? Instant.ofEpochSecond(random.nextInt(2_000_000_000))
                                : goodTime(random);
        String user = id(random);
        String item = random.nextInt(5) == 0 ? "it,\"em\"" + id(random) : id(random);
        String quotedItem = item.indexOf(',') >= 0 ? '"' + item.replace("\"", "\"\"") + '"' : item;
        String extra = random.nextInt(4) == 0 ? ",extra," + id(random) : "";
        return Line.text(
                user + "," + quotedItem + "," + timestamp(time, form) + extra,
                "good",
                new InteractionFiles.Interaction(user, item, time, -1));
    }

    /** A form no timestamp of {@code form} can be read as (numbers are read either way). */
    private static int otherForm(Random random, int form) {
        return switch (form) {
            case 0, 1 -> 2 + random.nextInt(2);
            case 2 -> random.nextBoolean() ? 0 : 3;
            default -> random.nextBoolean() ? 1 : 2;
        };
    }

    private static Line badInteraction(Random random, int form) {
        String user = id(random);
        String item = id(random);
        Instant time = goodTime(random);
        return switch (random.nextInt(9)) {
            case 0 -> Line.text(user + "," + item, "two columns", null);
            case 1 -> Line.text(user, "one column", null);
            case 2 ->
                    Line.text(
                            (random.nextBoolean() ? " ," + item : user + ",")
                                    + ","
                                    + timestamp(time, form),
                            "empty user or item",
                            null);
            case 3 ->
                    Line.text(
                            user + ",\"" + item + "," + timestamp(time, form),
                            "unclosed quote",
                            null);
            case 4 ->
                    Line.text(
                            user + "," + item + "," + timestamp(time, otherForm(random, form)),
                            "timestamp of another form",
                            null);
            case 5 ->
                    Line.text(
                            user
                                    + ","
                                    + item
                                    + ","
                                    + List.of("yesterday", "2026-13-01T00:00:00Z", "-5", "1.2.3")
                                            .get(random.nextInt(4)),
                            "malformed timestamp",
                            null);
            case 6 ->
                    Line.text(
                            user
                                    + ","
                                    + item
                                    + ","
                                    + switch (form) {
                                        case 0, 1 -> "9".repeat(18 + random.nextInt(30));
                                        case 2 -> "+10000-01-01T00:00:00Z";
                                        default -> "0000-01-01 00:00:00";
                                    },
                            "time out of range",
                            null);
            default -> bytesGoneBad(random, user + "," + item + "," + timestamp(time, form));
        };
    }
}
