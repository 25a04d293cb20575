package io.streamlearn.jobs.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The demo's verdict on whether a job keeps up, from the counts its progress lines read. The times
 * are given, not waited for.
 */
class KeepingUpTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void answersWithinTheAllowanceKeepUp() {
        KeepingUp keepingUp = KeepingUp.forCheckpointInterval(Duration.ofSeconds(1), 0);
        // 20,000 sent per second; 30,000 waiting for the next checkpoint: 1.5 s of input, within
        // the interval and 1 s.
        assertEquals(
                "14000/s: keeping up (30000 not yet answered, 1.5 s)",
                keepingUp.update(100_000, 70_000, 5 * SECOND));
        assertEquals(
                "20000/s: keeping up (30000 not yet answered, 1.5 s)",
                keepingUp.update(200_000, 170_000, 10 * SECOND));
    }

    @Test
    void aGrowingLagFallsBehindAndAShrinkingOneCatchesUp() {
        KeepingUp keepingUp = KeepingUp.forCheckpointInterval(Duration.ofSeconds(1), 0);
        assertEquals(
                "3000/s: behind by 85000 (4.3 s), falling further behind",
                keepingUp.update(100_000, 15_000, 5 * SECOND));
        assertEquals(
                "25000/s: behind by 60000 (3.0 s), catching up",
                keepingUp.update(200_000, 140_000, 10 * SECOND));
    }

    @Test
    void nothingSentSaysWhetherAllIsAnswered() {
        KeepingUp keepingUp = new KeepingUp(Duration.ofSeconds(2), 0);
        keepingUp.update(1_000, 900, SECOND);
        assertEquals(
                "25/s: 50 not yet answered, nothing sent",
                keepingUp.update(1_000, 950, 3 * SECOND));
        assertEquals("25/s: all answered", keepingUp.update(1_000, 1_000, 5 * SECOND));
    }
}
