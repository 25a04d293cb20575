package io.streamlearn.jobs.replay;

import io.streamlearn.schemas.InteractionEvent;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
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
 * quoted cell may not span lines. Blank lines are skipped; every other problem stops the read with
 * the file, line and column named.
 *
 * <p>The timestamp format is decided once, from the first data row, and every row must have it:
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

    /** Reads a file's interactions, in time order (stable for ties). */
    public static List<Interaction> read(Path file, Options options) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("--input " + file + " is not a file");
        }
        List<Interaction> interactions = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            Columns columns = null;
            TimeFormat format = null;
            long formatLine = 0;
            long lineNumber = 0;
            String line;
            while ((line = in.readLine()) != null) {
                lineNumber++;
                if (lineNumber == 1 && line.startsWith("\uFEFF")) {
                    line = line.substring(1);
                }
                if (line.isBlank()) {
                    continue;
                }
                String where = file + ":" + lineNumber;
                List<String> cells = split(line, options.delimiter(), where);
                if (columns == null) {
                    columns =
                            new Columns(
                                    options,
                                    options.header()
                                            ? cells.stream().map(String::trim).toList()
                                            : null,
                                    where);
                    if (options.header()) {
                        continue;
                    }
                }
                String user = columns.cell(cells, 0, where);
                String item = columns.cell(cells, 1, where);
                String time = columns.cell(cells, 2, where);
                if (format == null) {
                    format = TimeFormat.of(time);
                    formatLine = lineNumber;
                }
                Instant instant;
                try {
                    instant = format.parse(time);
                } catch (DateTimeParseException | ArithmeticException | NumberFormatException e) {
                    throw new IllegalArgumentException(
                            where
                                    + ": "
                                    + columns.describe(2)
                                    + ": '"
                                    + time
                                    + "' is not "
                                    + format.description
                                    + (lineNumber == formatLine
                                            ? ""
                                            : " (the format of line " + formatLine + ")"));
                }
                interactions.add(new Interaction(user, item, instant, lineNumber));
            }
            if (columns == null) {
                throw new IllegalArgumentException(file + " is empty");
            }
        }
        interactions.sort(Comparator.comparing(Interaction::time));
        return interactions;
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

        String cell(List<String> cells, int c, String where) {
            if (index[c] >= cells.size()) {
                throw new IllegalArgumentException(
                        where + ": " + cells.size() + " cells, no " + describe(c));
            }
            String value = cells.get(index[c]).trim();
            if (value.isEmpty()) {
                throw new IllegalArgumentException(where + ": " + describe(c) + " is empty");
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
    static List<String> split(String line, char delimiter, String where) {
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
            throw new IllegalArgumentException(where + ": a quoted cell is not closed");
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
