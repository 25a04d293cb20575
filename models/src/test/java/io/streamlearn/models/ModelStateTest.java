package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ModelStateTest {

    private static final String FIXTURE = "/fixtures/model-state-v1.bin";

    private static ModelState trained;

    @BeforeAll
    static void train() {
        ForecasterConfig config =
                ForecasterConfig.builder().setWindow(12).optHiddenSize(8).optLayers(2).build();
        trained =
                OnlineLearnerTest.trainAll(config, new SineSeries(11L, 4, 120).batches(5, 16, 12));
        assertEquals(5, trained.step());
    }

    @Test
    void roundTripIsBitExact() {
        assertTrue(hasNonZero(trained.adamMean()), "moments should be non-zero after training");
        assertTrue(hasNonZero(trained.adamVariance()));
        ModelState state = trained.withVersion(17);

        byte[] bytes = state.encode();
        assertEquals(ModelState.FORMAT_VERSION, bytes[0]);
        ModelState decoded = ModelState.decode(bytes);

        assertEquals(state, decoded);
        assertEquals(state.hashCode(), decoded.hashCode());
        assertEquals(17, decoded.version());
        assertEquals(5, decoded.step());
        assertEquals(state.config(), decoded.config());
        for (int i = 0; i < state.weights().length; i++) {
            assertArrayEquals(raw(state.weights()[i]), raw(decoded.weights()[i]));
            assertArrayEquals(raw(state.adamMean()[i]), raw(decoded.adamMean()[i]));
            assertArrayEquals(raw(state.adamVariance()[i]), raw(decoded.adamVariance()[i]));
        }
        assertArrayEquals(bytes, decoded.encode());
    }

    @Test
    void unknownFormatVersionIsNamed() {
        byte[] bytes = trained.encode();
        bytes[0] = 99;
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> ModelState.decode(bytes));
        assertTrue(e.getMessage().contains("version 99"), e.getMessage());
        assertTrue(
                e.getMessage().contains("format version " + ModelState.FORMAT_VERSION),
                e.getMessage());
    }

    @Test
    void truncatedInputFailsClearly() {
        byte[] bytes = trained.encode();
        for (int length : new int[] {1, 20, bytes.length / 2, bytes.length - 1}) {
            byte[] cut = Arrays.copyOf(bytes, length);
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> ModelState.decode(cut));
            assertTrue(e.getMessage().contains("truncated"), length + ": " + e.getMessage());
        }
        IllegalArgumentException empty =
                assertThrows(IllegalArgumentException.class, () -> ModelState.decode(new byte[0]));
        assertTrue(empty.getMessage().contains("empty"), empty.getMessage());
    }

    @Test
    void corruptInputFailsTheChecksum() {
        byte[] bytes = trained.encode();
        bytes[bytes.length / 2] ^= 0x10;
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> ModelState.decode(bytes));
        assertTrue(e.getMessage().contains("corrupt"), e.getMessage());

        byte[] longer = Arrays.copyOf(trained.encode(), bytes.length + 3);
        e = assertThrows(IllegalArgumentException.class, () -> ModelState.decode(longer));
        assertTrue(e.getMessage().contains("after the checksum"), e.getMessage());
    }

    @Test
    void accessorsReturnCopies() {
        float[][] weights = trained.weights();
        float before = weights[0][0];
        weights[0][0] = before + 1;
        assertEquals(before, trained.weights()[0][0]);
    }

    @Test
    void equalityIsOnEveryField() {
        assertNotEquals(trained, trained.withVersion(trained.version() + 1));
        ModelState other =
                OnlineLearnerTest.trainAll(
                        trained.config(), new SineSeries(11L, 4, 120).batches(4, 16, 12));
        assertNotEquals(trained, other);
    }

    @Test
    void arraysMustMatchTheConfig() {
        float[][] weights = trained.weights();
        weights[1] = new float[3];
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                new ModelState(
                                        trained.config(),
                                        0,
                                        0,
                                        weights,
                                        trained.adamMean(),
                                        trained.adamVariance()));
        assertTrue(e.getMessage().contains("weights[1]"), e.getMessage());
    }

    @Test
    void readsTheCommittedVersion1Fixture() throws IOException {
        byte[] fixture;
        try (InputStream in = ModelStateTest.class.getResourceAsStream(FIXTURE)) {
            assertNotNull(in, FIXTURE);
            fixture = in.readAllBytes();
        }
        assertEquals(fixtureState(), ModelState.decode(fixture));
        assertArrayEquals(fixture, fixtureState().encode());
    }

    @Test
    void defaultSizes() {
        ForecasterConfig config = ForecasterConfig.builder().build();
        float[][] zeros = ParameterLayout.zeros(config);
        int weights = 0;
        for (float[] a : zeros) {
            weights += a.length;
        }
        assertEquals(4513, weights);
        ModelState state =
                new ModelState(
                        config,
                        0,
                        0,
                        zeros,
                        ParameterLayout.zeros(config),
                        ParameterLayout.zeros(config));
        assertEquals(54305, state.encode().length);
    }

    /** The state in {@value #FIXTURE}: a tiny model with values that show any reordering. */
    static ModelState fixtureState() {
        ForecasterConfig config =
                ForecasterConfig.builder()
                        .setWindow(3)
                        .optHiddenSize(2)
                        .optLearningRate(0.01f)
                        .optSeed(5L)
                        .build();
        float[][] w = ParameterLayout.zeros(config);
        float[][] m = ParameterLayout.zeros(config);
        float[][] v = ParameterLayout.zeros(config);
        for (int i = 0; i < w.length; i++) {
            for (int j = 0; j < w[i].length; j++) {
                w[i][j] = i + j * 0.25f;
                m[i][j] = -(i + 1) * 0.125f + j;
                v[i][j] = (i + 1) * (j + 1) * 1e-3f;
            }
        }
        return new ModelState(config, 7, 3, w, m, v);
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
