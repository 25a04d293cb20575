package io.streamlearn.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class StreamlearnTest {

    /** The commands {@link Streamlearn#main} dispatches; {@code --help} must list each. */
    private static final List<String> COMMANDS =
            List.of("demo", "run", "feed", "models", "generate", "bench", "replay", "read");

    @Test
    void helpListsEveryCommand() {
        for (String command : COMMANDS) {
            assertTrue(
                    Streamlearn.USAGE.contains("\n  " + command + " "),
                    "--help does not list '" + command + "':\n" + Streamlearn.USAGE);
        }
    }
}
