package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.models.ModelConfig.Family;
import io.streamlearn.models.ModelConfig.ItemOutput;
import io.streamlearn.models.ModelConfig.Optimizer;
import io.streamlearn.models.ModelConfig.Softmax;
import io.streamlearn.models.ModelConfig.Task;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The codec: bit-exact round trips, clear failures, and the committed fixtures. Run with {@code
 * -Dfixtures.write=true} once to write a new format's fixtures; never rewrite an old one.
 */
class ModelStateTest {

    private static final String V1 = "/fixtures/model-state-v1.bin";
    private static final String V2_VALUES = "/fixtures/model-state-v2-values.bin";
    private static final String V2_ITEMS = "/fixtures/model-state-v2-items.bin";
    private static final String V3_VALUES = "/fixtures/model-state-v3-values.bin";
    private static final String V3_ITEMS = "/fixtures/model-state-v3-items.bin";
    private static final String V4_VALUES = "/fixtures/model-state-v4-values.bin";
    private static final String V4_ITEMS = "/fixtures/model-state-v4-items.bin";

    private static ModelState values;
    private static ModelState items;

    @BeforeAll
    static void train() {
        ModelConfig config = OnlineLearnerTest.config(0);
        values = OnlineLearnerTest.trainAll(config, OnlineLearnerTest.batches(config, 11L, 5));
        ModelConfig itemConfig = OnlineLearnerTest.config(2);
        items =
                OnlineLearnerTest.trainAll(
                        itemConfig, OnlineLearnerTest.batches(itemConfig, 12L, 5));
    }

    @Test
    void roundTripIsBitExact() {
        for (ModelState trained : List.of(values, items)) {
            assertTrue(hasNonZero(trained.slot(0)), "optimizer arrays are non-zero");
            ModelState state = trained.withVersion(17);
            byte[] bytes = state.encode();
            assertEquals(ModelState.FORMAT_VERSION, bytes[0]);
            ModelState decoded = ModelState.decode(bytes);
            assertEquals(state, decoded);
            assertEquals(state.hashCode(), decoded.hashCode());
            assertEquals(17, decoded.version());
            assertEquals(5, decoded.step());
            assertEquals(state.config(), decoded.config());
            assertEquals(state.slotCount(), decoded.slotCount());
            for (int i = 0; i < state.weights().length; i++) {
                assertArrayEquals(raw(state.weights()[i]), raw(decoded.weights()[i]));
                for (int s = 0; s < state.slotCount(); s++) {
                    assertArrayEquals(raw(state.slot(s)[i]), raw(decoded.slot(s)[i]));
                }
            }
            assertArrayEquals(bytes, decoded.encode());
        }
        assertEquals(items.vocabulary(), ModelState.decode(items.encode()).vocabulary());
        assertEquals(
                items.vocabulary().idsByRecency(),
                ModelState.decode(items.encode()).vocabulary().idsByRecency(),
                "recency order survives");
    }

    /**
     * A serving copy keeps the weights (and vocabulary) without the optimizer's arrays (Adam's two
     * moments, SGD's velocity). It round-trips, scores a batch exactly as the full state does, and
     * refuses to resume learning.
     */
    @Test
    void aServingCopyHasTheWeightsScoresAlikeAndCannotResumeLearning() {
        for (ModelState trained : List.of(values, items)) {
            ModelState serving = trained.forServing();
            assertEquals(0, serving.slotCount());
            assertTrue(trained.resumable());
            assertTrue(!serving.resumable());
            assertTrue(
                    trained.encode().length - serving.encode().length
                            >= trained.slotCount() * 4L * trained.parameterCount(),
                    "the optimizer's arrays are left out");
            ModelState decoded = ModelState.decode(serving.encode());
            assertEquals(serving, decoded);
            assertEquals(trained.version(), decoded.version());
            for (int i = 0; i < trained.weights().length; i++) {
                assertArrayEquals(raw(trained.weights()[i]), raw(decoded.weights()[i]));
            }
            assertEquals(trained.vocabulary(), decoded.vocabulary());
            IllegalArgumentException refused =
                    assertThrows(
                            IllegalArgumentException.class, () -> OnlineLearner.restore(decoded));
            assertTrue(refused.getMessage().contains("serving copy"), refused.getMessage());

            Batch batch = OnlineLearnerTest.batches(trained.config(), 99L, 1).get(0);
            try (OnlineLearner full = OnlineLearner.restore(trained);
                    OnlineLearner evaluator =
                            OnlineLearner.evaluator(decoded, ai.djl.Device.cpu())) {
                assertEquals(full.evaluate(batch), evaluator.evaluate(batch), "same code path");
            }
        }
    }

