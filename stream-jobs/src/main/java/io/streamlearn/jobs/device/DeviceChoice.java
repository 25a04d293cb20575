package io.streamlearn.jobs.device;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.metrics.MetricGroup;

/**
 * The device an operator subtask runs its model on, and why.
 *
 * <p>{@link #resolve} is the whole decision, a pure function: {@code cpu} always gives the CPU;
 * otherwise the subtask's GPU ({@link GpuAssignment}) is used when the PyTorch engine sees it as a
 * CUDA device. When it cannot be used, {@code auto} falls back to the CPU and {@code gpu} refuses
 * with a message that says what is missing. {@link #forSubtask} feeds it from Flink and DJL.
 *
 * @param device the DJL device to build the model on
 * @param assignedGpu the TaskManager GPU this subtask maps to, empty when it has none; it can be
 *     present while {@code device} is the CPU ({@code auto} fell back)
 * @param reason why, in words, for the log
 */
public record DeviceChoice(Device device, OptionalInt assignedGpu, String reason) {

    /** The name of the external resource that Flink's GPU plugin provides. */
    public static final String GPU_RESOURCE = "gpu";

    /**
     * Decides the device.
     *
     * @param key the setting's key, named in messages
     * @param mode the setting's value
     * @param assignedGpu the subtask's GPU index on its TaskManager, empty when it has none
     * @param cudaDevices the number of CUDA devices the engine can use (0 with a CPU build)
     * @return the choice
     * @throws IllegalStateException in {@code gpu} mode when no GPU is usable, naming the key and
     *     the cause
     */
    public static DeviceChoice resolve(
            String key, DeviceMode mode, OptionalInt assignedGpu, int cudaDevices) {
        if (mode == DeviceMode.CPU) {
            return new DeviceChoice(Device.cpu(), assignedGpu, key + " is cpu");
        }
        String problem;
        if (assignedGpu.isEmpty()) {
            problem =
                    "this TaskManager reports no GPU (Flink external resource '"
                            + GPU_RESOURCE
                            + "' not configured, or its discovery script found none)";
        } else if (cudaDevices == 0) {
            problem =
                    "this TaskManager has GPU "
                            + assignedGpu.getAsInt()
                            + " but the PyTorch engine finds no CUDA device (a CPU build of"
                            + " libtorch, or no NVIDIA driver in the container)";
        } else if (assignedGpu.getAsInt() >= cudaDevices) {
            problem =
                    "this TaskManager's GPU "
                            + assignedGpu.getAsInt()
                            + " is not among the engine's "
                            + cudaDevices
                            + " CUDA devices (CUDA_VISIBLE_DEVICES hides it, or the GPU plugin and"
                            + " CUDA number GPUs differently)";
        } else {
            int gpu = assignedGpu.getAsInt();
            return new DeviceChoice(
                    Device.gpu(gpu),
                    assignedGpu,
                    key
                            + " is "
                            + mode
                            + " and the engine sees "
                            + cudaDevices
                            + " CUDA device(s); using GPU "
                            + gpu);
        }
        if (mode == DeviceMode.GPU) {
            throw new IllegalStateException(
                    key + " is gpu but no GPU is usable: " + problem + ". See docs/gpu.md.");
        }
        return new DeviceChoice(Device.cpu(), assignedGpu, key + " is auto and " + problem);
    }

    /**
     * Decides the device of the calling operator subtask from its TaskManager's GPUs (Flink's
     * {@code gpu} external resource) and the PyTorch engine's CUDA devices.
     *
     * @param context the operator's runtime context
     * @param key the setting's key, named in messages
     * @param mode the setting's value
     * @return the choice
     * @throws IllegalStateException in {@code gpu} mode when no GPU is usable
     */
    public static DeviceChoice forSubtask(RuntimeContext context, String key, DeviceMode mode) {
        if (mode == DeviceMode.CPU) {
            return resolve(key, mode, OptionalInt.empty(), 0);
        }
        List<String> indexes = new ArrayList<>();
        for (ExternalResourceInfo gpu : context.getExternalResourceInfos(GPU_RESOURCE)) {
            gpu.getProperty("index").ifPresent(indexes::add);
        }
        OptionalInt assigned =
                GpuAssignment.forSubtask(context.getTaskInfo().getIndexOfThisSubtask(), indexes);
        int cudaDevices = assigned.isPresent() ? Engine.getEngine("PyTorch").getGpuCount() : 0;
        return resolve(key, mode, assigned, cudaDevices);
    }

    /**
     * Registers the choice as two gauges: {@code <prefix>Gpu}, the CUDA device in use (-1 on the
     * CPU), and {@code <prefix>AssignedGpu}, the TaskManager GPU the subtask maps to (-1 for none).
     *
     * @param metrics the operator's metric group
     * @param prefix the metric name prefix, e.g. {@code trainer}
     */
    public void register(MetricGroup metrics, String prefix) {
        int inUse = device.isGpu() ? device.getDeviceId() : -1;
        int assigned = assignedGpu.orElse(-1);
        metrics.gauge(prefix + "Gpu", () -> inUse);
        metrics.gauge(prefix + "AssignedGpu", () -> assigned);
    }
}
