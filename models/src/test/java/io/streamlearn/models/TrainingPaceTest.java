package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The live trainer's pace: the batch grows first, then the stride; they shrink the other way. */
class TrainingPaceTest {

    @Test
    void aLagGrowsTheBatchToItsLargestThenTheStride() {
        TrainingPace pace = new TrainingPace(32, 128, 1000);
        assertFalse(pace.observe(1001));
        assertEquals(64, pace.batch());
        assertFalse(pace.observe(1001));
        assertEquals(128, pace.batch());
        assertTrue(pace.observe(1001), "the stride grows at the largest batch");
        assertTrue(pace.observe(1001));
        assertEquals(128, pace.batch());
        assertEquals(4, pace.stride());
    }

    @Test
    void underHalfTheLagTheStrideShrinksBeforeTheBatch() {
        TrainingPace pace = new TrainingPace(32, 64, 1000);
        pace.observe(5000);
        pace.observe(5000);
        assertEquals(2, pace.stride());
        pace.observe(600); // between half the lag and the lag: nothing changes
        assertEquals(2, pace.stride());
        assertEquals(64, pace.batch());
        pace.observe(100);
        assertEquals(1, pace.stride());
        assertEquals(64, pace.batch());
        pace.observe(100);
        pace.observe(100);
        assertEquals(32, pace.batch(), "never below the batch size");
    }

    @Test
    void theStrideStopsAtItsMaximum() {
        TrainingPace pace = new TrainingPace(1, 1, 1);
        int grew = 0;
        for (int i = 0; i < 20; i++) {
            grew += pace.observe(2) ? 1 : 0;
        }
        assertEquals(TrainingPace.MAX_STRIDE, pace.stride());
        assertEquals(10, grew);
    }

    @Test
    void badSettingsAreNamed() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> new TrainingPace(64, 32, 1000));
        assertTrue(e.getMessage().contains("maxBatchSize 32"), e.getMessage());
    }

    @Test
    void theStrideKeepsTheLastOfEachRunOfArrivalsCountedFromItsChange() {
        TrainingPace pace = new TrainingPace(1, 1, 10);
        assertTrue(pace.keep() && pace.keep(), "stride 1 keeps every example");
        pace.observe(11);
        pace.observe(11);
        assertEquals(4, pace.stride());
        assertEquals(List.of(false, false, false, true, false, false, false, true), keeps(pace, 8));
        pace.keep();
        pace.observe(1); // stride 2, counted afresh
        assertEquals(List.of(false, true, false, true), keeps(pace, 4));
    }

    @Test
    void everySecondKeepsTheSecondFourthAndSoOn() {
        assertEquals(List.of(2, 4), TrainingPace.everySecond(List.of(1, 2, 3, 4, 5)));
        assertEquals(List.of(), TrainingPace.everySecond(List.of(1)));
    }

    private static List<Boolean> keeps(TrainingPace pace, int n) {
        Boolean[] kept = new Boolean[n];
        for (int i = 0; i < n; i++) {
            kept[i] = pace.keep();
        }
        return List.of(kept);
    }

    @Test
    void aVersionIsDueOnStepsOrOnceStepsAndTheMinIntervalHavePassed() {
        assertTrue(TrainingPace.versionDue(10, 7, 5, 0, 0, 0), "step 10 of every 5");
        assertFalse(TrainingPace.versionDue(11, 10, 5, 9_000, 0, 0), "on steps alone");
        assertFalse(TrainingPace.versionDue(10, 5, 5, 999, 0, 1000), "5 steps but 999 of 1000");
        assertFalse(TrainingPace.versionDue(14, 10, 5, 5_000, 0, 1000), "1 s but 4 steps");
        assertTrue(TrainingPace.versionDue(16, 10, 5, 1000, 0, 1000), "past both, off the grid");
    }
}
