package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class ForecasterConfigTest {

    @Test
    void defaults() {
        ForecasterConfig c = ForecasterConfig.builder().build();
        assertEquals(16, c.window());
        assertEquals(1, c.features());
        assertEquals(32, c.hiddenSize());
        assertEquals(1, c.layers());
        assertEquals(0.005f, c.learningRate());
        assertEquals(0.9f, c.beta1());
        assertEquals(0.999f, c.beta2());
        assertEquals(1e-8f, c.epsilon());
        assertEquals(1.0f, c.gradientClip());
        assertEquals(42L, c.seed());
    }

    @Test
    void invalidValuesNameTheFieldAndValue() {
        assertRejected("window", "1", b -> b.setWindow(1));
        assertRejected("features", "0", b -> b.optFeatures(0));
        assertRejected("hiddenSize", "5000", b -> b.optHiddenSize(5000));
        assertRejected("layers", "-1", b -> b.optLayers(-1));
        assertRejected("learningRate", "NaN", b -> b.optLearningRate(Float.NaN));
        assertRejected("beta1", "1.0", b -> b.optBeta1(1f));
        assertRejected("beta2", "-0.5", b -> b.optBeta2(-0.5f));
        assertRejected("epsilon", "0.0", b -> b.optEpsilon(0f));
        assertRejected("gradientClip", "0.0", b -> b.optGradientClip(0f));
        ForecasterConfig.builder().optGradientClip(Float.POSITIVE_INFINITY).build();
    }

    @Test
    void equalityAndSerialization() throws Exception {
        ForecasterConfig c = ForecasterConfig.builder().setWindow(24).optSeed(9L).build();
        assertEquals(c, c.toBuilder().build());
        assertEquals(c.hashCode(), c.toBuilder().build().hashCode());
        assertNotEquals(c, c.toBuilder().optSeed(10L).build());
        assertTrue(c.toString().contains("window=24"), c.toString());

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(c);
        }
        try (ObjectInputStream in =
                new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            assertEquals(c, in.readObject());
        }
    }

    private static void assertRejected(
            String field, String value, UnaryOperator<ForecasterConfig.Builder> change) {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> change.apply(ForecasterConfig.builder()).build());
        assertTrue(e.getMessage().startsWith(field + " "), e.getMessage());
        assertTrue(e.getMessage().endsWith(value), e.getMessage());
    }
}
