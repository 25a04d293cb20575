package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.streamlearn.models.ModelConfig.Optimizer;
import java.util.Arrays;
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

    @Test
    void runsOfConsecutiveRowsUpdateAsEachRowAlone() {
        ParameterLayout.Tensor table =
                new ParameterLayout.Tensor("t", ParameterLayout.Init.ZERO, 0, true, 10, 3);
        ModelConfig config = ModelConfig.builder().optWeightDecay(0.01f).build();
        int[] rows = {0, 1, 2, 5, 6, 9};
        float[] g = new float[rows.length * 3];
        float[] together = new float[30];
        float[] alone = new float[30];
        for (int i = 0; i < 30; i++) {
            together[i] = alone[i] = (float) Math.sin(i);
        }
        for (int i = 0; i < g.length; i++) {
            g[i] = (float) Math.cos(i);
        }
        float[][] togetherSlots = {new float[30], new float[30]};
        float[][] aloneSlots = {new float[30], new float[30]};
        for (long t = 1; t <= 3; t++) {
            OptimizerStep step = new OptimizerStep(config, t);
            step.apply(table, together, togetherSlots, g, rows, 0.7);
            for (int k = 0; k < rows.length; k++) {
                float[] one = Arrays.copyOfRange(g, k * 3, k * 3 + 3);
                step.apply(table, alone, aloneSlots, one, new int[] {rows[k]}, 0.7);
            }
        }
        assertArrayEquals(alone, together);
        assertArrayEquals(aloneSlots[0], togetherSlots[0]);
        assertArrayEquals(aloneSlots[1], togetherSlots[1]);
        assertEquals(3, OptimizerStep.runLength(rows, 0));
        assertEquals(2, OptimizerStep.runLength(rows, 3));
        assertEquals(1, OptimizerStep.runLength(rows, 5));
    }
}
