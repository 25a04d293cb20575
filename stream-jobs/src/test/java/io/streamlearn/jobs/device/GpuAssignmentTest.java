package io.streamlearn.jobs.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GpuAssignmentTest {

    private static int gpu(int subtask, List<String> indexes) {
        return GpuAssignment.forSubtask(subtask, indexes).orElseThrow();
    }

    @Test
    void oneGpuServesEverySubtask() {
        for (int subtask = 0; subtask < 5; subtask++) {
            assertEquals(0, gpu(subtask, List.of("0")));
        }
        // Inside a container the one GPU is 0, but on a shared host it may be any index.
        assertEquals(3, gpu(2, List.of("3")));
    }

    @Test
    void subtasksTakeTheSortedIndexesInTurn() {
        List<String> four = List.of("2", "0", "3", "1");
        assertEquals(
                List.of(0, 1, 2, 3, 0, 1),
                List.of(0, 1, 2, 3, 4, 5).stream().map(s -> gpu(s, four)).toList());
        // Sorted as numbers, not as strings: 10 comes after 2.
        List<String> sparse = List.of("10", "2", "7");
        assertEquals(
                List.of(2, 7, 10, 2),
                List.of(0, 1, 2, 3).stream().map(s -> gpu(s, sparse)).toList());
    }

    @Test
    void theOrderOfTheReportedSetDoesNotMatter() {
        // The GPU plugin hands out a Set: its iteration order is arbitrary.
        assertEquals(
                GpuAssignment.forSubtask(1, List.of("0", "1")),
                GpuAssignment.forSubtask(1, List.copyOf(Set.of("1", "0"))));
        assertEquals(1, gpu(1, List.of("1", "0")));
        assertEquals(5, gpu(1, List.of(" 5 ", "4")), "whitespace around an index is tolerated");
    }

    @Test
    void noGpuGivesNone() {
        assertEquals(OptionalInt.empty(), GpuAssignment.forSubtask(0, List.of()));
        assertEquals(OptionalInt.empty(), GpuAssignment.forSubtask(7, List.of()));
    }

    @Test
    void aBadIndexIsNamed() {
        var e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> GpuAssignment.forSubtask(0, List.of("0", "GPU-1")));
        assertTrue(e.getMessage().contains("'GPU-1'"), e.getMessage());
        assertThrows(
                IllegalArgumentException.class, () -> GpuAssignment.forSubtask(0, List.of("-1")));
        assertThrows(
                IllegalArgumentException.class, () -> GpuAssignment.forSubtask(-1, List.of("0")));
    }
}
