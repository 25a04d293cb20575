package io.streamlearn.jobs.replay;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A row of a replay's input that could not be read: it is left out of the replay, and reported with
 * its file, line and reason, never dropped silently.
 *
 * @param file the file, as the replay was given it
 * @param line the 1-based line number
 * @param reason what is wrong with the row
 */
public record RejectedRow(String file, long line, String reason) {
    /** The file a replay lists its rejected rows in, below its output folder. */
    public static final String FILE = "rejected-rows.txt";

    /** How many rejected rows a replay prints; the file has all of them. */
    static final int PRINTED = 10;

    @Override
    public String toString() {
        return file + ":" + line + ": " + reason;
    }

    /**
     * Reports a replay's rejected rows: a count and the first {@link #PRINTED} on {@code out}, and
     * every one, a line each, in {@code output}/{@value #FILE} (only written when there are any).
     */
    public static void report(List<RejectedRow> rejected, Path output, PrintStream out)
            throws IOException {
        if (rejected.isEmpty()) {
            return;
        }
        Files.createDirectories(output);
        Path file = output.resolve(FILE);
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (RejectedRow row : rejected) {
                w.write(row.toString());
                w.write('\n');
            }
        }
        out.printf(
                "streamlearn replay: %d rows could not be read and are left out (all in %s):%n",
                rejected.size(), file);
        for (RejectedRow row : rejected.subList(0, Math.min(PRINTED, rejected.size()))) {
            out.println("  " + row);
        }
        if (rejected.size() > PRINTED) {
            out.printf("  ... and %d more%n", rejected.size() - PRINTED);
        }
    }
}