    @Test
    void readsTheCommittedFormat4Fixtures() throws IOException {
        assertEquals(valuesFixture(), ModelState.decode(read(V4_VALUES)));
        assertArrayEquals(read(V4_VALUES), valuesFixture().encode());
        ModelState decoded = ModelState.decode(read(V4_ITEMS));
        assertEquals(itemsFixture(ItemOutput.UNTIED, true, 3), decoded);
        assertEquals(3, decoded.config().successorSlots());
        assertEquals(1.5f, decoded.config().successorLearningRate());
        assertEquals(0, decoded.slot(0)[decoded.weights().length - 1].length, "no moments");
        assertArrayEquals(read(V4_ITEMS), itemsFixture(ItemOutput.UNTIED, true, 3).encode());
    }

    /**
     * Format 3 stays readable: a NEXT_ITEM state comes back without successor slots (0, its layout
     * as it was), a NEXT_VALUE state as it was; both re-encode as format 4 and decode to the same
     * state.
     */
    @Test
    void readsTheCommittedFormat3Fixtures() throws IOException {
        ModelState values3 = ModelState.decode(read(V3_VALUES));
        assertEquals(valuesFixture(), values3);
        assertEquals(values3, ModelState.decode(values3.encode()));
        ModelState decoded = ModelState.decode(read(V3_ITEMS));
        assertEquals(itemsFixture(ItemOutput.UNTIED, true, 0), decoded);
        assertEquals(ItemOutput.UNTIED, decoded.config().itemOutput());
        assertEquals(0, decoded.config().itemSuccessors());
        assertEquals(0, decoded.config().successorSlots());
        assertEquals(-1, ParameterLayout.of(decoded.config()).find("item_successor_rows"));
        assertEquals(List.of("b", "long-id-7", "a"), decoded.vocabulary().idsByRecency());
        assertEquals(2, decoded.vocabulary().count(decoded.vocabulary().rowOf("a")));
        assertEquals(1, decoded.vocabulary().count(decoded.vocabulary().rowOf("b")));
        assertEquals(decoded, ModelState.decode(decoded.encode()));
        assertEquals(ModelState.FORMAT_VERSION, decoded.encode()[0]);
    }

    /**
     * Format 2 stays readable: a NEXT_ITEM state comes back with its TIED head (the only one format
     * 2 knew) and target counts of 0, and a NEXT_VALUE state as it was; both re-encode as format 3
     * and decode to the same state.
     */
    @Test
    void readsTheCommittedFormat2Fixtures() throws IOException {
        ModelState values2 = ModelState.decode(read(V2_VALUES));
        assertEquals(valuesFixture(), values2);
        assertEquals(values2, ModelState.decode(values2.encode()));
        ModelState decoded = ModelState.decode(read(V2_ITEMS));
        assertEquals(itemsFixture(ItemOutput.TIED, false, 0), decoded);
        assertEquals(ItemOutput.TIED, decoded.config().itemOutput());
        assertEquals(List.of("b", "long-id-7", "a"), decoded.vocabulary().idsByRecency());
        assertEquals(1, decoded.vocabulary().rowOf("a"));
        assertEquals(3, decoded.vocabulary().rowOf("long-id-7"));
        assertEquals(0, decoded.vocabulary().count(1));
        assertEquals(decoded, ModelState.decode(decoded.encode()));
        assertEquals(ModelState.FORMAT_VERSION, decoded.encode()[0]);
    }

    /** A format-2 item model resumes learning with its tied head and serves. */
    @Test
    void aFormat2ItemModelResumesLearningAndServes() throws IOException {
        ModelState v2 = ModelState.decode(read(V2_ITEMS));
        try (OnlineLearner learner = OnlineLearner.restore(v2)) {
            float loss =
                    learner.train(
                            Batch.items(
                                    new String[][] {{"a", "b"}, {"b", "long-id-7"}},
                                    new String[] {"long-id-7", "a"}));
            assertTrue(Float.isFinite(loss), "loss " + loss);
            ModelState next = learner.snapshot();
            assertEquals(ItemOutput.TIED, next.config().itemOutput());
            assertEquals(v2.step() + 1, next.step());
            try (Recommender r = Recommender.create(next)) {
                List<ScoredItem> top = r.recommend(new String[][] {{"a", "b"}}, 1, null).items(0);
                assertEquals(1, top.size());
                assertTrue(List.of("a", "b", "long-id-7").contains(top.get(0).itemId()));
            }
        }
    }

