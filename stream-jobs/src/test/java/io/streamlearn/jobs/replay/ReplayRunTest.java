package io.streamlearn.jobs.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.streamlearn.jobs.StreamlearnOptions;
import java.time.Duration;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

class ReplayRunTest {
    @Test
    void aReplayKeepsStateWithoutATimeToLiveUnlessTheUserSetsOne() {
        Configuration defaults = ReplayRun.backtest(new Configuration(), Map.of());
        assertEquals(Duration.ZERO, defaults.get(StreamlearnOptions.STATE_TTL));
        assertEquals("event-time", defaults.get(StreamlearnOptions.TIME_ALIGNMENT));

        Configuration asked =
                ReplayRun.backtest(
                        new Configuration(), Map.of(StreamlearnOptions.STATE_TTL.key(), "1 d"));
        assertEquals(Duration.ofDays(1), asked.get(StreamlearnOptions.STATE_TTL));
    }
}
