package io.streamlearn.jobs.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.replay.InteractionFiles.Interaction;
import io.streamlearn.jobs.replay.InteractionFiles.Options;
import io.streamlearn.schemas.InteractionEvent;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InteractionFilesTest {
    @TempDir Path dir;

    private Path file(String text) throws Exception {
        Path file = dir.resolve("history.csv");
        Files.writeString(file, text);
        return file;
    }

    private static List<String> users(List<Interaction> interactions) {
        return interactions.stream().map(Interaction::userId).toList();
    }

    @Test
    void readsNamedColumnsIgnoresTheOthersAndSortsByTimeKeepingTiesInFileOrder() throws Exception {
        Path file =
                file(
                        "session,visitor,title,product,at\n"
                                + "1,b,\"Shoes, red\",42,2026-01-01T00:00:05Z\n"
                                + "\n"
                                + "2,a,\"say \"\"hi\"\"\",7,2026-01-01T01:00:03+01:00\n"
                                + "3,c,plain,8,2026-01-01T00:00:05Z\n");

        List<Interaction> read =
                InteractionFiles.read(
                        file,
                        Options.parse(
                                Map.of(
                                        "user-column", "visitor",
                                        "item-column", "product",
                                        "time-column", "at")));

        assertEquals(List.of("a", "b", "c"), users(read), "a at 00:00:03 UTC; b and c tie");
        assertEquals(
                new Interaction("a", "7", Instant.parse("2026-01-01T00:00:03Z"), 4),
                read.get(0),
                "the offset is applied; line numbers count the blank line");
    }

    @Test
    void readsAHeaderlessTabSeparatedFileByColumnIndexWithEpochSecondsOrMillis() throws Exception {
        Options options =
                Options.parse(
                        Map.of(
                                "delimiter", "tab",
                                "header", "false",
                                "user-column", "2",
                                "item-column", "0",
                                "time-column", "1"));
        List<Interaction> seconds =
                InteractionFiles.read(file("i1\t1767225600\tu1\ni2\t1767225599.5\tu2\n"), options);
        assertEquals(List.of("u2", "u1"), users(seconds));
        assertEquals(Instant.parse("2026-01-01T00:00:00Z"), seconds.get(1).time());
        assertEquals(Instant.parse("2025-12-31T23:59:59.500Z"), seconds.get(0).time());

        List<Interaction> millis = InteractionFiles.read(file("i1\t1767225600123\tu1\n"), options);
        assertEquals(Instant.parse("2026-01-01T00:00:00.123Z"), millis.get(0).time());
    }

    @Test
    void readsDateTimesAsUtcAndWritesWhatItReads() throws Exception {
        List<Interaction> read =
                InteractionFiles.read(
                        file(
                                "user,item,timestamp\n"
                                        + "u,i,2026-01-01 10:00:00\n"
                                        + "u,j,2026-01-01 09:00:00.25\n"),
                        Options.defaults());
        assertEquals(Instant.parse("2026-01-01T09:00:00.250Z"), read.get(0).time());

        Path written = dir.resolve("out/written.csv");
        InteractionFiles.write(
                written,
                List.of(
                        InteractionEvent.newBuilder()
                                .setUserId("u, \"one\"")
                                .setItemId("9")
                                .setEventTime(Instant.parse("2026-01-01T00:00:00.007Z"))
                                .build()));
        Interaction back = InteractionFiles.read(written, Options.defaults()).get(0);
        assertEquals("u, \"one\"", back.userId());
        assertEquals(Instant.parse("2026-01-01T00:00:00.007Z"), back.time());
    }

    @Test
    void historyLeavesOutBadRowsAndReportsEachWithItsLine() throws Exception {
        Path file = dir.resolve("history.csv");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.writeBytes(
                ("user,item,timestamp\n"
                                + "a,i,soon\n"
                                + "b,i,1767225600\n"
                                + "c,i,99999999999999999999\n"
                                + "d,,1767225601\n")
                        .getBytes(StandardCharsets.UTF_8));
        bytes.writeBytes(new byte[] {'e', ',', (byte) 0xFF, ',', '1', '\n'});
        bytes.writeBytes("f,i,1767225602\n".getBytes(StandardCharsets.UTF_8));
        Files.write(file, bytes.toByteArray());

        InteractionFiles.History history = InteractionFiles.history(file, Options.defaults());

        assertEquals(List.of("b", "f"), users(history.interactions()));
        assertEquals(
                List.of(2L, 4L, 5L, 6L),
                history.rejected().stream().map(RejectedRow::line).toList(),
                "a bad first row does not decide the timestamp form: " + history.rejected());
        assertTrue(
                history.rejected().get(1).reason().contains("is not epoch seconds"),
                history.rejected().get(1).reason());
        assertTrue(history.rejected().get(3).reason().contains("not UTF-8"));

        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        RejectedRow.report(
                history.rejected(), dir.resolve("out"), new PrintStream(printed, true, "UTF-8"));
        assertTrue(
                printed.toString(StandardCharsets.UTF_8).contains("4 rows could not be read"),
                printed.toString(StandardCharsets.UTF_8));
        assertEquals(
                history.rejected().stream().map(RejectedRow::toString).toList(),
                Files.readAllLines(dir.resolve("out").resolve(RejectedRow.FILE)));
    }

    @Test
    void errorsNameTheFileTheLineAndTheColumn() throws Exception {
        IllegalArgumentException mixed =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                InteractionFiles.read(
                                        file(
                                                "user,item,timestamp\n"
                                                        + "u,i,1767225600\n"
                                                        + "u,i,2026-01-01\n"),
                                        Options.defaults()));
        assertTrue(
                mixed.getMessage().contains("history.csv:3: column 'timestamp' (index 2)")
                        && mixed.getMessage().contains("not epoch seconds (the format of line 2)"),
                mixed.getMessage());

        IllegalArgumentException empty =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                InteractionFiles.read(
                                        file("user,item,timestamp\nu,,1\n"), Options.defaults()));
        assertTrue(
                empty.getMessage().contains(":2: column 'item' (index 1) is empty"),
                empty.getMessage());

        IllegalArgumentException unknown =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                InteractionFiles.read(
                                        file("who,what,when\nu,i,1\n"), Options.defaults()));
        assertTrue(
                unknown.getMessage().contains("--user-column 'user'")
                        && unknown.getMessage().contains("[who, what, when]"),
                unknown.getMessage());

        IllegalArgumentException noHeader =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                InteractionFiles.read(
                                        file("u,i,1\n"), Options.parse(Map.of("header", "false"))));
        assertTrue(noHeader.getMessage().contains("0-based column index"), noHeader.getMessage());

        IllegalArgumentException short_ =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                InteractionFiles.read(
                                        file("user,item,timestamp\nu,i\n"), Options.defaults()));
        assertTrue(
                short_.getMessage().contains(":2: 2 cells, no column 'timestamp'"),
                short_.getMessage());

        assertThrows(
                IllegalArgumentException.class, () -> Options.parse(Map.of("delimiter", ";;")));
        assertThrows(IllegalArgumentException.class, () -> Options.parse(Map.of("header", "yes")));
    }
}
