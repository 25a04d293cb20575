package io.streamlearn.jobs.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SeriesFilesTest {
    @Test
    void readsAFolderMergesByTimeAndWritesTheSameRelativePaths(@TempDir Path dir) throws Exception {
        Path input = dir.resolve("in");
        Files.createDirectories(input.resolve("a"));
        Files.writeString(
                input.resolve("a/one.csv"),
                "timestamp,value\n2026-01-01 00:00:00,1.5\n2026-01-01 00:10:00,2\n");
        Files.writeString(input.resolve("two.csv"), "timestamp,value\n2026-01-01 00:05:00,7\n");

        List<SeriesFiles.Series> series = SeriesFiles.read(input);
        assertEquals(
                List.of("a/one.csv", "two.csv"),
                series.stream().map(SeriesFiles.Series::id).toList());
        assertEquals(
                List.of("a/one.csv", "two.csv", "a/one.csv"),
                SeriesFiles.inTimeOrder(series).stream()
                        .map(SeriesFiles.SeriesRow::seriesId)
                        .toList());

        Path output = dir.resolve("out");
        SeriesFiles.write(output, series.get(0), new double[] {0.25, 1});
        assertEquals(
                "timestamp,value,anomaly_score\n"
                        + "2026-01-01 00:00:00,1.5,0.250000\n"
                        + "2026-01-01 00:10:00,2,1.000000\n",
                Files.readString(output.resolve("a/one.csv")));
    }

    @Test
    void leavesOutABadRowAndNamesItsFileAndLine(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("bad.csv");
        Files.writeString(
                file,
                "timestamp,value\n2026-01-01 00:00:00,1\n2026-01-01,x\n2026-02-30 00:00:00,1\n"
                        + "2026-01-01 00:01:00,2\n");
        SeriesFiles.Series series = SeriesFiles.read(file).get(0);
        assertEquals(
                List.of("1", "2"), series.rows().stream().map(SeriesFiles.Row::value).toList());
        assertEquals(List.of(3L, 4L), series.rejected().stream().map(RejectedRow::line).toList());
        assertTrue(
                series.rejected().get(0).toString().contains("bad.csv:3: timestamp '2026-01-01'"),
                series.rejected().get(0).toString());
        assertTrue(
                series.rejected().get(1).reason().contains("'2026-02-30 00:00:00'"),
                "no day is made up: " + series.rejected().get(1));

        Path none = dir.resolve("none.csv");
        Files.writeString(none, "timestamp,value\n2026-01-01,x\n");
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> SeriesFiles.read(none));
        assertTrue(e.getMessage().contains("no row could be read"), e.getMessage());

        Path header = dir.resolve("header.csv");
        Files.writeString(header, "time,value\n");
        IllegalArgumentException h =
                assertThrows(IllegalArgumentException.class, () -> SeriesFiles.read(header));
        assertTrue(h.getMessage().contains("expected the header"), h.getMessage());
    }
}
