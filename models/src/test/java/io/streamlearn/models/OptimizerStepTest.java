package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.streamlearn.models.ModelConfig.Optimizer;
import org.junit.jupiter.api.Test;

class OptimizerStepTest {

    private static final ParameterLayout.Tensor MATRIX =
            new ParameterLayout.Tensor("w", ParameterLayout.Init.ZERO, 0, true, 2, 2);
    private static final ParameterLayout.Tensor BIAS =
            new ParameterLayout.Tensor("b", ParameterLayout.Init.ZERO, 0, false, 2);

    @Test
    void warmUpRampsTheLearningRateLinearly() {
        ModelConfig config = ModelConfig.builder().optLearningRate(0.1f).optWarmupSteps(4).build();
        assertEquals(0.025, OptimizerStep.learningRate(config, 1), 1e-7);
        assertEquals(0.075, OptimizerStep.learningRate(config, 3), 1e-7);
        assertEquals(0.1, OptimizerStep.learningRate(config, 4), 1e-7);
        assertEquals(0.1, OptimizerStep.learningRate(config, 1000), 1e-7);
    }

    @Test
    void adamTakesAStepOfTheLearningRateAndDecaysOnlyMatrices() {
        ModelConfig config =
                ModelConfig.builder()
                        .optLearningRate(0.1f)
                        .optWeightDecay(0.5f)
                        .optEpsilon(1e-8f)
                        .build();
        OptimizerStep step = new OptimizerStep(config, 1);
        float[] w = {1f, 1f, 1f, 1f};
        float[][] slots = {new float[4], new float[4]};
        step.apply(MATRIX, w, slots, new float[] {2f, -2f, 0f, 0f}, null, 1.0);
        // Bias-corrected Adam's first step is lr * sign(g); decay adds lr * wd * w.
        assertEquals(1f - 0.1f - 0.05f, w[0], 1e-6f);
        assertEquals(1f + 0.1f - 0.05f, w[1], 1e-6f);
        assertEquals(1f - 0.05f, w[2], 1e-6f);
        float[] b = {1f, 1f};
        step.apply(BIAS, b, new float[][] {new float[2], new float[2]}, new float[2], null, 1.0);
        assertEquals(1f, b[0], 0f, "no decay on biases");
    }

    @Test
    void sgdWithMomentumAccumulatesVelocity() {
        ModelConfig config =
                ModelConfig.builder()
                        .optOptimizer(Optimizer.SGD_MOMENTUM)
                        .optLearningRate(0.1f)
                        .optMomentum(0.5f)
                        .build();
        float[] w = {0f, 0f};
        float[][] slots = {new float[2]};
        new OptimizerStep(config, 1).apply(BIAS, w, slots, new float[] {1f, 0f}, null, 1.0);
        assertEquals(-0.1f, w[0], 1e-7f);
        new OptimizerStep(config, 2).apply(BIAS, w, slots, new float[] {1f, 0f}, null, 1.0);
        assertEquals(-0.1f - 0.1f * 1.5f, w[0], 1e-7f);
        assertEquals(0f, w[1], 0f);
    }

    @Test
    void rowSparseUpdatesTouchOnlyTheGivenRows() {
        ModelConfig config = ModelConfig.builder().optLearningRate(0.1f).build();
        float[] w = {1f, 1f, 1f, 1f};
        float[][] slots = {new float[4], new float[4]};
        new OptimizerStep(config, 1)
                .apply(MATRIX, w, slots, new float[] {1f, 1f}, new int[] {1}, 0.5);
        assertEquals(1f, w[0], 0f);
        assertEquals(1f, w[1], 0f);
        assertEquals(0.9f, w[2], 1e-6f);
        assertEquals(0.9f, w[3], 1e-6f);
        assertEquals(0.05f, slots[0][2], 1e-7f, "the first moment saw the clipped gradient");
    }
}
