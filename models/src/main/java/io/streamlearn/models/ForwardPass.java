package io.streamlearn.models;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import io.streamlearn.models.ModelConfig.Task;

/**
 * A model's network as a bare function of native arrays: no host copies, no checks, no result
 * objects. For callers that keep their inputs on the device already, and for the benchmark's
 * bare-loop baseline, which measures what {@link Forecaster}, {@link Recommender} and {@link
 * Reconstructor} add on top of the same computation.
 *
 * <p>The caller owns threading and grad mode: run it under {@link #inferenceMode()} on a thread set
 * up by {@link #configureCurrentThread()}, with inputs in a scope the caller closes.
 */
public final class ForwardPass implements AutoCloseable {

    private final LoadedModel model;

    private ForwardPass(ModelState state, Device device) {
        this.model = new LoadedModel(state, device, state.config().task(), "ForwardPass");
    }

    /**
     * Loads a state's weights onto a device.
     *
     * @param state any model state
     * @param device where the network runs
     * @return the forward pass; close it to release its native memory
     */
    public static ForwardPass create(ModelState state, Device device) {
        return new ForwardPass(state, device);
    }

    /** Returns the config of the model. */
    public ModelConfig config() {
        return model.config;
    }

    /** Returns a manager on this model's device for the caller's inputs (close it). */
    public NDManager newScope() {
        return model.newScope();
    }

    /**
     * Runs the network on a batch.
     *
     * @param input NEXT_VALUE and RECONSTRUCTION: normalised windows (B, window, features);
     *     NEXT_ITEM: int64 vocabulary rows (B, window)
     * @return NEXT_VALUE: [mean, log-variance] (B, features); RECONSTRUCTION: [reconstruction] (B,
     *     window, features); NEXT_ITEM: [scores] (B, itemCapacity), the network's alone: without
     *     the successor slots' term, which {@link Recommender} adds on the host
     */
    public NDList forward(NDArray input) {
        NDArray[] p = model.params();
        Network network = model.network;
        Task task = model.config.task();
        if (task == Task.RECONSTRUCTION) {
            return new NDList(network.reconstruct(p, input, false));
        }
        if (task == Task.NEXT_ITEM) {
            NDArray x = network.embed(p, input);
            NDArray query =
                    network.itemQuery(p, network.encode(p, x, null, false), Network.lastStep(x));
            return new NDList(network.itemScores(p, query));
        }
        NDArray summary = network.encode(p, input, null, false);
        return network.gaussian(p, summary, Network.lastStep(input));
    }

    /** Sets the calling thread's intra-op threads as the inference classes do. */
    public static void configureCurrentThread() {
        TorchRuntime.configureCurrentThread();
    }

    /**
     * Sets the calling thread's grad mode as the inference classes do for this model (off, unless
     * {@link InferenceKernels} found that kernel wrong on this CPU) until the handle is closed.
     */
    public GradMode inferenceMode() {
        TorchRuntime.GradModeScope scope = TorchRuntime.gradMode(model.gradMode());
        return scope::close;
    }

    /** Restores the thread's grad mode when closed. */
    public interface GradMode extends AutoCloseable {
        @Override
        void close();
    }

    /** Releases the native memory. Idempotent. */
    @Override
    public void close() {
        model.close();
    }
}
