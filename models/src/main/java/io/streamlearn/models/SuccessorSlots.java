package io.streamlearn.models;

import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;

/**
 * The successor slots of an untied next-item head: per vocabulary row l (the last item of a
 * window), S candidate next items, each with a learned score added to that candidate's logit. A
 * sparse, full-rank transition term beside the factorised one ({@code e(last) . out(next)}), which
 * cannot hold a transition matrix without low-rank structure (each item's successors drawn at
 * random, as in the generated clickstream) at 64 wide.
 *
 * <p>For an example whose last input row is l (the last row of its window that is not padding; an
 * example without one gets no term), target row y and softmax probabilities p over the step's
 * columns:
 *
 * <pre>
 * logit[col(c)] += w[l, k]                 for every slot k of l holding a row c &gt; 0 that is a
 *                                          column of the step
 * after a training step, example by example in batch order (plain SGD, not divided by the batch):
 *   w[l, k] -= rate (p[col(c)] - [c == y])  for every filled slot whose row is a column
 *   if no slot holds y: y goes into the first empty slot, else into the one of smallest weight
 *   (the first of equals), with w = rate (1 - p[col(y)])
 * </pre>
 *
 * The update is the gradient of the example's cross-entropy with respect to w, so a slot's weight
 * grows while its candidate is under-predicted after l and shrinks while over-predicted; a slot of
 * low weight makes room for a new successor. With the sampled softmax the columns are the target
 * and the drawn negatives: a candidate outside them is left as it is, and one drawn several times
 * takes the sum of its columns' probabilities (as its gradient does). The slots are learned here,
 * not by the optimizer: no gradient, clipping, weight decay or moments. Candidates are rows as
 * floats (exact below 2^24, the largest item capacity); a row reassigned to a new item starts with
 * empty slots, but slots elsewhere that still name it are not cleaned: they score the new item
 * until its negative updates unlearn them.
 *
 * <p>The instance is a view of two of the model's arrays (capacity x S each): training updates them
 * in place.
 */
final class SuccessorSlots {

    private final int slots;
    private final float rate;
    private final float[] candidates;
    private final float[] weights;

    private SuccessorSlots(int slots, float rate, float[] candidates, float[] weights) {
        this.slots = slots;
        this.rate = rate;
        this.candidates = candidates;
        this.weights = weights;
    }

    /**
     * The slots held in a model's weights, or null for a model without them.
     *
     * @param config the config
     * @param layout its layout
     * @param weights the weights, in layout order: the view aliases two of them
     */
    static SuccessorSlots of(ModelConfig config, ParameterLayout layout, float[][] weights) {
        int rows = layout.find(ParameterLayout.ITEM_SUCCESSOR_ROWS);
        if (config.successorSlots() == 0 || rows < 0) {
            return null;
        }
        return new SuccessorSlots(
                config.successorSlots(),
                config.successorLearningRate(),
                weights[rows],
                weights[layout.indexOf(ParameterLayout.ITEM_SUCCESSOR_WEIGHTS)]);
    }

    /**
     * The last row of each window that is not padding (row 0), or 0 where there is none.
     *
     * @param inputs rows, {@code window} per example
     * @param window the window
     */
    static long[] lastRows(long[] inputs, int window) {
        long[] last = new long[inputs.length / window];
        for (int b = 0; b < last.length; b++) {
            for (int t = window - 1; t >= 0; t--) {
                if (inputs[b * window + t] > 0) {
                    last[b] = inputs[b * window + t];
                    break;
                }
            }
        }
        return last;
    }

    /**
     * The term each example's logits get: (examples, columns.width()) values, 0 where no slot names
     * a column.
     *
     * @param last each example's last row, 0 for none
     * @param columns the columns of the step's softmax
     * @param fresh rows handed to new ids this step, ascending: read as empty, as they will be
     */
    float[] addend(long[] last, Columns columns, int[] fresh) {
        int width = columns.width();
        float[] out = new float[last.length * width];
        for (int b = 0; b < last.length; b++) {
            int l = (int) last[b];
            if (l <= 0 || Arrays.binarySearch(fresh, l) >= 0) {
                continue;
            }
            for (int k = l * slots; k < (l + 1) * slots; k++) {
                int c = (int) candidates[k];
                if (c > 0) {
                    columns.add(out, b, c, weights[k]);
                }
            }
        }
        return out;
    }