    @Test
    void refusesFormat1SayingWhatItIsAndWhatToDo() throws IOException {
        byte[] v1 = read(V1);
        assertEquals(1, v1[0]);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> ModelState.decode(v1));
        assertTrue(e.getMessage().contains("format 1"), e.getMessage());
        assertTrue(e.getMessage().contains("LSTM point forecaster"), e.getMessage());
        assertTrue(e.getMessage().contains("start the job without that state"), e.getMessage());
    }

    @Test
    void unknownFormatVersionIsNamed() {
        byte[] bytes = values.encode();
        bytes[0] = 99;
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> ModelState.decode(bytes));
        assertTrue(e.getMessage().contains("version 99"), e.getMessage());
        assertTrue(e.getMessage().contains("format versions 2 to 4"), e.getMessage());
    }

    @Test
    void truncatedInputFailsClearly() {
        for (ModelState state : List.of(values, items)) {
            byte[] bytes = state.encode();
            for (int length : new int[] {1, 20, 95, bytes.length / 2, bytes.length - 1}) {
                byte[] cut = Arrays.copyOf(bytes, length);
                IllegalArgumentException e =
                        assertThrows(IllegalArgumentException.class, () -> ModelState.decode(cut));
                assertTrue(
                        e.getMessage().contains("truncated") || e.getMessage().contains("corrupt"),
                        length + ": " + e.getMessage());
            }
        }
        IllegalArgumentException empty =
                assertThrows(IllegalArgumentException.class, () -> ModelState.decode(new byte[0]));
        assertTrue(empty.getMessage().contains("empty"), empty.getMessage());
    }

    @Test
    void corruptInputFailsTheChecksum() {
        byte[] bytes = items.encode();
        bytes[bytes.length / 2] ^= 0x10;
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> ModelState.decode(bytes));
        assertTrue(e.getMessage().contains("corrupt"), e.getMessage());

        byte[] longer = Arrays.copyOf(values.encode(), values.encode().length + 3);
        e = assertThrows(IllegalArgumentException.class, () -> ModelState.decode(longer));
        assertTrue(e.getMessage().contains("after the checksum"), e.getMessage());
    }

    @Test
    void accessorsReturnCopies() {
        float[][] weights = values.weights();
        float before = weights[0][0];
        weights[0][0] = before + 1;
        assertEquals(before, values.weights()[0][0]);
        items.vocabulary().plan(List.of("intruder")).commit();
        assertEquals(0, items.vocabulary().rowOf("intruder"));
    }

    @Test
    void weightsFiniteFindsANanOrAnInfinityInAnyTensor() {
        assertTrue(values.weightsFinite());
        float[][] weights = values.weights();
        int last = weights.length - 1;
        weights[last][weights[last].length - 1] = Float.NaN;
        assertFalse(
                new ModelState(values.config(), 1, 1, weights, new float[0][][], null)
                        .weightsFinite());
        weights[last][weights[last].length - 1] = Float.NEGATIVE_INFINITY;
        assertFalse(
                new ModelState(values.config(), 1, 1, weights, new float[0][][], null)
                        .weightsFinite());
    }

    @Test
    void equalityIsOnEveryField() {
        assertNotEquals(values, values.withVersion(values.version() + 1));
        ModelConfig config = values.config();
        assertNotEquals(
                values,
                OnlineLearnerTest.trainAll(config, OnlineLearnerTest.batches(config, 11L, 4)));
    }

    @Test
    void arraysMustMatchTheConfig() {
        float[][] weights = values.weights();
        weights[1] = new float[3];
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                new ModelState(
                                        values.config(),
                                        0,
                                        0,
                                        weights,
                                        ModelState.deepCopy(values.slotsView()),
                                        null));
        assertTrue(e.getMessage().contains("weights[1]"), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                new ModelState(
                                        items.config(),
                                        0,
                                        0,
                                        items.weights(),
                                        ModelState.deepCopy(items.slotsView()),
                                        null));
        assertTrue(e.getMessage().contains("vocabulary"), e.getMessage());
    }

    @Test
    void defaultSizes() {
        ModelConfig config = ModelConfig.builder().build();
        ParameterLayout layout = ParameterLayout.of(config);
        // LSTM (4 * 32 * (1 + 32) + 2 * 4 * 32) + mean and log-variance heads (2 * (32 + 1)).
        assertEquals(4546, layout.parameterCount());
        ModelState state =
                new ModelState(
                        config,
                        0,
                        0,
                        layout.zeros(),
                        new float[][][] {layout.zeros(), layout.zeros()},
                        null);
        assertEquals(54_768, state.encode().length);
    }

    /** A tiny NEXT_VALUE state with SGD: values that show any reordering. */
    static ModelState valuesFixture() {
        ModelConfig config =
                ModelConfig.builder()
                        .setFamily(Family.GRU)
                        .setWindow(3)
                        .optFeatures(2)
                        .optHiddenSize(2)
                        .optOptimizer(Optimizer.SGD_MOMENTUM)
                        .optMomentum(0.8f)
                        .optLearningRate(0.01f)
                        .optWeightDecay(0.001f)
                        .optWarmupSteps(10)
                        .optDropout(0.25f)
                        .optSeed(5L)
                        .build();
        ParameterLayout layout = ParameterLayout.of(config);
        return new ModelState(
                config, 7, 3, pattern(layout, 1), new float[][][] {slotPattern(layout, 2)}, null);
    }

    /**
     * A tiny NEXT_ITEM state with Adam and a vocabulary; with counts, "a" was a target twice and
     * "b" once (format 3); without, the vocabulary of the format-2 fixture. With successor slots
     * (format 4, UNTIED), their rows hold rows of the vocabulary and their rate is 1.5.
     */
    static ModelState itemsFixture(ItemOutput output, boolean counts, int successors) {
        ModelConfig config =
                ModelConfig.builder()
                        .setTask(Task.NEXT_ITEM)
                        .setFamily(Family.ATTENTION)
                        .setWindow(2)
                        .optHiddenSize(2)
                        .optHeads(1)
                        .optItemCapacity(5)
                        .optSoftmax(Softmax.SAMPLED)
                        .optNegatives(3)
                        .optItemOutput(output)
                        .optItemSuccessors(successors)
                        .optSuccessorLearningRate(successors > 0 ? 1.5f : 2.0f)
                        .optSeed(6L)
                        .build();
        ParameterLayout layout = ParameterLayout.of(config);
        float[][] weights = pattern(layout, 1);
        int candidates = layout.find(ParameterLayout.ITEM_SUCCESSOR_ROWS);
        if (candidates >= 0) {
            for (int j = 0; j < weights[candidates].length; j++) {
                weights[candidates][j] = (j * 3) % 5;
            }
        }
        ItemVocabulary vocabulary = new ItemVocabulary(5);
        vocabulary
                .plan(List.of("a", "b", "long-id-7", "a"), counts ? List.of("a") : List.of())
                .commit();
        vocabulary.plan(List.of("b"), counts ? List.of("b") : List.of()).commit();
        vocabulary.plan(List.of("long-id-7", "a"), counts ? List.of("a") : List.of()).commit();
        return new ModelState(
                config,
                11,
                4,
                weights,
                new float[][][] {slotPattern(layout, 2), slotPattern(layout, 3)},
                vocabulary);
    }

    private static float[][] pattern(ParameterLayout layout, int k) {
        return fill(layout.zeros(), k);
    }

    /** As {@link #pattern}, shaped as optimizer arrays (empty for the successor slots). */
    private static float[][] slotPattern(ParameterLayout layout, int k) {
        return fill(layout.slotZeros(), k);
    }

    private static float[][] fill(float[][] a, int k) {
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                a[i][j] = k * (i + 1) * 0.125f - j * 0.25f / k;
            }
        }
        return a;
    }

    private static byte[] read(String resource) throws IOException {
        if (Boolean.getBoolean("fixtures.write")
                && (resource.equals(V4_VALUES) || resource.equals(V4_ITEMS))) {
            ModelState state =
                    resource.equals(V4_VALUES)
                            ? valuesFixture()
                            : itemsFixture(ItemOutput.UNTIED, true, 3);
            Path file = Path.of("src/test/resources" + resource);
            if (!Files.exists(file)) {
                Files.write(file, state.encode());
            }
        }
        try (InputStream in = ModelStateTest.class.getResourceAsStream(resource)) {
            assertNotNull(in, resource + " (write it once with -Dfixtures.write=true)");
            return in.readAllBytes();
        }
    }

    private static boolean hasNonZero(float[][] arrays) {
        for (float[] a : arrays) {
            for (float v : a) {
                if (v != 0f) {
                    return true;
                }
            }
        }
        return false;
    }

    private static int[] raw(float[] values) {
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }
}
