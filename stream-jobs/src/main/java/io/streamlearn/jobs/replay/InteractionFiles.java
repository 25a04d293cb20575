package io.streamlearn.jobs.replay;

import io.streamlearn.jobs.input.EventTimes;
import io.streamlearn.schemas.InteractionEvent;
import java.io.BufferedWriter;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.TemporalAccessor;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The history {@code replay recommend} reads: a delimited text file, one interaction per line, with
 * columns for user, item and timestamp (named in a header or by 0-based index; other columns are
 * ignored). A cell may be quoted with {@code "} ({@code ""} inside stands for one {@code "}); a
 * quoted cell may not span lines. Blank lines are skipped. A row that cannot be read is left out
 * and reported with its line and reason ({@link #history}); a file that cannot be used (no header
 * column of that name, nothing readable) stops the read.
 *
 * <p>The timestamp format is decided once, from the first row that can be read, and every row must
 * have it:
 *
 * <ul>
 *   <li>a number (digits, optionally a fraction): epoch seconds if below 10<sup>11</sup> (before
 *       the year 5138), else epoch milliseconds (10<sup>11</sup> ms is March 1973);
 *   <li>text with a {@code T}: ISO-8601, with a zone or offset ({@code 2026-01-01T10:00:00Z},
 *       {@code ...+01:00}), or without one, taken as UTC;
 *   <li>anything else: {@code YYYY-MM-DD HH:MM:SS} with an optional fraction, UTC.
 * </ul>
 *
 * Interactions are returned in time order; ties keep file order.
 */
public final class InteractionFiles {
    private static final Pattern NUMBER = Pattern.compile("\\d+(\\.\\d+)?");
    private static final BigDecimal MILLIS_FROM = new BigDecimal("100000000000");
    private static final String HEADER = "user,item,timestamp";

    private InteractionFiles() {}

    /** One interaction read from a file; {@code line} is its 1-based line number. */
    public record Interaction(String userId, String itemId, Instant time, long line) {}

    /**
     * How to read a file.
     *
     * @param delimiter the character between cells
     * @param header whether the first line names the columns
     * @param userColumn the user's column: a header name, or a 0-based index
     * @param itemColumn the item's column, likewise
     * @param timeColumn the timestamp's column, likewise
     */
    public record Options(
            char delimiter,
            boolean header,
            String userColumn,
            String itemColumn,
            String timeColumn) {
        /** The command-line names of the options, as {@link #parse} reads them. */
        public static final Set<String> NAMES =
                Set.of("delimiter", "header", "user-column", "item-column", "time-column");

        /** Comma-separated with the header {@code user,item,timestamp}. */
        public static Options defaults() {
            return new Options(',', true, "user", "item", "timestamp");
        }

        /**
         * Reads {@code --delimiter} (one character, or {@code tab}), {@code --header true|false},
         * {@code --user-column}, {@code --item-column} and {@code --time-column} from parsed
         * command-line options (name without the dashes to value); absent ones keep {@link
         * #defaults()}. Other names are left alone.
         *
         * @throws IllegalArgumentException naming the option and its bad value
         */
        public static Options parse(Map<String, String> options) {
            Options d = defaults();
            String delimiter = options.getOrDefault("delimiter", ",");
            if (delimiter.equals("tab") || delimiter.equals("\\t")) {
                delimiter = "\t";
            }
            if (delimiter.length() != 1 || delimiter.equals("\"")) {
                throw new IllegalArgumentException(
                        "--delimiter must be one character (or 'tab'), not a quote, got '"
                                + delimiter
                                + "'");
            }
            String header = options.getOrDefault("header", "true");
            if (!header.equals("true") && !header.equals("false")) {
                throw new IllegalArgumentException(
                        "--header must be true or false, got '" + header + "'");
            }
            return new Options(
                    delimiter.charAt(0),
                    header.equals("true"),
                    options.getOrDefault("user-column", d.userColumn()),
                    options.getOrDefault("item-column", d.itemColumn()),
                    options.getOrDefault("time-column", d.timeColumn()));
        }
    }

    /**
     * What {@link #history} read.
     *
     * @param interactions the interactions, in time order (stable for ties)
     * @param rejected the rows that could not be read, in file order
     */
    public record History(List<Interaction> interactions, List<RejectedRow> rejected) {}

    /**
     * Reads a file's interactions, in time order (stable for ties), strictly: the first row that
     * cannot be read stops the read, with the file, the line and the reason.
     */
    public static List<Interaction> read(Path file, Options options) throws IOException {
        History history = history(file, options);
        if (!history.rejected().isEmpty()) {
            throw new IllegalArgumentException(history.rejected().get(0).toString());
        }
        return history.interactions();
    }

    /**
     * Reads a file's interactions, in time order (stable for ties), and the rows it could not read
     * (a short row, an empty user or item, a timestamp of another form or out of range, an unclosed
     * quote, a line that is not UTF-8 or longer than {@link TextLines#MAX_LINE} bytes).
     *
     * @throws IllegalArgumentException when the file itself cannot be used: missing, empty, a
     *     header that cannot be read or lacks a named column, or no row that can be read
     */
    public static History history(Path file, Options options) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("--input " + file + " is not a file");
        }
        List<Interaction> interactions = new ArrayList<>();
        List<RejectedRow> rejected = new ArrayList<>();
        try (TextLines lines = new TextLines(file)) {
            Columns columns = null;
            TimeFormat[] format = {null};
            long[] formatLine = {0};
            TextLines.Line next;
            while ((next = lines.next()) != null) {
                long lineNumber = next.number();
                String where = file + ":" + lineNumber;
                String line = next.text();
                if (line != null && lineNumber == 1 && line.startsWith("\uFEFF")) {
                    line = line.substring(1);
                }
                if (line != null && line.isBlank()) {
                    continue;
                }
                if (columns == null && options.header()) {
                    if (line == null) {
                        throw new IllegalArgumentException(
                                where + ": cannot read the header: " + next.problem());
                    }
                    List<String> header;
                    try {
                        header = split(line, options.delimiter());
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException(
                                where + ": cannot read the header: " + e.getMessage());
                    }
                    columns =
                            new Columns(options, header.stream().map(String::trim).toList(), where);
                    continue;
                }
                if (columns == null) {
                    columns = new Columns(options, null, where);
                }
                try {
                    if (line == null) {
                        throw new IllegalArgumentException(next.problem());
                    }
                    interactions.add(row(line, lineNumber, options, columns, format, formatLine));
                } catch (IllegalArgumentException e) {
                    rejected.add(new RejectedRow(file.toString(), lineNumber, e.getMessage()));
                }
            }
            if (columns == null) {
                throw new IllegalArgumentException(file + " is empty");
            }
        }
        if (interactions.isEmpty() && !rejected.isEmpty()) {
            throw new IllegalArgumentException(
                    "--input " + file + ": no row could be read; the first: " + rejected.get(0));
        }
        interactions.sort(Comparator.comparing(Interaction::time));
        return new History(interactions, rejected);
    }

    /**
     * One data row's interaction. The timestamp form is the one of the first row read ({@code
     * format[0]}, set here on that row).
     *
     * @throws IllegalArgumentException saying what is wrong with the row
     */
    private static Interaction row(
            String line,
            long lineNumber,
            Options options,
            Columns columns,
            TimeFormat[] format,
            long[] formatLine) {
        List<String> cells = split(line, options.delimiter());
        String user = columns.cell(cells, 0);
        String item = columns.cell(cells, 1);
        String time = columns.cell(cells, 2);
        TimeFormat form = format[0] == null ? TimeFormat.of(time) : format[0];
        Instant instant;
        try {
            instant = form.parse(time);
        } catch (DateTimeException | ArithmeticException | NumberFormatException e) {
            throw new IllegalArgumentException(
                    columns.describe(2)
                            + ": '"
                            + SeriesFiles.quote(time)
                            + "' is not "
                            + form.description
                            + (format[0] == null || lineNumber == formatLine[0]
                                    ? ""
                                    : " (the format of line " + formatLine[0] + ")"));
        }
        String range = EventTimes.problem(columns.describe(2), instant);
        if (range != null) {
            throw new IllegalArgumentException(range);
        }
        if (format[0] == null) {
            format[0] = form;
            formatLine[0] = lineNumber;
        }
        return new Interaction(user, item, instant, lineNumber);
    }

    /** The three columns' indexes, resolved once from the options and the header. */
    private static final class Columns {
        private final String[] names = new String[3];
        private final int[] index = new int[3];

        Columns(Options options, List<String> header, String where) {
            String[] specs = {options.userColumn(), options.itemColumn(), options.timeColumn()};
            String[] flags = {"--user-column", "--item-column", "--time-column"};
            for (int c = 0; c < 3; c++) {
                String spec = specs[c].trim();
                int at = header == null ? -1 : header.indexOf(spec);
                if (at < 0 && spec.matches("\\d+")) {
                    at = Integer.parseInt(spec);
                    if (header != null && at >= header.size()) {
                        throw new IllegalArgumentException(
                                where
                                        + ": "
                                        + flags[c]
                                        + " "
                                        + spec
                                        + ": the header has "
                                        + header.size()
                                        + " columns");
                    }
                }
                if (at < 0) {
                    throw new IllegalArgumentException(
                            header == null
                                    ? flags[c]
                                            + " '"
                                            + spec
                                            + "' must be a 0-based column index: the file has no"
                                            + " header (--header false)"
                                    : where
                                            + ": "
                                            + flags[c]
                                            + " '"
                                            + spec
                                            + "' is neither a column of the header "
                                            + header
                                            + " nor a 0-based index");
                }
                for (int other = 0; other < c; other++) {
                    if (index[other] == at) {
                        throw new IllegalArgumentException(
                                flags[other] + " and " + flags[c] + " name the same column");
                    }
                }
                index[c] = at;
                names[c] = header == null ? null : header.get(at);
            }
        }

        String cell(List<String> cells, int c) {
            if (index[c] >= cells.size()) {
                throw new IllegalArgumentException(cells.size() + " cells, no " + describe(c));
            }
            String value = cells.get(index[c]).trim();
            if (value.isEmpty()) {
                throw new IllegalArgumentException(describe(c) + " is empty");
            }
            return value;
        }

        String describe(int c) {
            return "column "
                    + (names[c] == null ? "" : "'" + names[c] + "' ")
                    + "(index "
                    + index[c]
                    + ")";
        }
    }

    /** The timestamp forms a file may use. */
    private enum TimeFormat {
        EPOCH_SECONDS("epoch seconds"),
        EPOCH_MILLIS("epoch milliseconds"),
        ISO_8601("an ISO-8601 date-time"),
        DATE_TIME("YYYY-MM-DD HH:MM:SS");

        final String description;

        TimeFormat(String description) {
            this.description = description;
        }

        static TimeFormat of(String first) {
            if (NUMBER.matcher(first).matches()) {
                return new BigDecimal(first).compareTo(MILLIS_FROM) < 0
                        ? EPOCH_SECONDS
                        : EPOCH_MILLIS;
            }
            return first.indexOf('T') >= 0 ? ISO_8601 : DATE_TIME;
        }

        Instant parse(String text) {
            switch (this) {
                case EPOCH_SECONDS, EPOCH_MILLIS -> {
                    if (!NUMBER.matcher(text).matches()) {
                        throw new NumberFormatException(text);
                    }
                    BigDecimal nanos =
                            new BigDecimal(text).movePointRight(this == EPOCH_SECONDS ? 9 : 6);
                    BigDecimal[] split =
                            nanos.divideAndRemainder(BigDecimal.valueOf(1_000_000_000));
                    return Instant.ofEpochSecond(split[0].longValueExact(), split[1].longValue());
                }
                case ISO_8601 -> {
                    TemporalAccessor t =
                            DateTimeFormatter.ISO_DATE_TIME.parseBest(
                                    text, ZonedDateTime::from, LocalDateTime::from);
                    return t instanceof ZonedDateTime z
                            ? z.toInstant()
                            : ((LocalDateTime) t).toInstant(ZoneOffset.UTC);
                }
                default -> {
                    return Timestamps.dateTime(text);
                }
            }
        }
    }

    /** Splits a line at the delimiter, honouring quoted cells. */
    static List<String> split(String line, char delimiter) {
        List<String> cells = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cell.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    cell.append(c);
                }
            } else if (c == '"' && cell.toString().isBlank()) {
                quoted = true;
                cell.setLength(0);
            } else if (c == delimiter) {
                cells.add(cell.toString());
                cell.setLength(0);
            } else {
                cell.append(c);
            }
        }
        if (quoted) {
            throw new IllegalArgumentException("a quoted cell is not closed");
        }
        cells.add(cell.toString());
        return cells;
    }

    /**
     * Writes interactions as a file {@link #read} reads with {@link Options#defaults()}: the header
     * {@code user,item,timestamp}, ISO-8601 instants, cells quoted where they need it.
     */
    public static void write(Path file, Iterable<InteractionEvent> events) throws IOException {
        if (file.toAbsolutePath().getParent() != null) {
            Files.createDirectories(file.toAbsolutePath().getParent());
        }
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            out.write(HEADER);
            out.write('\n');
            for (InteractionEvent e : events) {
                out.write(quoted(e.getUserId()));
                out.write(',');
                out.write(quoted(e.getItemId()));
                out.write(',');
                out.write(e.getEventTime().toString());
                out.write('\n');
            }
        }
    }

    private static String quoted(String cell) {
        if (cell.indexOf(',') < 0 && cell.indexOf('"') < 0) {
            return cell;
        }
        return '"' + cell.replace("\"", "\"\"") + '"';
    }
}
