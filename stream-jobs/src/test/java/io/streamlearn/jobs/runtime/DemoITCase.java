package io.streamlearn.jobs.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.StreamlearnOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code streamlearn demo} as a newcomer runs it, every option at its default: both jobs answer
 * what is sent, their models move on past the first version (and the model store follows), the
 * forecaster beats the naive forecast and the recommender the popularity baseline. Not timed: its
 * figures are read from the progress lines it prints.
 */
class DemoITCase {
    private static final Pattern METRICS =
            Pattern.compile(
                    ".*metrics\\s+(\\d+) in .*predictions\\s+(\\d+) at .* model v(\\d+)\\s+stored"
                            + " v(\\d+)\\s+\\| MAE model ([0-9.]+) naive ([0-9.]+) .*");
    private static final Pattern CLICKS =
            Pattern.compile(
                    "\\s+clicks\\s+(\\d+) in .*recommendations\\s+(\\d+) at .* model v(\\d+)\\s+"
                            + "stored v(\\d+)\\s+\\| HR@10 model ([0-9.]+) popularity ([0-9.]+)"
                            + " .*");

    @Test
    void bothJobsAnswerAndLearnWithTheDefaults() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        new Demo(
                        Demo.DEFAULT_DURATION,
                        Demo.DEFAULT_RATE,
                        Demo.DEFAULT_SERIES,
                        StreamlearnOptions.FAMILY.defaultValue(),
                        Demo.DEFAULT_RECOMMENDER,
                        new PrintStream(bytes, true, StandardCharsets.UTF_8))
                .run(new AtomicBoolean());
        String out = bytes.toString(StandardCharsets.UTF_8);
        System.out.print(out);
        List<String> lines = out.lines().toList();

        Matcher metrics = last(lines, METRICS, out);
        long sent = Long.parseLong(metrics.group(1));
        long answered = Long.parseLong(metrics.group(2));
        assertTrue(answered >= 0.9 * sent, "predictions keep up with events:\n" + out);
        assertVersions(metrics, out);
        assertTrue(
                Double.parseDouble(metrics.group(5)) < Double.parseDouble(metrics.group(6)),
                "the forecaster beats the naive forecast:\n" + out);

        Matcher clicks = last(lines, CLICKS, out);
        sent = Long.parseLong(clicks.group(1));
        answered = Long.parseLong(clicks.group(2));
        assertTrue(answered >= 0.9 * sent, "recommendations keep up with clicks:\n" + out);
        assertVersions(clicks, out);
        assertTrue(
                Double.parseDouble(clicks.group(5)) > 2 * Double.parseDouble(clicks.group(6)),
                "HR@10 of the model at least twice popularity's:\n" + out);
    }

    /** The answering version moved on, and the model store has versions. */
    private static void assertVersions(Matcher line, String out) {
        assertTrue(
                Long.parseLong(line.group(3)) > 1,
                "the model moved on from its first version:\n" + out);
        assertTrue(Long.parseLong(line.group(4)) >= 1, "the store has versions:\n" + out);
    }

    private static Matcher last(List<String> lines, Pattern pattern, String out) {
        Matcher found = null;
        for (String line : lines) {
            Matcher m = pattern.matcher(line);
            if (m.matches()) {
                found = m;
            }
        }
        assertTrue(found != null, "no progress line matches " + pattern + ":\n" + out);
        assertEquals(6, found.groupCount());
        return found;
    }
}
