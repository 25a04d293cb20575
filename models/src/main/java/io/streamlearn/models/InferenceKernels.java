package io.streamlearn.models;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.streamlearn.models.ModelConfig.Family;
import io.streamlearn.models.ModelConfig.Task;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks the grad mode that inference runs under, so that inference computes what training computes.
 *
 * <p>With grad mode off, PyTorch (2.7, CPU) runs an LSTM through oneDNN's fused inference kernel;
 * with grad mode on, through the kernel that training uses. The two should differ only by rounding.
 * On an AMD EPYC with AVX-512 (Zen 5) the inference kernel returned outputs off by 1e-2 to 1e-1 for
 * hidden sizes 8, 16 and 48 (24, 32 and 64 agreed; with {@code ONEDNN_MAX_CPU_ISA=AVX2} all
 * agreed): a 16-wide LSTM autoencoder that had learned its series well ranked anomalies at ROC AUC
 * 0.40 instead of 0.99. GRU and Elman RNN do not use that kernel (they agreed in every case tried).
 *
 * <p>So, once per process, network shape and device, {@link #needsGradMode} runs an LSTM network
 * both ways on a fixed input with the model's weights. Where the outputs disagree beyond rounding,
 * inference keeps grad mode on: no parameter requires a gradient there, so no graph is recorded,
 * and the only cost is speed: PyTorch's own LSTM loop instead of the fused kernel. On the loaded
 * 2-core build machine the ratio could not be measured reliably (medians from 0.8 to 4.4 times the
 * fused kernel's time at batch 1 and 32, hidden 16 to 64); {@code streamlearn bench} on a quiet
 * machine measures it. A warning names the shape once.
 */
final class InferenceKernels {

    private static final Logger LOG = LoggerFactory.getLogger(InferenceKernels.class);

    /**
     * Largest difference between the kernels, relative to the output's size (at least 1), that
     * counts as rounding. Agreeing kernels differ by about 1e-7; the faulty one by 1e-2 and more.
     */
    static final double TOLERANCE = 1e-4;

    private static final int PROBE_BATCH = 8;

    private static final Map<Probed, Boolean> VERDICTS = new ConcurrentHashMap<>();

    private InferenceKernels() {}

    /**
     * Whether inference of a network must run with grad mode on to compute what training computes.
     *
     * @param network the network
     * @param params its parameters, none requiring a gradient
     * @param manager a manager on the parameters' device, for the probe's short-lived arrays
     * @return true where the grad-mode-off kernel disagrees with the training kernel; false for
     *     families that have no such kernel
     */
    static boolean needsGradMode(Network network, NDArray[] params, NDManager manager) {
        ModelConfig c = network.config();
        if (c.family() != Family.LSTM && c.family() != Family.LSTM_AUTOENCODER) {
            return false;
        }
        int inputWidth = c.task() == Task.NEXT_ITEM ? c.hiddenSize() : c.features();
        // Looked up at every evaluation and every model load: a key without String.format.
        Probed key =
                new Probed(
                        c.family(),
                        manager.getDevice(),
                        c.window(),
                        inputWidth,
                        c.hiddenSize(),
                        c.layers());
        return VERDICTS.computeIfAbsent(
                key, k -> probe(network, params, manager, inputWidth, k.toString()));
    }

    /** What a verdict holds for: the network's shape and device. */
    private record Probed(
            Family family, Device device, int window, int input, int hidden, int layers) {
        @Override
        public String toString() {
            return String.format(
                    Locale.ROOT,
                    "%s on %s: window %d, input %d, hidden %d, layers %d",
                    family,
                    device,
                    window,
                    input,
                    hidden,
                    layers);
        }
    }

    private static boolean probe(
            Network network, NDArray[] params, NDManager manager, int inputWidth, String shape) {
        ModelConfig c = network.config();
        float[] input = new float[PROBE_BATCH * c.window() * inputWidth];
        Random random = new Random(0x1A7E57L);
        for (int i = 0; i < input.length; i++) {
            input[i] = (float) random.nextGaussian();
        }
        Shape inputShape = new Shape(PROBE_BATCH, c.window(), inputWidth);
        TorchRuntime.configureCurrentThread();
        float[] training;
        float[] inference;
        try (NDManager scope = manager.newSubManager()) {
            try (TorchRuntime.GradModeScope on = TorchRuntime.gradMode(true)) {
                training = output(network, params, scope.create(input, inputShape));
            }
            try (TorchRuntime.GradModeScope off = TorchRuntime.gradMode(false)) {
                inference = output(network, params, scope.create(input, inputShape));
            }
        }
        double size = 1;
        double difference = 0;
        for (int i = 0; i < training.length; i++) {
            size = Math.max(size, Math.abs(training[i]));
            difference = Math.max(difference, Math.abs(training[i] - inference[i]));
        }
        boolean disagree = !(difference <= TOLERANCE * size);
        if (disagree) {
            LOG.warn(
                    "PyTorch's LSTM inference kernel disagrees with its training kernel on this"
                            + " CPU for {} (largest difference {}): inference of this shape runs"
                            + " the training kernel, which is right but slower. Setting"
                            + " ONEDNN_MAX_CPU_ISA=AVX2 in the environment may restore the fast"
                            + " kernel.",
                    shape,
                    difference);
        } else {
            LOG.debug("LSTM inference kernel agrees with training for {}", shape);
        }
        return disagree;
    }

    private static float[] output(Network network, NDArray[] params, NDArray x) {
        if (network.config().family() == Family.LSTM_AUTOENCODER) {
            return network.reconstruct(params, x, false).toFloatArray();
        }
        return network.recurrent(params, x, null).get(0).toFloatArray();
    }
}
