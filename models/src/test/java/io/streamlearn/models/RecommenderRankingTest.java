package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import io.streamlearn.models.ModelConfig.Family;
import io.streamlearn.models.ModelConfig.ItemOutput;
import io.streamlearn.models.ModelConfig.Task;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link Recommender}'s top-K against a brute-force reference: every row of the whole output table
 * scored by the network's own layers, the rows without an item left out, a softmax in double and a
 * full sort in Java. Serving scores only the rows handed out so far; this proves that leaving the
 * rest out changes neither the ranking nor the scores, with a table far larger than the catalogue,
 * with a full table whose rows were reused by eviction, with the untied head's bias and successor
 * slots (the reference adds the last known item's slots to its candidates' logits), and with the
 * queries of one call ranked in blocks.
 */
class RecommenderRankingTest {

    private static ModelState trained(int capacity, int items, ItemOutput output) {
        ModelConfig config =
                ModelConfig.builder()
                        .setTask(Task.NEXT_ITEM)
                        .setFamily(Family.GRU)
                        .setWindow(6)
                        .optHiddenSize(16)
                        .optItemCapacity(capacity)
                        .optItemOutput(output)
                        .optLearningRate(0.01f)
                        .build();
        Clickstream stream = new Clickstream(5L, 16, items, 10);
        try (OnlineLearner learner = new OnlineLearner(config)) {
            for (int i = 0; i < 40; i++) {
                learner.train(stream.batch(16));
            }
            learner.nextVersion();
            return learner.snapshot();
        }
    }

    /** The reference: (id, probability) of every item, best first. */
    private static List<ScoredItem> bruteForce(ModelState state, String[] history) {
        List<ScoredItem> ranked = new ArrayList<>();
        try (LoadedModel model = new LoadedModel(state, Device.cpu(), Task.NEXT_ITEM, "test")) {
            int w = state.config().window();
            long[] ids = new long[w];
            for (int t = 0; t < w; t++) {
                ids[t] = model.vocabulary.rowOf(history[history.length - w + t]);
            }
            float[] logits =
                    model.run(
                            scope -> {
                                NDArray[] p = model.params();
                                NDArray x =
                                        model.network.embed(p, scope.create(ids, new Shape(1, w)));
                                NDList out = model.network.recurrent(p, x, null);
                                NDArray query =
                                        model.network.itemQuery(
                                                p,
                                                Network.lastStep(out.get(0)),
                                                Network.lastStep(x));
                                return model.network.itemScores(p, query).toFloatArray();
                            });
            assertEquals(state.config().itemCapacity(), logits.length, "every row scored");
            addSuccessorTerm(state, ids, logits);
            double max = Double.NEGATIVE_INFINITY;
            for (int row = 0; row < logits.length; row++) {
                if (model.vocabulary.idOf(row) != null) {
                    max = Math.max(max, logits[row]);
                }
            }
            double sum = 0;
            for (int row = 0; row < logits.length; row++) {
                if (model.vocabulary.idOf(row) != null) {
                    sum += Math.exp(logits[row] - max);
                }
            }
            for (int row = 0; row < logits.length; row++) {
                String id = model.vocabulary.idOf(row);
                if (id != null) {
                    ranked.add(new ScoredItem(id, (float) (Math.exp(logits[row] - max) / sum)));
                }
            }
        }
        ranked.sort(Comparator.comparingDouble(ScoredItem::score).reversed());
        return ranked;
    }

    /** Adds the slots of the window's last known item (if any) to their candidates' logits. */
    private static void addSuccessorTerm(ModelState state, long[] window, float[] logits) {
        int slots = state.config().successorSlots();
        long last = 0;
        for (long row : window) {
            last = row > 0 ? row : last;
        }
        if (slots == 0 || last == 0) {
            return;
        }
        ParameterLayout layout = ParameterLayout.of(state.config());
        float[] candidates = state.weightsView()[layout.indexOf("item_successor_rows")];
        float[] weights = state.weightsView()[layout.indexOf("item_successor_weights")];
        for (int k = (int) last * slots; k < (last + 1) * slots; k++) {
            if (candidates[k] > 0) {
                logits[(int) candidates[k]] += weights[k];
            }
        }
    }

    private static void assertSameRanking(ModelState state, String[][] histories) {
        assertSameRanking(state, histories, Recommender.RANK_BLOCK_SCORES);
    }

    private static void assertSameRanking(ModelState state, String[][] histories, int blockScores) {
        int k = 20;
        try (Recommender recommender = Recommender.create(state, blockScores)) {
            Recommendations top = recommender.recommend(histories, k, null);
            for (int r = 0; r < histories.length; r++) {
                List<ScoredItem> reference = bruteForce(state, histories[r]);
                List<ScoredItem> served = top.items(r);
                assertEquals(Math.min(k, reference.size()), served.size());
                for (int i = 0; i < served.size(); i++) {
                    assertEquals(reference.get(i).itemId(), served.get(i).itemId(), "rank " + i);
                    assertEquals(
                            reference.get(i).score(), served.get(i).score(), 1e-6, "rank " + i);
                }
                // Excluding the reference's best items serves the next ones, in order.
                Set<String> seen = Set.of(reference.get(0).itemId(), reference.get(3).itemId());
                List<ScoredItem> filtered =
                        recommender
                                .recommend(new String[][] {histories[r]}, k, List.of(seen))
                                .items(0);
                List<ScoredItem> expected =
                        reference.stream().filter(s -> !seen.contains(s.itemId())).toList();
                for (int i = 0; i < filtered.size(); i++) {
                    assertEquals(expected.get(i).itemId(), filtered.get(i).itemId(), "rank " + i);
                }
            }
        }
    }

    private static String[][] histories() {
        return new String[][] {
            {"item-1", "item-8", "item-3", "item-10", "item-5", "item-2"},
            {"item-0", "item-7", "item-21", "item-22", "item-9", "item-30"},
            {"never-seen", "item-4", "item-4", "item-11", "item-17", "item-12"}
        };
    }

    @Test
    void aTableFarLargerThanTheCatalogueRanksAsTheWholeTable() {
        ModelState state = trained(4_096, 40, ItemOutput.TIED);
        assertTrue(state.vocabulary().rowsInUse() <= 41, "rows in use");
        assertSameRanking(state, histories());
    }

    @Test
    void aFullTableWithReusedRowsRanksAsTheWholeTable() {
        ModelState state = trained(32, 60, ItemOutput.TIED);
        assertEquals(32, state.vocabulary().rowsInUse());
        assertSameRanking(state, histories());
    }

    @Test
    void theUntiedHeadsBiasIsSlicedWithItsTable() {
        ModelState state = trained(4_096, 40, ItemOutput.UNTIED);
        assertTrue(state.config().successorSlots() > 0, "with successor slots, by default");
        assertSameRanking(state, histories());
    }

    /** Blocks of one query and of two (the last one short) rank as one block of all. */
    @Test
    void queriesRankedInBlocksRankAsOneBlock() {
        ModelState state = trained(4_096, 40, ItemOutput.UNTIED);
        int used = state.vocabulary().rowsInUse();
        assertSameRanking(state, histories(), used);
        assertSameRanking(state, histories(), 2 * used);
    }
}
