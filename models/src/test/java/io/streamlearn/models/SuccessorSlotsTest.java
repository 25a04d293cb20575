package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.models.ModelConfig.Family;
import io.streamlearn.models.ModelConfig.ItemOutput;
import io.streamlearn.models.ModelConfig.Softmax;
import io.streamlearn.models.ModelConfig.Task;
import java.util.Arrays;
import java.util.BitSet;
import org.junit.jupiter.api.Test;

/**
 * The successor slots of an untied next-item head: their rule (insert, reinforce, replace the
 * smallest weight), that evaluation and serving add their term without learning, that a skipped
 * step leaves them alone, and where they live in the layout.
 */
class SuccessorSlotsTest {

    /** Slots on a small untied GRU with the full softmax: default rate 2. */
    private static ModelConfig.Builder items(int slots) {
        return ModelConfig.builder()
                .setTask(Task.NEXT_ITEM)
                .setFamily(Family.GRU)
                .setWindow(3)
                .optHiddenSize(8)
                .optItemCapacity(16)
                .optItemOutput(ItemOutput.UNTIED)
                .optSoftmax(Softmax.FULL)
                .optItemSuccessors(slots);
    }

    private static final float RATE = 2.0f;

    /** A view over fresh zero arrays of a 3-slot model, and the arrays. */
    private record Slots(SuccessorSlots slots, float[] candidates, float[] weights) {
        static Slots fresh() {
            ModelConfig config = items(3).build();
            ParameterLayout layout = ParameterLayout.of(config);
            float[][] w = layout.zeros();
            return new Slots(
                    SuccessorSlots.of(config, layout, w),
                    w[layout.indexOf(ParameterLayout.ITEM_SUCCESSOR_ROWS)],
                    w[layout.indexOf(ParameterLayout.ITEM_SUCCESSOR_WEIGHTS)]);
        }

        float[] candidatesOf(int row) {
            return Arrays.copyOfRange(candidates, 3 * row, 3 * row + 3);
        }

        float[] weightsOf(int row) {
            return Arrays.copyOfRange(weights, 3 * row, 3 * row + 3);
        }

        /** One example after row {@code last}, target {@code target}, softmax {@code p}. */
        BitSet learn(int last, int target, float... p) {
            BitSet changed = new BitSet();
            slots.learn(
                    new long[] {last},
                    new long[] {target},
                    SuccessorSlots.Columns.full(p.length),
                    p,
                    changed);
            return changed;
        }
    }

    @Test
    void theRuleInsertsReinforcesAndReplacesTheSmallestWeight() {
        Slots s = Slots.fresh();
        // Row 2 followed by 3, predicted at 0.25: into the first empty slot at 2 (1 - 0.25).
        BitSet changed = s.learn(2, 3, 0f, 0.25f, 0.25f, 0.25f, 0.25f, 0f);
        assertEquals(BitSet.valueOf(new long[] {1L << 2}), changed);
        assertArrayEquals(new float[] {3, 0, 0}, s.candidatesOf(2));
        assertEquals(RATE * 0.75f, s.weightsOf(2)[0], 1e-6f);
        // Again, predicted at 0.5: reinforced by 2 (1 - 0.5), no second slot.
        s.learn(2, 3, 0f, 0.1f, 0f, 0.5f, 0.4f, 0f);
        assertArrayEquals(new float[] {3, 0, 0}, s.candidatesOf(2));
        assertEquals(2.5f, s.weightsOf(2)[0], 1e-6f);
        // Followed by 4: 3 is weakened by 2 p(3), 4 takes the next empty slot at 2 (1 - p(4)).
        s.learn(2, 4, 0f, 0f, 0f, 0.5f, 0.1f, 0.4f);
        assertArrayEquals(new float[] {3, 4, 0}, s.candidatesOf(2));
        assertArrayEquals(new float[] {1.5f, 1.8f, 0f}, s.weightsOf(2), 1e-6f);
        s.learn(2, 5, 0f, 0f, 0.1f, 0.1f, 0.1f, 0.7f);
        assertArrayEquals(new float[] {3, 4, 5}, s.candidatesOf(2));
        assertArrayEquals(new float[] {1.3f, 1.6f, 0.6f}, s.weightsOf(2), 1e-6f);
        // All slots full: after the updates (3 to 0.3, 5 to 0.1) 1 replaces the smallest, 5.
        s.learn(2, 1, 0f, 0f, 0.25f, 0.5f, 0f, 0.25f);
        assertArrayEquals(new float[] {3, 4, 1}, s.candidatesOf(2));
        assertArrayEquals(new float[] {0.3f, 1.6f, 2.0f}, s.weightsOf(2), 1e-6f);
        // The other rows were never touched.
        assertArrayEquals(new float[3], s.candidatesOf(1));
        assertArrayEquals(new float[3], s.weightsOf(3));
    }

