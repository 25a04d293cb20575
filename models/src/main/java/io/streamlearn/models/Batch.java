package io.streamlearn.models;

import io.streamlearn.models.ModelConfig.Task;

/**
 * One mini-batch of labelled examples for {@link OnlineLearner}, in the form its task reads.
 *
 * <ul>
 *   <li>{@link #values}: NEXT_VALUE. Each row is a window of {@code window} steps of {@code
 *       features} normalised values (see {@link SeriesNormalizer}), oldest first, flattened
 *       time-major (feature {@code f} of step {@code t} at {@code t * features + f}); each target
 *       the normalised values that followed.
 *   <li>{@link #windows}: RECONSTRUCTION. Windows as above; the target is the window itself.
 *   <li>{@link #items}: NEXT_ITEM. Each row the item ids a user interacted with, oldest first (up
 *       to {@code window} are used: the most recent; shorter histories are padded); each target the
 *       item that came next.
 * </ul>
 *
 * The arrays are not copied: do not change them while a learner uses the batch.
 */
public final class Batch {

    private final Task task;
    private final float[][] windows;
    private final float[][] targets;
    private final String[][] histories;
    private final String[] nextItems;

    private Batch(
            Task task,
            float[][] windows,
            float[][] targets,
            String[][] histories,
            String[] nextItems) {
        this.task = task;
        this.windows = windows;
        this.targets = targets;
        this.histories = histories;
        this.nextItems = nextItems;
    }

    /**
     * A NEXT_VALUE batch.
     *
     * @param windows one normalised window per row
     * @param targets the normalised values that followed each window
     * @return the batch
     */
    public static Batch values(float[][] windows, float[][] targets) {
        requireRows("windows", windows);
        requireRows("targets", targets);
        if (targets.length != windows.length) {
            throw new IllegalArgumentException(
                    "targets must hold one row per window ("
                            + windows.length
                            + ") but held "
                            + targets.length);
        }
        return new Batch(Task.NEXT_VALUE, windows, targets, null, null);
    }

    /**
     * A RECONSTRUCTION batch.
     *
     * @param windows one normalised window per row
     * @return the batch
     */
    public static Batch windows(float[][] windows) {
        requireRows("windows", windows);
        return new Batch(Task.RECONSTRUCTION, windows, null, null, null);
    }

    /**
     * A NEXT_ITEM batch.
     *
     * @param histories one user's item ids per row, oldest first
     * @param nextItems the item that followed each history
     * @return the batch
     */
    public static Batch items(String[][] histories, String[] nextItems) {
        if (histories == null || histories.length == 0) {
            throw new IllegalArgumentException("histories must hold at least one row");
        }
        if (nextItems == null || nextItems.length != histories.length) {
            throw new IllegalArgumentException(
                    "nextItems must hold one id per history ("
                            + histories.length
                            + ") but held "
                            + (nextItems == null ? "null" : nextItems.length));
        }
        for (int r = 0; r < histories.length; r++) {
            if (histories[r] == null) {
                throw new IllegalArgumentException("histories[" + r + "] must not be null");
            }
            if (nextItems[r] == null) {
                throw new IllegalArgumentException("nextItems[" + r + "] must not be null");
            }
        }
        return new Batch(Task.NEXT_ITEM, null, null, histories, nextItems);
    }

    private static void requireRows(String what, Object[] rows) {
        if (rows == null || rows.length == 0) {
            throw new IllegalArgumentException(what + " must hold at least one row");
        }
    }

    /** Returns the task this batch is for. */
    public Task task() {
        return task;
    }

    /** Returns the number of examples. */
    public int size() {
        return task == Task.NEXT_ITEM ? histories.length : windows.length;
    }

    float[][] windows() {
        return windows;
    }

    float[][] targets() {
        return targets;
    }

    String[][] histories() {
        return histories;
    }

    String[] nextItems() {
        return nextItems;
    }

    /**
     * Checks that the rows fit a config.
     *
     * @throws IllegalArgumentException naming the first row of the wrong length, or the task
     */
    void check(ModelConfig config) {
        if (task != config.task()) {
            throw new IllegalArgumentException(
                    "a " + task + " batch cannot train a " + config.task() + " model");
        }
        if (task == Task.NEXT_ITEM) {
            return;
        }
        checkLengths("windows", windows, config.window() * config.features());
        if (targets != null) {
            checkLengths("targets", targets, config.features());
        }
    }

    /** Checks that every row holds {@code length} values; names the first that does not. */
    static void checkLengths(String what, float[][] rows, int length) {
        if (rows == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
        for (int r = 0; r < rows.length; r++) {
            if (rows[r] == null || rows[r].length != length) {
                throw new IllegalArgumentException(
                        what
                                + "["
                                + r
                                + "] must hold "
                                + length
                                + " values but held "
                                + (rows[r] == null ? "null" : rows[r].length));
            }
        }
    }
}
