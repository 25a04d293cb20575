package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.streamlearn.models.ModelConfig.Family;
import io.streamlearn.models.ModelConfig.Task;
import org.junit.jupiter.api.Test;

class ReconstructorTest {

    @Test
    void errorsAreTheNewestStepsSquaredError() {
        ModelConfig config =
                ModelConfig.builder()
                        .setTask(Task.RECONSTRUCTION)
                        .setFamily(Family.LSTM_AUTOENCODER)
                        .setWindow(6)
                        .optFeatures(2)
                        .optHiddenSize(8)
                        .build();
        float[][] windows = new float[3][12];
        for (int r = 0; r < 3; r++) {
            for (int i = 0; i < 12; i++) {
                windows[r][i] = (float) Math.sin(r + i * 0.7);
            }
        }
        try (OnlineLearner learner = new OnlineLearner(config)) {
            learner.train(Batch.windows(windows));
            try (Reconstructor reconstructor = Reconstructor.create(learner.snapshot())) {
                float[][] back = reconstructor.reconstruct(windows);
                float[] errors = reconstructor.errors(windows);
                for (int r = 0; r < 3; r++) {
                    assertEquals(12, back[r].length);
                    double e0 = windows[r][10] - back[r][10];
                    double e1 = windows[r][11] - back[r][11];
                    assertEquals((e0 * e0 + e1 * e1) / 2, errors[r], 1e-6);
                }
                assertThrows(
                        IllegalArgumentException.class,
                        () -> reconstructor.errors(new float[][] {new float[11]}));
            }
        }
    }
}
