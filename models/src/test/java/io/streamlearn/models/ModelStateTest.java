package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.models.ModelConfig.Family;
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

    @Test
    void readsTheCommittedFormat2Fixtures() throws IOException {
        assertEquals(valuesFixture(), ModelState.decode(read(V2_VALUES)));
        assertArrayEquals(read(V2_VALUES), valuesFixture().encode());
        ModelState decoded = ModelState.decode(read(V2_ITEMS));
        assertEquals(itemsFixture(), decoded);
        assertEquals(List.of("b", "long-id-7", "a"), decoded.vocabulary().idsByRecency());
        assertEquals(1, decoded.vocabulary().rowOf("a"));
        assertEquals(3, decoded.vocabulary().rowOf("long-id-7"));
        assertArrayEquals(read(V2_ITEMS), itemsFixture().encode());
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
        assertTrue(e.getMessage().contains("format version 2"), e.getMessage());
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
        assertEquals(54_759, state.encode().length);
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
                config, 7, 3, pattern(layout, 1), new float[][][] {pattern(layout, 2)}, null);
    }

    /** A tiny NEXT_ITEM state with Adam and a vocabulary. */
    static ModelState itemsFixture() {
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
                        .optSeed(6L)
                        .build();
        ParameterLayout layout = ParameterLayout.of(config);
        ItemVocabulary vocabulary = new ItemVocabulary(5);
        vocabulary.plan(List.of("a", "b", "long-id-7", "a")).commit();
        vocabulary.plan(List.of("b")).commit();
        vocabulary.plan(List.of("long-id-7", "a")).commit();
        return new ModelState(
                config,
                11,
                4,
                pattern(layout, 1),
                new float[][][] {pattern(layout, 2), pattern(layout, 3)},
                vocabulary);
    }

    private static float[][] pattern(ParameterLayout layout, int k) {
        float[][] a = layout.zeros();
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                a[i][j] = k * (i + 1) * 0.125f - j * 0.25f / k;
            }
        }
        return a;
    }

    private static byte[] read(String resource) throws IOException {
        if (Boolean.getBoolean("fixtures.write") && !resource.equals(V1)) {
            ModelState state = resource.equals(V2_VALUES) ? valuesFixture() : itemsFixture();
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
