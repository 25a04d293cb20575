package io.streamlearn.models;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import io.streamlearn.models.ModelConfig.Task;

/**
 * Forecasts the next normalised values of many series at once with a fixed NEXT_VALUE {@link
 * ModelState}: inference only, any family.
 *
 * <p>Inputs and outputs are in the units of {@link SeriesNormalizer} (the caller normalises per
 * series and turns means back with {@link SeriesNormalizer#denormalize}). {@link #forecast} reads
 * whole windows; for the recurrent families (RNN, GRU, LSTM) it also returns each series' hidden
 * state, and {@link #step} then advances such states by one observation: one recurrent step per
 * event instead of a pass over the window.
 *
 * <p>Threading: calls may run on several threads at once (each turns grad mode off on its thread
 * and sets the thread's intra-op threads once, to {@code ai.djl.pytorch.num_threads} or 1); {@link
 * #close()} must not race with them.
 */
public final class Forecaster implements AutoCloseable {

    private final LoadedModel model;

    private Forecaster(ModelState state, Device device) {
        this.model = new LoadedModel(state, device, Task.NEXT_VALUE, "Forecaster");
    }

    /**
     * Creates a CPU forecaster from a state's config and weights (its optimizer arrays are unused).
     *
     * @param state a NEXT_VALUE model state
     * @return the forecaster; close it to release its native memory
     */
    public static Forecaster create(ModelState state) {
        return new Forecaster(state, Device.cpu());
    }

    /**
     * Creates a forecaster on a device.
     *
     * @param state a NEXT_VALUE model state
     * @param device where the network runs
     * @return the forecaster; close it to release its native memory
     */
    public static Forecaster create(ModelState state, Device device) {
        return new Forecaster(state, device);
    }

    /** Returns the version of the model state this forecaster was built from. */
    public long version() {
        return model.version;
    }

    /** Returns the config of the model. */
    public ModelConfig config() {
        return model.config;
    }

    /** Returns whether {@link #step} is available (RNN, GRU, LSTM). */
    public boolean isIncremental() {
        return model.isRecurrent();
    }

    /**
     * Forecasts the next values of each window; recurrent models also return each row's state after
     * the window (computed from a zero state, with this model's version and 0 steps).
     *
     * @param windows normalised windows, {@code window * features} values each, oldest first
     * @return the forecasts; NaN for a row whose window holds a non-finite value
     * @throws IllegalArgumentException naming the first row of the wrong length
     * @throws IllegalStateException if the forecaster is closed
     */
    public Forecasts forecast(float[][] windows) {
        ModelConfig c = model.config;
        Batch.checkLengths("windows", windows, c.window() * c.features());
        return forecastBlocks(RowBlocks.pad(windows)).head(windows.length);
    }

    private Forecasts forecastBlocks(float[][] windows) {
        ModelConfig c = model.config;
        int rows = windows.length;
        int w = c.window();
        int f = c.features();
        if (rows == 0) {
            return new Forecasts(0, f, new float[0], new float[0], null);
        }
        float[] flat = new float[rows * w * f];
        float[] last = new float[rows * f];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(windows[r], 0, flat, r * w * f, w * f);
            System.arraycopy(windows[r], (w - 1) * f, last, r * f, f);
        }
        return model.run(
                scope -> {
                    NDArray[] p = model.params();
                    NDArray x = scope.create(flat, new Shape(rows, w, f));
                    NDArray summary;
                    RecurrentState[] states = null;
                    if (model.isRecurrent()) {
                        NDList out = model.network.recurrent(p, x, null);
                        summary = Network.lastStep(out.get(0));
                        long[] versions = new long[rows];
                        java.util.Arrays.fill(versions, model.version);
                        states = model.splitStates(out, versions, new int[rows]);
                    } else {
                        summary = model.network.encode(p, x, null, false);
                    }
                    return forecasts(scope.create(last, new Shape(rows, f)), summary, rows, states);
                });
    }

    /**
     * Advances each series' state by one observation and forecasts the next values. The new states
     * keep the model version of the state they came from, and count one more step.
     *
     * @param states one state per series, from {@link #forecast} or an earlier step
     * @param values the newest normalised values of each series, {@code features} each
     * @return the forecasts and the new states
     * @throws UnsupportedOperationException for a family without a recurrent state
     * @throws IllegalArgumentException if the rows do not match or a state does not fit the model
     */
    public Forecasts step(RecurrentState[] states, float[][] values) {
        model.requireRecurrent();
        ModelConfig c = model.config;
        int f = c.features();
        Batch.checkLengths("values", values, f);
        if (states == null || states.length != values.length) {
            throw new IllegalArgumentException(
                    "states must hold one state per row of values (" + values.length + ")");
        }
        return stepBlocks(RowBlocks.pad(states), RowBlocks.pad(values)).head(values.length);
    }

    private Forecasts stepBlocks(RecurrentState[] states, float[][] values) {
        ModelConfig c = model.config;
        int f = c.features();
        int rows = values.length;
        if (rows == 0) {
            return new Forecasts(0, f, new float[0], new float[0], new RecurrentState[0]);
        }
        float[] flat = new float[rows * f];
        long[] versions = new long[rows];
        int[] steps = new int[rows];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(values[r], 0, flat, r * f, f);
            versions[r] = states[r] == null ? 0 : states[r].modelVersion();
            steps[r] = states[r] == null ? 0 : states[r].stepsSinceRecompute() + 1;
        }
        return model.run(
                scope -> {
                    NDArray[] p = model.params();
                    NDArray x = scope.create(flat, new Shape(rows, 1, f));
                    NDList out = model.network.recurrent(p, x, model.stateArrays(scope, states));
                    RecurrentState[] next = model.splitStates(out, versions, steps);
                    NDArray last = scope.create(flat, new Shape(rows, f));
                    return forecasts(last, Network.lastStep(out.get(0)), rows, next);
                });
    }

    private Forecasts forecasts(NDArray last, NDArray summary, int rows, RecurrentState[] states) {
        NDList g = model.network.gaussian(model.params(), summary, last);
        return new Forecasts(
                rows,
                model.config.features(),
                g.get(0).toFloatArray(),
                g.get(1).toFloatArray(),
                states);
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
