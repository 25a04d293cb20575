package io.streamlearn.models;

import java.util.ArrayList;
import java.util.List;

/**
 * How a live trainer keeps up with examples that arrive faster than it learns them. A step costs
 * mostly a fixed overhead, so when the newest example of a batch waited longer than {@code maxLag}
 * for its step, the next batch is twice as large, up to {@code maxBatchSize}; still behind at the
 * largest batch, one example in 2, then 4, ... up to {@link #MAX_STRIDE} is learned (the stride).
 * Under half the lag, the stride halves back to 1, then the batch back to {@code batchSize}.
 *
 * <p>Three more rules of the live trainer go with it: which arriving examples the stride keeps
 * ({@link #keep}), which of a full backlog are kept while a step runs ({@link #everySecond}), and
 * when a step makes a new version ({@link #versionDue}).
 *
 * <p>One policy for the job's trainer and for the bare model loop it is benchmarked against, so
 * that both take the same batches and learn the same share. Lags are in any unit, the same as
 * {@code maxLag}'s. Not thread safe: one owner.
 */
public final class TrainingPace {
    /** The sampling stride at most: one example in this many is learned. */
    public static final int MAX_STRIDE = 1 << 10;

    private final int batchSize;
    private final int maxBatchSize;
    private final long maxLag;
    private int batch;
    private int stride = 1;
    private long sampled;

    /**
     * @param batchSize the batch while the trainer keeps up
     * @param maxBatchSize the largest batch it grows to
     * @param maxLag how long the newest example of a batch may wait before the next one grows
     */
    public TrainingPace(int batchSize, int maxBatchSize, long maxLag) {
        if (batchSize < 1 || maxBatchSize < batchSize || maxLag <= 0) {
            throw new IllegalArgumentException(
                    "need 1 <= batchSize <= maxBatchSize and maxLag > 0, got batchSize "
                            + batchSize
                            + ", maxBatchSize "
                            + maxBatchSize
                            + ", maxLag "
                            + maxLag);
        }
        this.batchSize = batchSize;
        this.maxBatchSize = maxBatchSize;
        this.maxLag = maxLag;
        this.batch = batchSize;
    }

    /**
     * Sizes the next batch, then the stride, from how long the newest example of the batch just
     * taken waited.
     *
     * @return whether the stride grew (the trainer now learns a smaller share of its examples)
     */
    public boolean observe(long lag) {
        if (lag > maxLag) {
            if (batch < maxBatchSize) {
                batch = Math.min(2 * batch, maxBatchSize);
            } else if (stride < MAX_STRIDE) {
                stride *= 2;
                sampled = 0;
                return true;
            }
        } else if (lag < maxLag / 2) {
            if (stride > 1) {
                stride /= 2;
                sampled = 0;
            } else {
                batch = Math.max(batch / 2, batchSize);
            }
        }
        return false;
    }

    /**
     * Whether the stride keeps the example that just arrived: every one at stride 1, else the last
     * of every {@code stride} arrivals since the stride last changed. The others are skipped.
     */
    public boolean keep() {
        return stride == 1 || ++sampled % stride == 0;
    }

    /**
     * Whether the step just taken makes a new version: every {@code everySteps} steps, or, with a
     * minimum interval, once {@code everySteps} steps and the interval have both passed since the
     * last version. Times in any unit, the same as {@code minInterval}'s.
     *
     * @param minInterval the least time between two versions; 0 publishes on steps only
     */
    public static boolean versionDue(
            long step,
            long lastVersionStep,
            int everySteps,
            long now,
            long lastVersionAt,
            long minInterval) {
        return minInterval > 0
                ? step - lastVersionStep >= everySteps && now - lastVersionAt >= minInterval
                : step % everySteps == 0;
    }

    /**
     * The second, fourth, ... of the examples waiting when as many wait as the largest batch while
     * a step runs (and the oldest has waited the max lag); the others are skipped. Done each time
     * the backlog fills again during one long step, it leaves a sample of everything that came, the
     * newest densest: half of it from the latest arrivals, a quarter from those before, and so on.
     */
    public static <T> List<T> everySecond(List<T> waiting) {
        List<T> kept = new ArrayList<>(waiting.size() / 2 + 1);
        for (int i = 1; i < waiting.size(); i += 2) {
            kept.add(waiting.get(i));
        }
        return kept;
    }

    /** The next batch's size. */
    public int batch() {
        return batch;
    }

    /** One example in this many is learned. */
    public int stride() {
        return stride;
    }
}