    @Test
    void theTermIsEachSlotsWeightOnItsCandidatesColumn() {
        Slots s = Slots.fresh();
        s.learn(2, 3, 0f, 0.25f, 0.25f, 0.25f, 0.25f);
        s.learn(2, 4, 0f, 0f, 0f, 0.5f, 0.5f);
        SuccessorSlots.Columns six = SuccessorSlots.Columns.full(6);
        assertArrayEquals(
                new float[] {0, 0, 0, 0.5f, 1.0f, 0, 0, 0, 0, 0, 0, 0},
                s.slots().addend(new long[] {2, 0}, six, new int[0]),
                1e-6f,
                "row 2's slots, and nothing for an example without a last item");
        assertArrayEquals(
                new float[6],
                s.slots().addend(new long[] {2}, six, new int[] {2}),
                "a row handed to a new id this step reads as empty");
        assertArrayEquals(
                new float[] {0, 0, 0, 0.5f},
                s.slots().addend(new long[] {2}, SuccessorSlots.Columns.full(4), new int[0]),
                1e-6f,
                "a candidate that is not a column gets nothing");
    }

    @Test
    void aCandidateOutsideTheStepsColumnsIsLeftAsItIs() {
        Slots s = Slots.fresh();
        s.learn(2, 5, 0f, 0f, 0f, 0f, 0f, 0.5f);
        // Columns 0 to 3 only (5 is not among them): 5's weight stays, 3 is inserted.
        s.learn(2, 3, 0f, 0.25f, 0.25f, 0.5f);
        assertArrayEquals(new float[] {5, 3, 0}, s.candidatesOf(2));
        assertArrayEquals(new float[] {1.0f, 1.0f, 0f}, s.weightsOf(2), 1e-6f);
    }

    @Test
    void sampledColumnsAreTheTargetThenEachDrawnNegative() {
        SuccessorSlots.Columns c =
                SuccessorSlots.Columns.sampled(new long[] {3, 7}, new long[] {4, 4, 5});
        assertEquals(4, c.width());
        assertTrue(c.contains(0, 3));
        assertFalse(c.contains(1, 3), "another example's target is not a column");
        assertTrue(c.contains(1, 4));
        assertFalse(c.contains(0, 6));
        float[] values = new float[8];
        c.add(values, 1, 4, 2f);
        c.add(values, 1, 7, 1f);
        assertArrayEquals(new float[] {0, 0, 0, 0, 1, 2, 2, 0}, values);
        assertEquals(4.0, c.sum(values, 1, 4));
        assertEquals(1.0, c.sum(values, 1, 7));
        assertEquals(0.0, c.sum(values, 0, 7));
    }

    @Test
    void theLastRowIsTheWindowsLastThatIsNotPadding() {
        assertArrayEquals(
                new long[] {5, 4, 0}, SuccessorSlots.lastRows(new long[] {3, 5, 4, 0, 0, 0}, 2));
    }

    @Test
    void onlyAnUntiedItemHeadHasSlotsLearnedOutsideTheOptimizer() {
        ParameterLayout layout = ParameterLayout.of(items(4).build());
        int rows = layout.indexOf(ParameterLayout.ITEM_SUCCESSOR_ROWS);
        int weights = layout.indexOf(ParameterLayout.ITEM_SUCCESSOR_WEIGHTS);
        assertEquals(16 * 4, layout.get(rows).size());
        assertEquals(4, layout.get(weights).rowLength());
        assertTrue(layout.get(rows).outsideOptimizer() && layout.get(weights).outsideOptimizer());
        assertEquals(0, layout.slotZeros()[weights].length, "no optimizer arrays");
        assertEquals(5, layout.itemTables().length, "kept by row with the other item tables");
        assertEquals(
                -1,
                ParameterLayout.of(items(4).optItemOutput(ItemOutput.TIED).build())
                        .find(ParameterLayout.ITEM_SUCCESSOR_ROWS));
        assertEquals(-1, ParameterLayout.of(items(0).build()).find("item_successor_rows"));
        assertEquals(16, ModelConfig.builder().build().itemSuccessors(), "the default");
        assertEquals(0, ModelConfig.builder().build().successorSlots(), "NEXT_VALUE has none");
    }

