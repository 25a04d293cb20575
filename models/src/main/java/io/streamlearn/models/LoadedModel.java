package io.streamlearn.models;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.streamlearn.models.ModelConfig.Family;
import io.streamlearn.models.ModelConfig.Task;
import java.util.function.Function;

/**
 * A {@link ModelState}'s weights as native arrays on a device, for inference: what {@link
 * Forecaster}, {@link Recommender} and {@link Reconstructor} share.
 *
 * <p>The arrays live in this instance's base manager; each call runs in its own sub-manager, closed
 * before it returns, with grad mode off on the calling thread (on where {@link InferenceKernels}
 * finds the grad-mode-off kernel wrong on this CPU) and the thread's intra-op threads set once, so
 * memory stays flat and calls from several threads at once are safe. {@link #close()} must not race
 * with a call.
 */
final class LoadedModel implements AutoCloseable {

    final ModelConfig config;
    final long version;
    final Device device;
    final Network network;
    final ItemVocabulary vocabulary;
    private final NDManager manager;
    private final NDArray[] params;
    private final boolean gradMode;
    private volatile boolean closed;

    LoadedModel(ModelState state, Device device, Task task, String role) {
        this(state, device, task, role, false);
    }

    /**
     * @param rowsInUseOnly whether the item tables hold only the vocabulary's rows in use (all that
     *     a caller that looks up and scores known items needs; the rest were never handed out),
     *     rather than every row of the capacity
     */
    LoadedModel(ModelState state, Device device, Task task, String role, boolean rowsInUseOnly) {
        if (state == null) {
            throw new IllegalArgumentException("state must not be null");
        }
        if (state.config().task() != task) {
            throw new IllegalArgumentException(
                    role + " needs a " + task + " model but got " + state.config().task());
        }
        this.config = state.config();
        this.version = state.version();
        this.device = device;
        this.network = new Network(config);
        this.vocabulary = state.vocabulary();
        this.manager = TorchRuntime.newBaseManager(device);
        try {
            this.params =
                    network.createParameters(
                            manager,
                            state.weightsView(),
                            rowsInUseOnly && vocabulary != null
                                    ? vocabulary.rowsInUse()
                                    : Integer.MAX_VALUE);
            this.gradMode = InferenceKernels.needsGradMode(network, params, manager);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * Runs native work in a fresh scope under {@link #gradMode()}; the scope closes before
     * returning.
     */
    <T> T run(Function<NDManager, T> body) {
        if (closed) {
            throw new IllegalStateException("model version " + version + " is closed");
        }
        TorchRuntime.configureCurrentThread();
        try (TorchRuntime.GradModeScope mode = TorchRuntime.gradMode(gradMode);
                NDManager scope = manager.newSubManager()) {
            return body.apply(scope);
        }
    }

    /**
     * The grad mode inference runs under: off, unless the kernel that selects computes something
     * other than training's on this CPU ({@link InferenceKernels}).
     */
    boolean gradMode() {
        return gradMode;
    }

    /** A sub-manager of this model's manager, on its device, for a caller's own arrays. */
    NDManager newScope() {
        return manager.newSubManager();
    }

    NDArray[] params() {
        return params;
    }

    /** Creates an array in this model's manager (for constants kept across calls). */
    NDArray constant(float[] values, Shape shape) {
        return manager.create(values, shape);
    }

    boolean isRecurrent() {
        return config.family().isRecurrent();
    }

    void requireRecurrent() {
        if (!isRecurrent()) {
            throw new UnsupportedOperationException(
                    config.family()
                            + " has no incremental mode: only RNN, GRU and LSTM carry a state");
        }
    }

    /** Stacks entities' states into the kernels' (layers, B, H) arrays: [h] or [h, c]. */
    NDList stateArrays(NDManager scope, RecurrentState[] states) {
        int layers = config.layers();
        int h = config.hiddenSize();
        boolean lstm = config.family() == Family.LSTM;
        float[] hidden = new float[layers * states.length * h];
        float[] cell = lstm ? new float[hidden.length] : null;
        for (int b = 0; b < states.length; b++) {
            RecurrentState s = states[b];
            if (s == null || s.layers() != layers || s.hiddenSize() != h || s.hasCell() != lstm) {
                throw new IllegalArgumentException(
                        "states["
                                + b
                                + "] "
                                + s
                                + " does not fit a "
                                + config.family()
                                + " of "
                                + layers
                                + " x "
                                + h);
            }
            for (int l = 0; l < layers; l++) {
                System.arraycopy(s.hiddenView(), l * h, hidden, (l * states.length + b) * h, h);
                if (lstm) {
                    System.arraycopy(s.cellView(), l * h, cell, (l * states.length + b) * h, h);
                }
            }
        }
        Shape shape = new Shape(layers, states.length, h);
        NDList list = new NDList(scope.create(hidden, shape));
        if (lstm) {
            list.add(scope.create(cell, shape));
        }
        return list;
    }

    /**
     * Splits the kernels' final state back into one state per entity.
     *
     * @param out the kernel's outputs: [sequence, h, (c)]
     * @param versions the model version each new state records
     * @param steps the steps since recompute each new state records
     */
    RecurrentState[] splitStates(NDList out, long[] versions, int[] steps) {
        int layers = config.layers();
        int h = config.hiddenSize();
        float[] hidden = out.get(1).toFloatArray();
        float[] cell = out.size() > 2 ? out.get(2).toFloatArray() : null;
        int batch = versions.length;
        RecurrentState[] states = new RecurrentState[batch];
        for (int b = 0; b < batch; b++) {
            float[] hb = new float[layers * h];
            float[] cb = cell == null ? null : new float[layers * h];
            for (int l = 0; l < layers; l++) {
                System.arraycopy(hidden, (l * batch + b) * h, hb, l * h, h);
                if (cb != null) {
                    System.arraycopy(cell, (l * batch + b) * h, cb, l * h, h);
                }
            }
            states[b] = new RecurrentState(versions[b], steps[b], layers, h, hb, cb);
        }
        return states;
    }

    int managedArrayCount() {
        return manager.getManagedArrays().size();
    }

    @Override
    public void close() {
        synchronized (this) {
            if (!closed) {
                closed = true;
                manager.close();
            }
        }
    }
}
