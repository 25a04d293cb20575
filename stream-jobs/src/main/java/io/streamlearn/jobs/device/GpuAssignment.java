package io.streamlearn.jobs.device;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.OptionalInt;

/**
 * The rule that maps a subtask to one GPU of its TaskManager: the TaskManager's GPU indexes sorted
 * in ascending order, and subtask {@code i} takes the one at position {@code i mod n}.
 *
 * <p>Flink's GPU plugin tells every operator of a TaskManager the same set of GPUs; it does not
 * split them between slots or operators, and it does not tell a subtask which other subtasks share
 * its TaskManager. The rule is deterministic (the same subtask gets the same GPU after a restart)
 * and never collides when each TaskManager has one GPU, or when a TaskManager's GPU subtasks are
 * consecutive indexes no more numerous than its GPUs. With several GPUs per TaskManager and an
 * uneven placement, two subtasks can map to the same GPU: they then share it, which is slower but
 * correct. docs/gpu.md recommends one GPU per TaskManager for that reason.
 */
public final class GpuAssignment {
    private GpuAssignment() {}

    /**
     * Picks the GPU of a subtask.
     *
     * @param subtaskIndex the subtask's index, 0-based
     * @param gpuIndexes the TaskManager's GPU indexes as the GPU plugin reports them (the {@code
     *     index} property of each {@code gpu} external resource), in any order
     * @return the GPU index, or empty when the TaskManager has no GPU
     * @throws IllegalArgumentException naming an index that is not a non-negative integer
     */
    public static OptionalInt forSubtask(int subtaskIndex, Collection<String> gpuIndexes) {
        if (subtaskIndex < 0) {
            throw new IllegalArgumentException(
                    "subtask index must not be negative, got " + subtaskIndex);
        }
        List<Integer> sorted = new ArrayList<>(gpuIndexes.size());
        for (String index : gpuIndexes) {
            sorted.add(parse(index));
        }
        if (sorted.isEmpty()) {
            return OptionalInt.empty();
        }
        sorted.sort(null);
        return OptionalInt.of(sorted.get(subtaskIndex % sorted.size()));
    }

    private static int parse(String index) {
        try {
            int value = Integer.parseInt(index.trim());
            if (value >= 0) {
                return value;
            }
        } catch (NumberFormatException | NullPointerException e) {
            // reported below
        }
        throw new IllegalArgumentException(
                "the GPU plugin reported GPU index '"
                        + index
                        + "'; expected a non-negative integer (check the discovery script's"
                        + " output)");
    }
}