    /**
     * Learns from a committed training step, example by example in batch order (see the class
     * comment).
     *
     * @param last each example's last row, 0 for none
     * @param targets each example's target row
     * @param columns the columns of the step's softmax
     * @param probabilities the step's softmax, (examples, columns.width())
     * @param changed where the rows whose slots may have changed are set
     */
    void learn(
            long[] last, long[] targets, Columns columns, float[] probabilities, BitSet changed) {
        for (int b = 0; b < last.length; b++) {
            int l = (int) last[b];
            if (l <= 0) {
                continue;
            }
            int y = (int) targets[b];
            boolean held = false;
            int from = l * slots;
            for (int k = from; k < from + slots; k++) {
                int c = (int) candidates[k];
                if (c <= 0 || !columns.contains(b, c)) {
                    continue;
                }
                double p = columns.sum(probabilities, b, c);
                weights[k] = (float) (weights[k] - rate * (p - (c == y ? 1.0 : 0.0)));
                held |= c == y;
            }
            if (!held) {
                int slot = -1;
                for (int k = from; k < from + slots; k++) {
                    if (candidates[k] <= 0f) {
                        slot = k;
                        break;
                    }
                    if (slot < 0 || weights[k] < weights[slot]) {
                        slot = k;
                    }
                }
                candidates[slot] = y;
                weights[slot] = (float) (rate * (1.0 - columns.sum(probabilities, b, y)));
            }
            changed.set(l);
        }
    }

    /**
     * The columns of one step's softmax, per example: every row in use (the full softmax, and
     * serving), or the example's target then the shared negatives (the sampled softmax).
     */
    static final class Columns {
        private final int width;
        private final long[] own;
        private final Map<Integer, int[]> shared;

        private Columns(int width, long[] own, Map<Integer, int[]> shared) {
            this.width = width;
            this.own = own;
            this.shared = shared;
        }

        /** Column j is row j, for rows 0 to {@code rows} - 1, in every example. */
        static Columns full(int rows) {
            return new Columns(rows, null, null);
        }

        /**
         * Column 0 is the example's target, column 1 + i the i-th negative (a row may be drawn more
         * than once).
         */
        static Columns sampled(long[] targets, long[] negatives) {
            Map<Integer, int[]> shared = new HashMap<>();
            for (int i = 0; i < negatives.length; i++) {
                int[] had = shared.get((int) negatives[i]);
                int[] now = had == null ? new int[1] : Arrays.copyOf(had, had.length + 1);
                now[now.length - 1] = 1 + i;
                shared.put((int) negatives[i], now);
            }
            return new Columns(1 + negatives.length, targets, shared);
        }

        int width() {
            return width;
        }

        boolean contains(int b, int row) {
            return own == null ? row < width : own[b] == row || shared.containsKey(row);
        }

        /** Adds {@code value} to every column of example b that is {@code row}. */
        void add(float[] values, int b, int row, float value) {
            int base = b * width;
            if (own == null) {
                if (row < width) {
                    values[base + row] += value;
                }
                return;
            }
            if (own[b] == row) {
                values[base] += value;
            }
            int[] columns = shared.get(row);
            if (columns != null) {
                for (int j : columns) {
                    values[base + j] += value;
                }
            }
        }

        /** The sum of example b's values over its columns that are {@code row}. */
        double sum(float[] values, int b, int row) {
            int base = b * width;
            if (own == null) {
                return row < width ? values[base + row] : 0.0;
            }
            double s = own[b] == row ? values[base] : 0.0;
            int[] columns = shared.get(row);
            if (columns != null) {
                for (int j : columns) {
                    s += values[base + j];
                }
            }
            return s;
        }
    }
}
