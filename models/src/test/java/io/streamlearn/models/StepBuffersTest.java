package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.streamlearn.models.ModelConfig.Task;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class StepBuffersTest {

    private static final ParameterLayout LAYOUT =
            ParameterLayout.of(
                    ModelConfig.builder()
                            .setTask(Task.NEXT_ITEM)
                            .setWindow(3)
                            .optHiddenSize(4)
                            .optItemCapacity(10)
                            .build());

    @Test
    void aReusedBufferHoldsEachStepsValuesAndShapeOnly() {
        int table = LAYOUT.find(ParameterLayout.ITEM_EMBEDDING);
        StepBuffers buffers = new StepBuffers(LAYOUT);
        try (NDManager base = TorchRuntime.newBaseManager(Device.cpu())) {
            float[] many = new float[8 * 4];
            Arrays.fill(many, 7f);
            try (NDManager step = base.newSubManager()) {
                buffers.stage(table, many.length).put(many);
                NDArray array = buffers.upload(step, table, new Shape(8, 4));
                assertArrayEquals(many, array.toFloatArray());
            }
            float[] few = new float[3 * 4];
            for (int i = 0; i < few.length; i++) {
                few[i] = i;
            }
            try (NDManager step = base.newSubManager()) {
                buffers.stage(table, few.length).put(few);
                NDArray array = buffers.upload(step, table, new Shape(3, 4));
                assertEquals(new Shape(3, 4), array.getShape());
                assertArrayEquals(few, array.toFloatArray(), "no values of the larger step");
            }
        }
    }

    @Test
    void gradientsAreCopiedIntoTheSameArrayWhileTheyFit() {
        int table = LAYOUT.find(ParameterLayout.ITEM_EMBEDDING);
        StepBuffers buffers = new StepBuffers(LAYOUT);
        try (NDManager scope = TorchRuntime.newBaseManager(Device.cpu())) {
            float[] first =
                    buffers.download(table, scope.create(new float[] {1, 2, 3, 4, 5, 6, 7, 8}));
            assertEquals(8, buffers.gradientLength(table));
            float[] second = buffers.download(table, scope.create(new float[] {9, 10, 11, 12}));
            assertSame(first, second);
            assertEquals(4, buffers.gradientLength(table));
            assertArrayEquals(new float[] {9, 10, 11, 12}, Arrays.copyOf(second, 4));
        }
    }
}
