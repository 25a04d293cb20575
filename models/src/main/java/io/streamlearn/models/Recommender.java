package io.streamlearn.models;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.streamlearn.models.ModelConfig.Task;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.List;

/**
 * Recommends each user's next items with a fixed NEXT_ITEM {@link ModelState}: inference only, any
 * family.
 *
 * <p>Item ids are mapped with the state's vocabulary, read-only: an id the model has not seen reads
 * as row 0 (unknown). Every item in the vocabulary is scored (the query's dot product with its row
 * of the output table plus its bias, then a softmax over all of them: serving always ranks the full
 * catalogue, also when training samples negatives), the top {@code k} are returned best first, and
 * the ids a caller excludes (for example the items a user has already seen) are skipped without
 * shortening the list. Only the rows handed out so far are scored: the rows past them hold no item
 * (their masked scores add exactly 0 to the softmax), so a table sized above the catalogue costs
 * nothing at serving. A brute-force scan: about 3.2 million multiply-adds per query at 100,000
 * items and hidden size 32 (figures in docs/benchmarks.md). A model with successor slots adds their
 * term to the scores of the last item's candidates before the softmax, as training does ({@link
 * SuccessorSlots}); the last item is the history's last known one ({@link #step}: the newest item).
 * For recurrent families {@link #recommend} also returns each user's state, and {@link #step}
 * advances it by one item.
 *
 * <p>Threading as {@link Forecaster}.
 */
public final class Recommender implements AutoCloseable {

    /**
     * Scores ranked at once, at most: queries are ranked in blocks of at most this many scores (512
     * KiB of floats), so that a block's scores, probabilities and top-K stay in a core's cache. One
     * block of 32 queries over 100,000 items (12.8 MB per intermediate array) took three times as
     * long per query as one query at a time on the 2-core build machine.
     */
    static final int RANK_BLOCK_SCORES = 1 << 17;

    private final LoadedModel model;
    private final int rankBlockScores;

    /** The rows scored: those handed out so far (fixed, as the state's vocabulary is). */
    private final int scoredRows;

    /** {@link Network#MASKED} for the scored rows without an item (row 0, say), else 0. */
    private final NDArray rowMask;

    /** The successor slots, a view of the state's (immutable) weights; null without them. */
    private final SuccessorSlots successors;

    /** The columns of the serving softmax: every scored row. */
    private final SuccessorSlots.Columns columns;

