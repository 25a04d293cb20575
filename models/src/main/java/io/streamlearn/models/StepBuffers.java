package io.streamlearn.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * The host memory a learner's steps reuse to move parameters to the engine and gradients back, one
 * buffer of each kind per tensor, so that a step allocates none for them.
 *
 * <p>Parameters: {@code NDManager.create(float[])} allocates a new direct buffer on every call
 * (zeroed, faulted in page by page, and freed only when the garbage collector finds it), copies
 * into it, and on the CPU PyTorch uses that buffer as the tensor's memory. Here a step writes its
 * weights (or the gathered rows of an item table) into a direct buffer kept from the last step, and
 * the array is made on it without a further copy. Such an array aliases the buffer: it must be
 * closed before the buffer is written again. The learner guarantees it: each step's arrays live in
 * that step's scope, closed before the step returns, and steps do not overlap (the learner is
 * synchronized).
 *
 * <p>Gradients: {@code NDArray.toFloatArray()} copies the native values into a new byte array and
 * from that into a new float array; here they are copied once, from the native memory into a float
 * array kept from the last step.
 *
 * <p>Buffers grow geometrically with the rows a step touches, up to the tensor's size, so that a
 * growing vocabulary does not allocate on every step and a large catalogue under the sampled
 * softmax does not hold a second copy of its whole table.
 */
final class StepBuffers {

    private final ParameterLayout layout;
    private final ByteBuffer[] uploads;
    private final float[][] gradients;
    private final int[] gradientLengths;

    StepBuffers(ParameterLayout layout) {
        this.layout = layout;
        this.uploads = new ByteBuffer[layout.size()];
        this.gradients = new float[layout.size()][];
        this.gradientLengths = new int[layout.size()];
    }

    /**
     * Returns tensor {@code i}'s upload buffer as floats, positioned at 0, with room for exactly
     * {@code count} values; write them, then {@link #upload} the same count.
     */
    FloatBuffer stage(int i, int count) {
        ByteBuffer buffer = uploads[i];
        if (buffer == null || buffer.capacity() < 4 * count) {
            int floats = grown(i, buffer == null ? 0 : buffer.capacity() / 4, count);
            buffer = ByteBuffer.allocateDirect(4 * floats).order(ByteOrder.nativeOrder());
            uploads[i] = buffer;
        }
        buffer.clear();
        FloatBuffer floats = buffer.asFloatBuffer();
        floats.limit(count);
        return floats;
    }

    /**
     * Makes an array on tensor {@code i}'s upload buffer after {@link #stage}: its first values for
     * the shape, without a copy on the CPU.
     */
    NDArray upload(NDManager scope, int i, Shape shape) {
        int bytes = Math.toIntExact(4 * shape.size());
        ByteBuffer view = uploads[i].clear().limit(bytes).slice().order(ByteOrder.nativeOrder());
        return scope.create(view, shape, DataType.FLOAT32);
    }

    /**
     * Stages all of a tensor's weights and makes its array: {@link #stage} then {@link #upload}.
     */
    NDArray upload(NDManager scope, int i, float[] weights) {
        stage(i, weights.length).put(weights);
        return upload(scope, i, new Shape(layout.get(i).shape()));
    }

    /**
     * Copies an array's values (a gradient) into tensor {@code i}'s gradient array, which keeps
     * them until the next step's copy.
     *
     * @return the array, of which the first {@link #gradientLength(int)} values are the copy
     */
    float[] download(int i, NDArray array) {
        FloatBuffer values = array.toByteBuffer(true).asFloatBuffer();
        int count = values.remaining();
        float[] g = gradients[i];
        if (g == null || g.length < count) {
            g = new float[grown(i, g == null ? 0 : g.length, count)];
            gradients[i] = g;
        }
        values.get(g, 0, count);
        gradientLengths[i] = count;
        return g;
    }

    /** How many values of tensor {@code i}'s gradient array the last {@link #download} wrote. */
    int gradientLength(int i) {
        return gradientLengths[i];
    }

    /** Room for at least {@code needed} values: twice what there was, within the tensor's size. */
    private int grown(int i, int had, int needed) {
        long doubled = Math.max(needed, 2L * had);
        return (int) Math.max(needed, Math.min(doubled, layout.get(i).size()));
    }
}