    @Test
    void badSettingsAreRefusedNamingTheField() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> items(-1).build());
        assertTrue(e.getMessage().startsWith("itemSuccessors "), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> items(4).optSuccessorLearningRate(Float.NaN).build());
        assertTrue(e.getMessage().startsWith("successorLearningRate "), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> items(200).optItemCapacity(ModelConfig.MAX_ITEM_CAPACITY).build());
        assertTrue(e.getMessage().startsWith("itemSuccessors "), e.getMessage());
    }

    /**
     * A first step on three new items: the output table and bias start at zero, so every known item
     * has probability 1/3 and the target goes into its last item's slot at 2 (1 - 1/3).
     */
    @Test
    void aTrainingStepFillsTheLastItemsSlotAndMarksItsRow() {
        try (OnlineLearner learner = new OnlineLearner(items(4).build())) {
            learner.train(Batch.items(new String[][] {{"a", "b"}}, new String[] {"c"}));
            ItemVocabulary v = learner.vocabulary();
            SlotView view = SlotView.of(learner.snapshot());
            assertArrayEquals(new float[] {v.rowOf("c"), 0, 0, 0}, view.candidates(v.rowOf("b")));
            assertEquals(RATE * 2 / 3, view.weights(v.rowOf("b"))[0], 1e-5f);
            assertArrayEquals(new float[4], view.candidates(v.rowOf("a")), "not the last item");
            assertTrue(learner.takeChangedRows().get(v.rowOf("b")));

            learner.train(Batch.items(new String[][] {{"a", "b"}}, new String[] {"c"}));
            SlotView again = SlotView.of(learner.snapshot());
            assertArrayEquals(new float[] {v.rowOf("c"), 0, 0, 0}, again.candidates(v.rowOf("b")));
            assertTrue(
                    again.weights(v.rowOf("b"))[0] > view.weights(v.rowOf("b"))[0], "reinforced");
        }
    }

    @Test
    void aRowHandedToANewItemStartsWithEmptySlots() {
        // Capacity 4: rows 1 to 3. The fourth item takes the row of the least recent, "a".
        try (OnlineLearner learner = new OnlineLearner(items(2).optItemCapacity(4).build())) {
            learner.train(Batch.items(new String[][] {{"a"}}, new String[] {"b"}));
            int rowOfA = learner.vocabulary().rowOf("a");
            assertTrue(SlotView.of(learner.snapshot()).weights(rowOfA)[0] > 0);
            learner.train(Batch.items(new String[][] {{"c"}}, new String[] {"b"}));
            learner.train(Batch.items(new String[][] {{"b"}}, new String[] {"d"}));
            assertEquals(0, learner.vocabulary().rowOf("a"), "a was evicted");
            assertEquals(rowOfA, learner.vocabulary().rowOf("d"));
            SlotView view = SlotView.of(learner.snapshot());
            assertArrayEquals(new float[2], view.candidates(rowOfA));
            assertArrayEquals(new float[2], view.weights(rowOfA));
        }
    }

    @Test
    void evaluationAddsTheTermAndLearnsNothing() {
        try (OnlineLearner learner = new OnlineLearner(items(4).build())) {
            Batch ab = Batch.items(new String[][] {{"a"}, {"c"}}, new String[] {"b", "d"});
            learner.train(ab);
            ModelState before = learner.snapshot();
            float loss = learner.evaluate(ab);
            assertEquals(before, learner.snapshot(), "evaluate leaves the slots and all else");

            // Without the slots' weights the same model scores the batch worse.
            ModelState cleared = withSlot(before, "a", "b", 0f);
            try (OnlineLearner plain = OnlineLearner.evaluator(cleared, ai.djl.Device.cpu())) {
                assertTrue(plain.evaluate(ab) > loss, plain.evaluate(ab) + " vs " + loss);
            }
        }
    }

    @Test
    void aSkippedStepLeavesTheSlotsAlone() {
        try (OnlineLearner learner = new OnlineLearner(items(4).build())) {
            learner.train(Batch.items(new String[][] {{"a"}}, new String[] {"b"}));
            ModelState good = learner.snapshot();
            float[][] weights = good.weights();
            weights[indexOf(good, "item_out_weight")][0] = Float.NaN;
            ModelState broken =
                    new ModelState(
                            good.config(),
                            good.version(),
                            good.step(),
                            weights,
                            ModelState.deepCopy(good.slotsView()),
                            good.vocabulary());
            try (OnlineLearner restored = OnlineLearner.restore(broken)) {
                restored.takeChangedRows();
                float loss =
                        restored.train(Batch.items(new String[][] {{"a"}}, new String[] {"c"}));
                assertTrue(Float.isNaN(loss));
                assertEquals(1, restored.skippedSteps());
                assertEquals(broken, restored.snapshot(), "slots, vocabulary and all unchanged");
                assertTrue(restored.takeChangedRows().isEmpty());
            }
        }
    }

    /** Serving ranks first the item a slot of the last item names with a large weight. */
    @Test
    void servingAddsTheTermSoThatASlotsCandidateRanksFirst() {
        try (OnlineLearner learner = new OnlineLearner(items(4).build())) {
            learner.train(
                    Batch.items(
                            new String[][] {{"a"}, {"b"}, {"c"}, {"d"}},
                            new String[] {"b", "c", "d", "e"}));
            ModelState state = learner.snapshot();
            // "a" was never a next item: without the slot it does not rank first after itself.
            try (Recommender plain = Recommender.create(withSlot(state, "a", "a", 0f));
                    Recommender slotted = Recommender.create(withSlot(state, "a", "a", 30f))) {
                String[][] history = {{"c", "a"}};
                assertFalse(plain.recommend(history, 1, null).items(0).get(0).itemId().equals("a"));
                ScoredItem top = slotted.recommend(history, 1, null).items(0).get(0);
                assertEquals("a", top.itemId());
                assertTrue(top.score() > 0.99f, "score " + top.score());
                // The incremental path adds it too.
                Recommendations first = slotted.recommend(new String[][] {{"c"}}, 1, null);
                ScoredItem stepped =
                        slotted.step(
                                        new RecurrentState[] {first.state(0)},
                                        new String[] {"a"},
                                        1,
                                        null)
                                .items(0)
                                .get(0);
                assertEquals("a", stepped.itemId());
            }
        }
    }

    @Test
    void aModelWithoutSlotsHasNoView() {
        ModelConfig config = items(0).build();
        ParameterLayout layout = ParameterLayout.of(config);
        assertNull(SuccessorSlots.of(config, layout, layout.zeros()));
    }

    /** The state with row(last)'s first slot set to (row(next), weight) and its others empty. */
    private static ModelState withSlot(ModelState state, String last, String next, float weight) {
        float[][] w = state.weights();
        ItemVocabulary v = state.vocabulary();
        int s = state.config().successorSlots();
        int rows = indexOf(state, ParameterLayout.ITEM_SUCCESSOR_ROWS);
        int weights = indexOf(state, ParameterLayout.ITEM_SUCCESSOR_WEIGHTS);
        int l = v.rowOf(last);
        Arrays.fill(w[rows], l * s, (l + 1) * s, 0f);
        Arrays.fill(w[weights], l * s, (l + 1) * s, 0f);
        w[rows][l * s] = v.rowOf(next);
        w[weights][l * s] = weight;
        return new ModelState(
                state.config(),
                state.version(),
                state.step(),
                w,
                ModelState.deepCopy(state.slotsView()),
                v);
    }

    private static int indexOf(ModelState state, String tensor) {
        return ParameterLayout.of(state.config()).indexOf(tensor);
    }

    /** A state's slots, by row. */
    private record SlotView(int slots, float[] candidates, float[] weights) {
        static SlotView of(ModelState state) {
            float[][] w = state.weights();
            return new SlotView(
                    state.config().successorSlots(),
                    w[indexOf(state, ParameterLayout.ITEM_SUCCESSOR_ROWS)],
                    w[indexOf(state, ParameterLayout.ITEM_SUCCESSOR_WEIGHTS)]);
        }

        float[] candidates(int row) {
            return Arrays.copyOfRange(candidates, row * slots, (row + 1) * slots);
        }

        float[] weights(int row) {
            return Arrays.copyOfRange(weights, row * slots, (row + 1) * slots);
        }
    }
}