    private Recommender(ModelState state, Device device, int rankBlockScores) {
        this.rankBlockScores = rankBlockScores;
        // Rows from rowsInUse on were never handed out: they are neither looked up nor scored, so
        // the native item tables stop there (a version loads in proportion to the rows in use,
        // not to the capacity).
        this.model = new LoadedModel(state, device, Task.NEXT_ITEM, "Recommender", true);
        this.scoredRows = model.vocabulary.rowsInUse();
        this.successors =
                SuccessorSlots.of(
                        state.config(), ParameterLayout.of(state.config()), state.weightsView());
        this.columns = SuccessorSlots.Columns.full(scoredRows);
        float[] mask = new float[scoredRows];
        for (int row = 0; row < mask.length; row++) {
            if (model.vocabulary.idOf(row) == null) {
                mask[row] = Network.MASKED;
            }
        }
        try {
            this.rowMask = model.constant(mask, new Shape(mask.length));
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * Creates a CPU recommender.
     *
     * @param state a NEXT_ITEM model state
     * @return the recommender; close it to release its native memory
     */
    public static Recommender create(ModelState state) {
        return new Recommender(state, Device.cpu(), RANK_BLOCK_SCORES);
    }

    /**
     * Creates a recommender on a device.
     *
     * @param state a NEXT_ITEM model state
     * @param device where the network runs
     * @return the recommender; close it to release its native memory
     */
    public static Recommender create(ModelState state, Device device) {
        return new Recommender(state, device, RANK_BLOCK_SCORES);
    }

    /** A CPU recommender that ranks in blocks of at most {@code blockScores} scores; for tests. */
    static Recommender create(ModelState state, int blockScores) {
        return new Recommender(state, Device.cpu(), blockScores);
    }

    /** Returns the version of the model state this recommender was built from. */
    public long version() {
        return model.version;
    }

    /** Returns the config of the model. */
    public ModelConfig config() {
        return model.config;
    }

    /** Returns how many items the model knows. */
    public int knownItems() {
        return model.vocabulary.size();
    }

    /** Returns whether {@link #step} is available (RNN, GRU, LSTM). */
    public boolean isIncremental() {
        return model.isRecurrent();
    }

    /**
     * Recommends the next items after each history.
     *
     * @param histories one user's item ids per row, oldest first (the last {@code window} are used)
     * @param k how many items per row, at least 1
     * @param exclude per row the ids not to recommend, or null for none
     * @return the recommendations
     */
    public Recommendations recommend(
            String[][] histories, int k, List<? extends Collection<String>> exclude) {
        checkK(k);
        if (histories == null) {
            throw new IllegalArgumentException("histories must not be null");
        }
        checkExclusions(exclude, histories.length);
        if (histories.length == 0) {
            return new Recommendations(List.of(), null);
        }
        return recommendBlocks(
                        RowBlocks.pad(histories), k, RowBlocks.pad(exclude, histories.length))
                .head(histories.length);
    }

    private Recommendations recommendBlocks(
            String[][] histories, int k, List<? extends Collection<String>> exclude) {
        int rows = histories.length;
        int w = model.config.window();
        long[] ids = new long[rows * w];
        float[] padding = new float[rows * w];
        for (int r = 0; r < rows; r++) {
            String[] h = histories[r];
            if (h == null) {
                throw new IllegalArgumentException("histories[" + r + "] must not be null");
            }
            int used = Math.min(w, h.length);
            for (int t = 0; t < w; t++) {
                int row = t < w - used ? 0 : model.vocabulary.rowOf(h[h.length - w + t]);
                ids[r * w + t] = row;
                padding[r * w + t] = row == 0 ? 1f : 0f;
            }
        }
        return model.run(
                scope -> {
                    NDArray[] p = model.params();
                    NDArray x = model.network.embed(p, scope.create(ids, new Shape(rows, w)));
                    if (model.isRecurrent()) {
                        NDList out = model.network.recurrent(p, x, null);
                        long[] versions = new long[rows];
                        Arrays.fill(versions, model.version);
                        RecurrentState[] states = model.splitStates(out, versions, new int[rows]);
                        return top(
                                scope,
                                Network.lastStep(out.get(0)),
                                Network.lastStep(x),
                                SuccessorSlots.lastRows(ids, w),
                                k,
                                exclude,
                                states);
                    }
                    NDArray pad = scope.create(padding, new Shape(rows, w));
                    NDArray summary = model.network.encode(p, x, pad, false);
                    return top(
                            scope,
                            summary,
                            Network.lastStep(x),
                            SuccessorSlots.lastRows(ids, w),
                            k,
                            exclude,
                            null);
                });
    }

    /**
     * Advances each user's state by one item and recommends the next items.
     *
     * @param states one state per user, from {@link #recommend} or an earlier step
     * @param items each user's newest item id
     * @param k how many items per row
     * @param exclude per row the ids not to recommend, or null
     * @return the recommendations and the new states (model version kept, one more step)
     * @throws UnsupportedOperationException for a family without a recurrent state
     */
    public Recommendations step(
            RecurrentState[] states,
            String[] items,
            int k,
            List<? extends Collection<String>> exclude) {
        model.requireRecurrent();
        checkK(k);
        if (items == null || states == null || states.length != items.length) {
            throw new IllegalArgumentException("states and items must have one entry per user");
        }
        checkExclusions(exclude, items.length);
        if (items.length == 0) {
            return new Recommendations(List.of(), new RecurrentState[0]);
        }
        return stepBlocks(
                        RowBlocks.pad(states),
                        RowBlocks.pad(items),
                        k,
                        RowBlocks.pad(exclude, items.length))
                .head(items.length);
    }

    private Recommendations stepBlocks(
            RecurrentState[] states,
            String[] items,
            int k,
            List<? extends Collection<String>> exclude) {
        int rows = items.length;
        long[] ids = new long[rows];
        long[] versions = new long[rows];
        int[] steps = new int[rows];
        for (int r = 0; r < rows; r++) {
            ids[r] = model.vocabulary.rowOf(items[r]);
            versions[r] = states[r] == null ? 0 : states[r].modelVersion();
            steps[r] = states[r] == null ? 0 : states[r].stepsSinceRecompute() + 1;
        }
        return model.run(
                scope -> {
                    NDArray[] p = model.params();
                    NDArray x = model.network.embed(p, scope.create(ids, new Shape(rows, 1)));
                    NDList out = model.network.recurrent(p, x, model.stateArrays(scope, states));
                    RecurrentState[] next = model.splitStates(out, versions, steps);
                    return top(
                            scope,
                            Network.lastStep(out.get(0)),
                            Network.lastStep(x),
                            ids,
                            k,
                            exclude,
                            next);
                });
    }

    private Recommendations top(
            NDManager scope,
            NDArray summary,
            NDArray last,
            long[] lastRows,
            int k,
            List<? extends Collection<String>> exclude,
            RecurrentState[] states) {
        NDArray[] p = model.params();
        NDArray query = model.network.itemQuery(p, summary, last);
        int rows = (int) summary.getShape().get(0);
        int extra = 0;
        if (exclude != null) {
            for (Collection<String> e : exclude) {
                extra = Math.max(extra, e == null ? 0 : e.size());
            }
        }
        int known = model.vocabulary.size();
        int fetch = (int) Math.min((long) k + extra, Math.max(1, known));
        float[] scores = new float[rows * fetch];
        long[] rowsOfItems = new long[rows * fetch];
        int block = Math.max(1, rankBlockScores / scoredRows);
        for (int from = 0; from < rows; from += block) {
            int to = Math.min(rows, from + block);
            try (NDManager blockScope = scope.newSubManager()) {
                NDArray q = query;
                if (to - from < rows) {
                    q = query.get(new NDIndex("{}:{}", from, to));
                    q.attach(blockScope);
                }
                NDArray logits = model.network.itemScores(p, q).add(rowMask);
                if (successors != null) {
                    long[] blockRows = Arrays.copyOfRange(lastRows, from, to);
                    float[] term = successors.addend(blockRows, columns, new int[0]);
                    logits = logits.add(blockScope.create(term, new Shape(to - from, scoredRows)));
                }
                NDList top = logits.softmax(1).topK(fetch, 1, true, true);
                System.arraycopy(
                        top.get(0).toFloatArray(), 0, scores, from * fetch, (to - from) * fetch);
                System.arraycopy(
                        top.get(1).toLongArray(),
                        0,
                        rowsOfItems,
                        from * fetch,
                        (to - from) * fetch);
            }
        }
        List<List<ScoredItem>> out = new ArrayList<>(rows);
        for (int r = 0; r < rows; r++) {
            Collection<String> skip =
                    exclude == null || exclude.get(r) == null
                            ? Collections.emptySet()
                            : exclude.get(r);
            List<ScoredItem> items = new ArrayList<>(k);
            for (int i = 0; i < fetch && items.size() < k; i++) {
                String id = model.vocabulary.idOf((int) rowsOfItems[r * fetch + i]);
                if (id != null && !skip.contains(id)) {
                    items.add(new ScoredItem(id, scores[r * fetch + i]));
                }
            }
            out.add(Collections.unmodifiableList(items));
        }
        return new Recommendations(out, states);
    }

    private static void checkK(int k) {
        if (k < 1) {
            throw new IllegalArgumentException("k must be at least 1 but was " + k);
        }
    }

    private static void checkExclusions(List<?> exclude, int rows) {
        if (exclude != null && exclude.size() != rows) {
            throw new IllegalArgumentException(
                    "exclude must hold one collection per row (" + rows + ") or be null");
        }
    }

    /** The rows of the native item embedding table; for tests. */
    long loadedItemRows() {
        return model.params()[model.network.itemTable()].getShape().get(0);
    }

    /** The number of native arrays this instance holds now; for tests that watch for leaks. */
    int managedArrayCount() {
        return model.managedArrayCount();
    }

    /** Releases the native memory; later calls fail. Idempotent. */
    @Override
    public void close() {
        model.close();
    }
}
