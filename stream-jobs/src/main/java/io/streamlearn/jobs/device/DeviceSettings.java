package io.streamlearn.jobs.device;

import java.io.Serializable;
import java.util.Optional;
import org.apache.flink.api.common.operators.SlotSharingGroup;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;

/**
 * The validated {@link DeviceOptions} of one job.
 *
 * @param trainer where the trainer runs
 * @param predictor where the predictors run
 * @param gpuSlotCpuCores CPU cores of the trainer's slot in {@code gpu} mode
 * @param gpuSlotTaskHeap task heap of the trainer's slot in {@code gpu} mode
 */
public record DeviceSettings(
        DeviceMode trainer,
        DeviceMode predictor,
        double gpuSlotCpuCores,
        MemorySize gpuSlotTaskHeap)
        implements Serializable {

    /** The slot-sharing group of the trainer in {@code gpu} mode. */
    public static final String TRAINER_GPU_GROUP = "trainer-gpu";

    /**
     * Reads and validates the device keys.
     *
     * @throws IllegalArgumentException naming the key and the bad value
     */
    public static DeviceSettings from(Configuration conf) {
        double cores = conf.get(DeviceOptions.TRAINER_GPU_SLOT_CPU_CORES);
        if (!(cores > 0) || Double.isInfinite(cores)) {
            throw new IllegalArgumentException(
                    DeviceOptions.TRAINER_GPU_SLOT_CPU_CORES.key()
                            + " must be a positive number, got "
                            + cores);
        }
        MemorySize heap = conf.get(DeviceOptions.TRAINER_GPU_SLOT_TASK_HEAP);
        if (heap.getBytes() == 0) {
            throw new IllegalArgumentException(
                    DeviceOptions.TRAINER_GPU_SLOT_TASK_HEAP.key() + " must be positive, got 0");
        }
        return new DeviceSettings(
                conf.get(DeviceOptions.TRAINER_DEVICE),
                conf.get(DeviceOptions.PREDICTOR_DEVICE),
                cores,
                heap);
    }

    /**
     * The slot-sharing group the trainer must run in: in {@code gpu} mode a group of its own whose
     * slots ask for one GPU, so that Flink's fine-grained resource management places the trainer on
     * a TaskManager with a free GPU and nothing else takes that GPU. Empty otherwise: {@code auto}
     * asks for nothing, because a GPU request on a cluster without GPUs is never fulfilled and the
     * job would wait for resources forever; it uses a GPU only if its slot happens to be on a
     * TaskManager that has one.
     *
     * @return the group, or empty to stay in the default group
     */
    public Optional<SlotSharingGroup> trainerSlotSharingGroup() {
        if (trainer != DeviceMode.GPU) {
            return Optional.empty();
        }
        return Optional.of(
                SlotSharingGroup.newBuilder(TRAINER_GPU_GROUP)
                        .setCpuCores(gpuSlotCpuCores)
                        .setTaskHeapMemory(gpuSlotTaskHeap)
                        .setExternalResource(DeviceChoice.GPU_RESOURCE, 1.0)
                        .build());
    }
}
