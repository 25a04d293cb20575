package io.streamlearn.models;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Opens managers on a chosen device, and applies the per-thread PyTorch settings that DJL 0.35.1
 * applies only to the thread that starts the engine.
 *
 * <p>PyTorch keeps grad mode and the OpenMP intra-op thread count per thread. DJL turns grad mode
 * off and applies {@code ai.djl.pytorch.num_threads} once, on the thread that loads the engine; any
 * other thread (a Flink task thread, a test's executor) starts with grad mode on and the OpenMP
 * default thread count (batch-32 inference measured 12-15 % slower). Callers run {@link
 * #configureCurrentThread()} before native work and {@link #gradMode(boolean)} around inference.
 */
final class TorchRuntime {

    /** DJL's name of the PyTorch engine. */
    static final String ENGINE = "PyTorch";

    /** Intra-op threads per calling thread: DJL's property if set, else 1. */
    private static final int INTRA_OP_THREADS =
            Math.max(1, Integer.getInteger("ai.djl.pytorch.num_threads", 1));

    private static final ThreadLocal<Boolean> CONFIGURED =
            ThreadLocal.withInitial(() -> Boolean.FALSE);

    private TorchRuntime() {}

    /**
     * Opens a base manager on the PyTorch engine and the given device, loading the engine if
     * needed.
     *
     * @param device {@code Device.cpu()} or {@code Device.gpu(i)}
     * @return a new manager the caller owns
     * @throws IllegalArgumentException if the device is a GPU the engine cannot use
     */
    static NDManager newBaseManager(Device device) {
        return NDManager.newBaseManager(checkUsable(device), ENGINE);
    }

    /**
     * Checks that the engine can run on a device.
     *
     * @param device the device
     * @return the device
     * @throws IllegalArgumentException naming the device and how many GPUs the engine sees
     */
    static Device checkUsable(Device device) {
        if (device == null) {
            throw new IllegalArgumentException("device must not be null (use Device.cpu())");
        }
        if (device.isGpu()) {
            int gpus = Engine.getEngine(ENGINE).getGpuCount();
            if (device.getDeviceId() >= gpus) {
                throw new IllegalArgumentException(
                        "device "
                                + device
                                + " is not usable: the PyTorch engine sees "
                                + gpus
                                + " GPU(s). A GPU needs an NVIDIA driver and the CUDA build of"
                                + " libtorch (this build ships the CPU one); see docs/gpu.md, or"
                                + " use the CPU.");
            }
        } else if (!Device.Type.CPU.equals(device.getDeviceType())) {
            throw new IllegalArgumentException(
                    "device " + device + " is not supported; use Device.cpu() or Device.gpu(i)");
        }
        return device;
    }

    /** Sets this thread's intra-op thread count once; needs the engine to be loaded. */
    static void configureCurrentThread() {
        if (!CONFIGURED.get()) {
            if (JniUtils.getNumThreads() != INTRA_OP_THREADS) {
                JniUtils.setNumThreads(INTRA_OP_THREADS);
            }
            CONFIGURED.set(Boolean.TRUE);
        }
    }

    /**
     * Seeds PyTorch's global generator, which dropout draws from. Callers hold the training lock,
     * so that no other training step draws in between.
     */
    static void seedGenerator(long seed) {
        JniUtils.setSeed(seed);
    }

    /**
     * Sets this thread's grad mode until the returned handle is closed, which restores it.
     * Inference runs with it off, except where {@link InferenceKernels} finds that the kernel this
     * selects computes something other than training's.
     *
     * @param enabled the grad mode to set
     * @return the handle
     */
    static GradModeScope gradMode(boolean enabled) {
        boolean previous = JniUtils.isGradMode();
        if (previous != enabled) {
            JniUtils.setGradMode(enabled);
        }
        return new GradModeScope(previous, enabled);
    }

    /** Restores the grad mode a thread had before {@link #gradMode(boolean)}. */
    static final class GradModeScope implements AutoCloseable {
        private final boolean previous;
        private final boolean set;

        private GradModeScope(boolean previous, boolean set) {
            this.previous = previous;
            this.set = set;
        }

        @Override
        public void close() {
            if (previous != set) {
                JniUtils.setGradMode(previous);
            }
        }
    }
}
