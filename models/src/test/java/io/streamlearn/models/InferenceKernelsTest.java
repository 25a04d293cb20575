package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.streamlearn.models.ModelConfig.Family;
import io.streamlearn.models.ModelConfig.Task;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Inference computes what training computes, whichever kernels the CPU gets: the forecasts and
 * reconstructions of LSTM networks equal those of the kernel training runs (grad mode on). The
 * hidden sizes include 8, 16 and 48, for which PyTorch's grad-mode-off LSTM kernel returned wrong
 * outputs on an AVX-512 CPU ({@link InferenceKernels}).
 *
 * <p>The tolerance is rounding: where the CPU's inference kernel is right, it still sums in another
 * order than the training kernel (measured differences about 1e-7 on values of order 1).
 */
class InferenceKernelsTest {

    private static final int WINDOW = 12;
    private static final float ROUNDING = 1e-5f;

    @ParameterizedTest(name = "hidden {0}")
    @ValueSource(ints = {8, 16, 32, 48})
    void forecasterMatchesTheTrainingKernel(int hidden) {
        ModelConfig config = config(Task.NEXT_VALUE, Family.LSTM, hidden);
        SineSeries series = new SineSeries(hidden, 4, 200);
        try (OnlineLearner learner = new OnlineLearner(config)) {
            // Steps move the mean head off zero, so that the forecast depends on the LSTM.
            for (int i = 0; i < 5; i++) {
                learner.train(series.next(16, WINDOW).batch());
            }
            ModelState state = learner.snapshot();
            float[][] windows = series.next(32, WINDOW).windows;
            float[] expected = trainingKernel(state, windows, false);
            try (Forecaster forecaster = Forecaster.create(state)) {
                Forecasts forecasts = forecaster.forecast(windows);
                for (int r = 0; r < windows.length; r++) {
                    assertEquals(expected[r], forecasts.mean(r)[0], ROUNDING, "row " + r);
                }
            }
        }
    }

    @ParameterizedTest(name = "hidden {0}")
    @ValueSource(ints = {8, 16, 32, 48})
    void reconstructorMatchesTheTrainingKernel(int hidden) {
        ModelConfig config = config(Task.RECONSTRUCTION, Family.LSTM_AUTOENCODER, hidden);
        SineSeries series = new SineSeries(hidden, 4, 200);
        try (OnlineLearner learner = new OnlineLearner(config)) {
            learner.train(series.next(16, WINDOW).reconstruction());
            ModelState state = learner.snapshot();
            float[][] windows = series.next(32, WINDOW).windows;
            float[] expected = trainingKernel(state, windows, true);
            try (Reconstructor reconstructor = Reconstructor.create(state)) {
                float[][] back = reconstructor.reconstruct(windows);
                for (int r = 0; r < windows.length; r++) {
                    for (int t = 0; t < WINDOW; t++) {
                        assertEquals(
                                expected[r * WINDOW + t],
                                back[r][t],
                                ROUNDING,
                                "row " + r + ", step " + t);
                    }
                }
            }
        }
    }

    private static ModelConfig config(Task task, Family family, int hidden) {
        return ModelConfig.builder()
                .setTask(task)
                .setFamily(family)
                .setWindow(WINDOW)
                .optHiddenSize(hidden)
                .build();
    }

    /** The network run as training runs it: grad mode on. Forecast means, or reconstructions. */
    private static float[] trainingKernel(
            ModelState state, float[][] windows, boolean reconstruction) {
        Network network = new Network(state.config());
        float[] flat = new float[windows.length * WINDOW];
        for (int r = 0; r < windows.length; r++) {
            System.arraycopy(windows[r], 0, flat, r * WINDOW, WINDOW);
        }
        TorchRuntime.configureCurrentThread();
        try (NDManager manager = TorchRuntime.newBaseManager(Device.cpu());
                TorchRuntime.GradModeScope on = TorchRuntime.gradMode(true)) {
            NDArray[] p = network.createParameters(manager, state.weightsView());
            NDArray x = manager.create(flat, new Shape(windows.length, WINDOW, 1));
            if (reconstruction) {
                return network.reconstruct(p, x, false).toFloatArray();
            }
            NDList gaussian =
                    network.gaussian(p, network.encode(p, x, null, false), Network.lastStep(x));
            return gaussian.get(0).toFloatArray();
        }
    }
}
