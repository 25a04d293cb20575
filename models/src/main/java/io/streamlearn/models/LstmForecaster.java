package io.streamlearn.models;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;

/**
 * Predicts the next value of many series at once with a fixed {@link ModelState}: inference only.
 *
 * <p>Rows are encoded like in training (relative to the window's last value, divided by a robust
 * window scale), run through the LSTM and its head, and de-normalised, so the output is in the
 * series' own units. The weights live as native arrays in this instance's manager; each {@link
 * #predict} call opens and closes its own scope, so memory stays flat.
 *
 * <p>Threading: {@link #predict} may be called from several threads at once. Each call turns
 * PyTorch's grad mode off on its thread for its duration (threads other than the engine's start
 * with it on) and sets the thread's intra-op thread count once, to {@code
 * ai.djl.pytorch.num_threads} or 1. {@link #close()} must not race with {@link #predict}.
 */
public final class LstmForecaster implements AutoCloseable {

    private final ForecasterConfig config;
    private final long version;
    private final NDManager manager;
    private final LstmNetwork network;
    private final List<NDArray> parameters;
    private volatile boolean closed;

    private LstmForecaster(ModelState state, Device device) {
        this.config = state.config();
        this.version = state.version();
        this.manager = TorchRuntime.newBaseManager(device);
        try {
            this.network = new LstmNetwork(config, manager);
            this.parameters = network.createParameters(manager, state.weightsView(), false);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * Creates a forecaster from a state's config and weights (its optimizer moments are unused).
     *
     * @param state the model state
     * @return the forecaster; close it to release its native memory
     */
    public static LstmForecaster create(ModelState state) {
        return create(state, Device.cpu());
    }

    /**
     * Creates a forecaster whose weights and inference live on {@code device}.
     *
     * @param state the model state
     * @param device where the network math runs, e.g. {@code Device.gpu(0)}
     * @return the forecaster; close it to release its native memory
     */
    public static LstmForecaster create(ModelState state, Device device) {
        if (state == null) {
            throw new IllegalArgumentException("state must not be null");
        }
        return new LstmForecaster(state, device);
    }

    /**
     * Returns the version of the model state this forecaster was built from.
     *
     * @return the model version
     */
    public long version() {
        return version;
    }

    /**
     * Returns the config of the model.
     *
     * @return the config
     */
    public ForecasterConfig config() {
        return config;
    }

    /**
     * Predicts the next observation of each series.
     *
     * @param windows windows[i] = last {@code window} observations of one series, oldest first,
     *     flattened to {@code window * features} values
     * @return the predicted next value per row, {@code features} values each; NaN where a window
     *     holds a non-finite value
     * @throws IllegalArgumentException naming the first row of the wrong length
     * @throws IllegalStateException if the forecaster is closed
     */
    public float[][] predict(float[][] windows) {
        if (closed) {
            throw new IllegalStateException("LstmForecaster is closed");
        }
        WindowEncoding encoded = WindowEncoding.encode(config, windows);
        if (encoded.rows() == 0) {
            return new float[0][];
        }
        TorchRuntime.configureCurrentThread();
        try (TorchRuntime.GradModeScope noGrad = TorchRuntime.gradModeOff();
                NDManager scope = manager.newSubManager()) {
            float[] outputs = network.forward(scope, encoded, parameters, false).toFloatArray();
            return encoded.decode(outputs);
        }
    }

    /** The number of native arrays this instance holds now; for tests that watch for leaks. */
    int managedArrayCount() {
        return manager.getManagedArrays().size();
    }

    /** Releases the native memory; later calls to {@link #predict} fail. Idempotent. */
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
