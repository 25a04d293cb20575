package io.streamlearn.jobs.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.feeds.AlertRule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AlertWindowReportTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    /**
     * A scores file of 100 five-minute rows, score 0.1 except the rows given: row r at {@code T0 +
     * 5r minutes}.
     */
    static String scoresCsv(int... highRows) {
        StringBuilder csv = new StringBuilder("timestamp,value,anomaly_score\n");
        for (int r = 0; r < 100; r++) {
            int row = r;
            boolean high = Arrays.stream(highRows).anyMatch(h -> h == row);
            csv.append(Timestamps.PRINTED.format(T0.plusSeconds(300L * r)))
                    .append(",")
                    .append(r)
                    .append(",")
                    .append(high ? "0.999" : "0.100000")
                    .append("\n");
        }
        return csv.toString();
    }

    static String at(int row) {
        return Timestamps.PRINTED.format(T0.plusSeconds(300L * row)) + ".000000";
    }

    /** Files a.csv (windows rows 40-50 and 70-80) and b.csv (one window, 20-30). */
    static void writeData(Path dir) throws Exception {
        Path scores = dir.resolve("scores/real");
        Files.createDirectories(scores);
        // a: 5 is in the learning period; 30 is a false alarm; 42 detects the first window and
        // 43 is suppressed by it (5 minutes later); 47 alerts inside again; 90 is a false alarm.
        Files.writeString(scores.resolve("a.csv"), scoresCsv(5, 30, 42, 43, 47, 90));
        Files.writeString(scores.resolve("b.csv"), scoresCsv(25));
        Files.writeString(
                dir.resolve("windows.json"),
                "{\"real/a.csv\": [[\""
                        + at(40)
                        + "\", \""
                        + at(50)
                        + "\"], [\""
                        + at(70)
                        + "\", \""
                        + at(80)
                        + "\"]],\n \"real/b.csv\": [[\""
                        + at(20)
                        + "\", \""
                        + at(30)
                        + "\"]],\n \"other/c.csv\": []}");
    }

    @Test
    void countsTheFirstAlertInEachWindowMissesAndFalseAlarmsByTheFeedsRule(@TempDir Path dir)
            throws Exception {
        writeData(dir);
        AlertRule rule = new AlertRule(0.99, Duration.ofMinutes(10));

        AlertWindowReport.Report report =
                AlertWindowReport.run(
                        dir.resolve("scores"), dir.resolve("windows.json"), rule, 0.15);

        AlertWindowReport.FileResult a = report.files().get(0);
        assertEquals("real/a.csv", a.file());
        assertEquals(Arrays.asList(T0.plusSeconds(300L * 42), null), a.firstAlerts());
        assertEquals(2, a.alertsInside(), "42 and 47; 43 is within 10 minutes of 42");
        assertEquals(2, a.alertsOutside(), "30 and 90; 5 is in the first 15 rows");
        assertEquals(1, report.files().get(1).detected());
        assertEquals(List.of("other/c.csv"), report.unscored());

        String markdown = AlertWindowReport.markdown(report);
        assertTrue(
                markdown.contains(
                        "| real/a.csv | 2 | 1 | 2026-01-01 03:30:00 (+10m); missed | 2 |"),
                markdown);
        assertTrue(markdown.contains("| **total** | 3 | 2 | | 2 |"), markdown);
        assertTrue(markdown.contains("without scores (not counted): other/c.csv"), markdown);
    }

    @Test
    void aScoresFolderOfOneSubfolderMatchesTheWindowsByTheirEnding(@TempDir Path dir)
            throws Exception {
        writeData(dir);
        AlertWindowReport.Report report =
                AlertWindowReport.run(
                        dir.resolve("scores/real"),
                        dir.resolve("windows.json"),
                        new AlertRule(0.99, Duration.ZERO),
                        0);
        assertEquals(
                List.of("real/a.csv", "real/b.csv"),
                report.files().stream().map(AlertWindowReport.FileResult::file).toList());
        assertEquals(
                3,
                report.files().get(0).alertsOutside(),
                "no learning period, no suppression: 5, 30 and 90");
    }

    @Test
    void namesTheFileAndLineOfBadInput(@TempDir Path dir) throws Exception {
        writeData(dir);
        Files.writeString(
                dir.resolve("scores/real/a.csv"),
                "timestamp,value,anomaly_score\n2026-01-01,1,x\n");
        IllegalArgumentException row =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                AlertWindowReport.run(
                                        dir.resolve("scores"),
                                        dir.resolve("windows.json"),
                                        new AlertRule(0.99, Duration.ZERO),
                                        0));
        assertTrue(row.getMessage().contains("a.csv:2"), row.getMessage());

        Files.writeString(dir.resolve("w.json"), "{\"a.csv\": [[\"2026-01-01\", \"x\"]]}");
        IllegalArgumentException window =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> AlertWindowReport.readWindows(dir.resolve("w.json")));
        assertTrue(window.getMessage().contains("\"a.csv\""), window.getMessage());
        Map<String, List<AlertWindowReport.Window>> ok =
                AlertWindowReport.readWindows(dir.resolve("windows.json"));
        assertEquals(T0.plusSeconds(300L * 70), ok.get("real/a.csv").get(1).start());
    }

    @Test
    void theLearningPeriodIsNabsFifteenPercentAtMost750Rows() {
        assertEquals(15, AlertWindowReport.probationRows(100, 0.15));
        assertEquals(750, AlertWindowReport.probationRows(22_000, 0.15));
        assertEquals("2d3h", AlertWindowReport.span(Duration.ofHours(51)));
        assertEquals("0m", AlertWindowReport.span(Duration.ZERO));
    }
}
