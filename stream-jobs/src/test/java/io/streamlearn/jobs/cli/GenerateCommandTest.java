package io.streamlearn.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.replay.InteractionFiles;
import io.streamlearn.jobs.runtime.ClickstreamGenerator;
import io.streamlearn.schemas.InteractionEvent;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerateCommandTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int generate(String... args) {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            options.put(args[i].substring(2), args[i + 1]);
        }
        return GenerateCommand.run(
                options,
                new AtomicBoolean(),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    /**
     * A clickstream over 100,000 items with sessions and a drift, written to a file: the replay
     * reads every row back, in order, and it is the stream the generator gives for those settings.
     */
    @Test
    void clicksToAFileAreAReplayInput(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("clicks.csv");
        int code =
                generate(
                        "--type", "interaction",
                        "--output", file.toString(),
                        "--count", "20000",
                        "--items", "100000",
                        "--users", "5000",
                        "--active-users", "200",
                        "--session-length", "8",
                        "--popular-successors", "true",
                        "--drift-at", "10000",
                        "--seed", "3");
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        assertTrue(
                out.toString(StandardCharsets.UTF_8).contains("20000 events written to " + file),
                out.toString(StandardCharsets.UTF_8));

        InteractionFiles.History history =
                InteractionFiles.history(file, InteractionFiles.Options.defaults());
        assertEquals(List.of(), history.rejected());
        List<InteractionFiles.Interaction> read = history.interactions();
        assertEquals(20_000, read.size());
        List<InteractionEvent> expected =
                ClickstreamGenerator.builder()
                        .optItems(100_000)
                        .optUsers(5_000)
                        .optActiveUsers(200)
                        .optSessionLength(8)
                        .optPopularSuccessors(true)
                        .optDriftAt(10_000)
                        .optSeed(3)
                        .build()
                        .next(20_000);
        Set<String> items = new HashSet<>();
        for (int i = 0; i < read.size(); i++) {
            assertEquals(expected.get(i).getUserId(), read.get(i).userId(), "row " + i);
            assertEquals(expected.get(i).getItemId(), read.get(i).itemId(), "row " + i);
            assertEquals(expected.get(i).getEventTime(), read.get(i).time(), "row " + i);
            items.add(read.get(i).itemId());
        }
        assertTrue(items.size() > 2_000, "distinct items: " + items.size());
    }

    @Test
    void badOptionsNameTheOptionAndStopWithUsage(@TempDir Path dir) {
        String file = dir.resolve("clicks.csv").toString();
        assertEquals(2, generate("--type", "interaction", "--output", file));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--output needs --count"));
        err.reset();
        assertEquals(
                2,
                generate("--type", "interaction", "--output", file, "--count", "9", "--rate", "5"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--rate is for Kafka"));
        err.reset();
        assertEquals(2, generate("--type", "interaction", "--series", "3"));
        assertTrue(
                err.toString(StandardCharsets.UTF_8)
                        .contains("unknown option --series for --type interaction"));
        err.reset();
        assertEquals(
                2,
                generate(
                        "--type",
                        "interaction",
                        "--output",
                        file,
                        "--count",
                        "9",
                        "--users",
                        "5",
                        "--active-users",
                        "6",
                        "--session-length",
                        "3"));
        assertTrue(
                err.toString(StandardCharsets.UTF_8).contains("activeUsers must be in [0, users"),
                err.toString(StandardCharsets.UTF_8));
        err.reset();
        assertEquals(2, generate("--type", "clicks"));
        assertTrue(
                err.toString(StandardCharsets.UTF_8)
                        .contains("--type must be metric or interaction, got 'clicks'"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("usage: streamlearn"));
    }
}
