package io.streamlearn.models;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import io.streamlearn.models.ModelConfig.Task;

/**
 * Reconstructs normalised windows with a fixed RECONSTRUCTION {@link ModelState} (the LSTM
 * autoencoder): inference only. The reconstruction error of a window's newest step is an anomaly
 * score of the newest value: a model trained on ordinary windows reconstructs ordinary shapes well
 * and unusual values badly.
 *
 * <p>Threading as {@link Forecaster}.
 */
public final class Reconstructor implements AutoCloseable {

    private final LoadedModel model;

    private Reconstructor(ModelState state, Device device) {
        this.model = new LoadedModel(state, device, Task.RECONSTRUCTION, "Reconstructor");
    }

    /**
     * Creates a CPU reconstructor.
     *
     * @param state a RECONSTRUCTION model state
     * @return the reconstructor; close it to release its native memory
     */
    public static Reconstructor create(ModelState state) {
        return new Reconstructor(state, Device.cpu());
    }

    /**
     * Creates a reconstructor on a device.
     *
     * @param state a RECONSTRUCTION model state
     * @param device where the network runs
     * @return the reconstructor; close it to release its native memory
     */
    public static Reconstructor create(ModelState state, Device device) {
        return new Reconstructor(state, device);
    }

    /** Returns the version of the model state this reconstructor was built from. */
    public long version() {
        return model.version;
    }

    /** Returns the config of the model. */
    public ModelConfig config() {
        return model.config;
    }

    /**
     * Reconstructs windows.
     *
     * @param windows normalised windows, {@code window * features} values each, oldest first
     * @return the reconstructions, shaped like the windows
     * @throws IllegalArgumentException naming the first row of the wrong length
     */
    public float[][] reconstruct(float[][] windows) {
        int n = model.config.window() * model.config.features();
        float[] flat = run(windows);
        float[][] out = new float[windows.length][n];
        for (int r = 0; r < windows.length; r++) {
            System.arraycopy(flat, r * n, out[r], 0, n);
        }
        return out;
    }

    /**
     * Returns each window's reconstruction error at its newest step: the squared error averaged
     * over features, in normalised units.
     *
     * @param windows normalised windows, {@code window * features} values each, oldest first
     * @return one error per row; NaN for a row holding a non-finite value
     */
    public float[] errors(float[][] windows) {
        int w = model.config.window();
        int f = model.config.features();
        float[] flat = run(windows);
        float[] errors = new float[windows.length];
        for (int r = 0; r < windows.length; r++) {
            double sum = 0;
            for (int j = 0; j < f; j++) {
                int i = (w - 1) * f + j;
                double e = windows[r][i] - flat[r * w * f + i];
                sum += e * e;
            }
            errors[r] = (float) (sum / f);
        }
        return errors;
    }

    private float[] run(float[][] windows) {
        ModelConfig c = model.config;
        int n = c.window() * c.features();
        Batch.checkLengths("windows", windows, n);
        if (windows.length == 0) {
            return new float[0];
        }
        int rows = RowBlocks.padded(windows.length);
        float[] flat = new float[rows * n];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(windows[r < windows.length ? r : 0], 0, flat, r * n, n);
        }
        // The filler rows of RowBlocks follow the windows' rows; callers read only theirs.
        return model.run(
                scope -> {
                    NDArray x = scope.create(flat, new Shape(rows, c.window(), c.features()));
                    return model.network.reconstruct(model.params(), x, false).toFloatArray();
                });
    }

    /** The number of native arrays this instance holds now; for tests that watch for leaks. */
    int managedArrayCount() {
        return model.managedArrayCount();
    }

    /** Releases the native memory; later calls fail. Idempotent. */
    @Override
    public void close() {
        model.close();
    }
}
