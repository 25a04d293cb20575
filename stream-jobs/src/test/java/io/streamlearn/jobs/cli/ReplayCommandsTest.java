package io.streamlearn.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplayCommandsTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return ReplayCommands.run(
                args,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void reportPrintsTheMarkdownTableWithTheGivenRule(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("scores"));
        Files.writeString(
                dir.resolve("scores/s.csv"),
                "timestamp,value,anomaly_score\n"
                        + "2026-01-01 00:00:00,1,0.2\n"
                        + "2026-01-01 00:05:00,1,0.7\n"
                        + "2026-01-01 00:10:00,1,0.7\n");
        Files.writeString(
                dir.resolve("windows.json"),
                "{\"s.csv\": [[\"2026-01-01 00:04:00.000000\", \"2026-01-01 00:06:00\"]]}");

        int code =
                run(
                        "report",
                        "--scores",
                        dir.resolve("scores").toString(),
                        "--windows",
                        dir.resolve("windows.json").toString(),
                        "--threshold",
                        "0.6",
                        "--suppression",
                        "1min",
                        "--probation",
                        "0");

        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        String table = out.toString(StandardCharsets.UTF_8);
        assertTrue(table.contains("| s.csv | 1 | 1 | 2026-01-01 00:05:00 (+1m) | 1 |"), table);
        assertTrue(table.contains("threshold 0.6, suppression 1m"), table);
    }

    @Test
    void scorePrintsTheNabScoresAndWritesThemAsJson(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("scores"));
        Files.writeString(
                dir.resolve("scores/s.csv"),
                "timestamp,value,anomaly_score\n"
                        + "2026-01-01 00:00:00,1,0.2\n"
                        + "2026-01-01 00:05:00,1,0.7\n"
                        + "2026-01-01 00:10:00,1,0.2\n");
        Files.writeString(
                dir.resolve("windows.json"),
                "{\"s.csv\": [[\"2026-01-01 00:05:00\", \"2026-01-01 00:10:00\"]]}");
        Path json = dir.resolve("out.json");

        int code =
                run(
                        "score",
                        "--scores",
                        dir.resolve("scores").toString(),
                        "--windows",
                        dir.resolve("windows.json").toString(),
                        "--probation",
                        "0",
                        "--json",
                        json.toString());

        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        String table = out.toString(StandardCharsets.UTF_8);
        assertTrue(table.contains("| standard | 100.00 | 0.700000 |"), table);
        assertTrue(table.contains("| s.csv | 3 | 0 |"), table);
        assertTrue(Files.readString(json).contains("\"reward_low_fn\""));
    }

    @Test
    void badArgumentsExitWithTwoAndSayWhy(@TempDir Path dir) {
        assertEquals(2, run("report", "--windows", "w.json"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--scores is required"));
        assertEquals(2, run("report", "--scores", dir.toString(), "--threshold", "2"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("threshold must be in (0, 1]"));
        assertEquals(2, run("report", "--sores", "x"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("unknown option --sores"));
        assertEquals(2, run("nonsense"));
        assertEquals(0, run("--help"));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("report --scores"));
    }
}
