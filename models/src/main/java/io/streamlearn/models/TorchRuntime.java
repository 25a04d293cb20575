package io.streamlearn.models;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Per-thread PyTorch settings that DJL 0.35.1 applies only to the thread that starts the engine.
 *
 * <p>PyTorch keeps grad mode and the OpenMP intra-op thread count per thread. DJL turns grad mode
 * off and applies {@code ai.djl.pytorch.num_threads} once, on the thread that loads the engine; any
 * other thread (a Flink task thread, a test's executor) starts with grad mode on and the OpenMP
 * default thread count. Callers run {@link #configureCurrentThread()} before native work and {@link
 * #gradModeOff()} around inference.
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
     * Opens a base manager on the PyTorch engine, loading the engine if needed.
     *
     * @param device where the manager's arrays live
     * @return a new manager the caller owns
     */
    static NDManager newBaseManager(Device device) {
        return NDManager.newBaseManager(device, ENGINE);
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
     * Turns grad mode off on this thread until the returned handle is closed, which restores it.
     *
     * @return the handle
     */
    static GradModeScope gradModeOff() {
        boolean previous = JniUtils.isGradMode();
        if (previous) {
            JniUtils.setGradMode(false);
        }
        return new GradModeScope(previous);
    }

    /** Restores the grad mode a thread had before {@link #gradModeOff()}. */
    static final class GradModeScope implements AutoCloseable {
        private final boolean previous;

        private GradModeScope(boolean previous) {
            this.previous = previous;
        }

        @Override
        public void close() {
            if (previous) {
                JniUtils.setGradMode(true);
            }
        }
    }
}
