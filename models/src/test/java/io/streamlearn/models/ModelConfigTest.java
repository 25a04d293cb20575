package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.models.ModelConfig.Family;
import io.streamlearn.models.ModelConfig.Softmax;
import io.streamlearn.models.ModelConfig.Task;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class ModelConfigTest {

    @Test
    void defaults() {
        ModelConfig c = ModelConfig.builder().build();
        assertEquals(Task.NEXT_VALUE, c.task());
        assertEquals(Family.LSTM, c.family());
        assertEquals(16, c.window());
        assertEquals(32, c.hiddenSize());
        assertEquals(ModelConfig.Optimizer.ADAM, c.optimizer());
        assertEquals(0.005f, c.learningRate());
        assertEquals(c, c.toBuilder().build());
        assertEquals(c.hashCode(), c.toBuilder().build().hashCode());
    }

    @Test
    void errorsNameTheFieldAndTheValue() {
        assertRejected(b -> b.setWindow(1), "window must be in [2, 4096] but was 1");
        assertRejected(b -> b.optHiddenSize(5000), "hiddenSize must be in [1, 4096] but was 5000");
        assertRejected(b -> b.optLayers(0), "layers must be in [1, 16] but was 0");
        assertRejected(b -> b.optDropout(1f), "dropout must be in [0, 1) but was 1.0");
        assertRejected(b -> b.optLearningRate(0f), "learningRate must be finite and above 0");
        assertRejected(b -> b.optMomentum(-0.1f), "momentum must be in [0, 1) but was -0.1");
        assertRejected(b -> b.optBeta2(1f), "beta2 must be in [0, 1) but was 1.0");
        assertRejected(b -> b.optWeightDecay(-1f), "weightDecay must be finite and at least 0");
        assertRejected(b -> b.optWarmupSteps(-1), "warmupSteps must be at least 0 but was -1");
        assertRejected(b -> b.optGradientClip(0f), "gradientClip must be above 0");
        assertRejected(b -> b.optItemCapacity(1), "itemCapacity must be in [2, 16777216]");
        assertRejected(b -> b.optNegatives(0), "negatives must be in [1, 16777216] but was 0");
        assertRejected(b -> b.setFamily(null), "family must not be null");
        assertRejected(
                b -> b.setFamily(Family.ATTENTION).optHiddenSize(30).optHeads(4),
                "heads must divide hiddenSize (30) for ATTENTION but was 4");
        assertRejected(
                b -> b.setTask(Task.NEXT_ITEM).optFeatures(3),
                "features must be 1 for NEXT_ITEM (one item per step) but was 3");
    }

    @Test
    void refusesTasksAFamilyCannotDo() {
        assertRejected(
                b -> b.setFamily(Family.LSTM_AUTOENCODER),
                "family LSTM_AUTOENCODER cannot do task NEXT_VALUE: LSTM_AUTOENCODER only does"
                        + " RECONSTRUCTION");
        assertRejected(
                b -> b.setTask(Task.RECONSTRUCTION).setFamily(Family.GRU),
                "family GRU cannot do task RECONSTRUCTION: RECONSTRUCTION needs LSTM_AUTOENCODER");
        for (Family f : Family.values()) {
            for (Task t : Task.values()) {
                boolean valid =
                        t == Task.RECONSTRUCTION
                                ? f == Family.LSTM_AUTOENCODER
                                : f != Family.LSTM_AUTOENCODER;
                assertEquals(valid, f.supports(t), f + " " + t);
            }
        }
    }

    @Test
    void autoSoftmaxSamplesBeyondTheThreshold() {
        ModelConfig.Builder b = ModelConfig.builder().setTask(Task.NEXT_ITEM);
        assertFalse(b.optItemCapacity(ModelConfig.FULL_SOFTMAX_MAX_ROWS).build().sampledSoftmax());
        assertTrue(
                b.optItemCapacity(ModelConfig.FULL_SOFTMAX_MAX_ROWS + 1).build().sampledSoftmax());
        assertFalse(b.optSoftmax(Softmax.FULL).build().sampledSoftmax());
        assertTrue(b.optItemCapacity(100).optSoftmax(Softmax.SAMPLED).build().sampledSoftmax());
    }

    @Test
    void parsesFamiliesForConfigurationKeys() {
        assertEquals(Family.GRU, ModelConfig.parseFamily("gru"));
        assertEquals(Family.LSTM_AUTOENCODER, ModelConfig.parseFamily("lstm-autoencoder"));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> ModelConfig.parseFamily("cnn"));
        assertEquals(
                "family must be one of rnn, gru, lstm, attention, lstm_autoencoder, mlp but was"
                        + " 'cnn'",
                e.getMessage());
    }

    @Test
    void javaSerializationRevalidates() throws Exception {
        ModelConfig c = ModelConfig.builder().setFamily(Family.GRU).optLayers(2).build();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(c);
        }
        try (ObjectInputStream in =
                new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            assertEquals(c, in.readObject());
        }
    }

    private static void assertRejected(Consumer<ModelConfig.Builder> change, String message) {
        ModelConfig.Builder b = ModelConfig.builder();
        change.accept(b);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, b::build);
        assertTrue(e.getMessage().startsWith(message), e.getMessage());
    }
}
