package io.streamlearn.jobs.device;

import java.io.Serializable;
import java.util.Optional;
import org.apache.flink.api.common.operators.SlotSharingGroup;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;

/**
 * The validated {@link DeviceOptions} of one job.
 *
 * @param trainer where the trainer runs
 * @param predictor where the predictors run
 * @param gpuSlotCpuCores CPU cores of the trainer's slot in {@code gpu} mode
 * @param gpuSlotTaskHeap task heap of the trainer's slot in {@code gpu} mode
 * @param cpuSlot what each slot of the other operators asks for in {@code gpu} mode
 */
public record DeviceSettings(
        DeviceMode trainer,
        DeviceMode predictor,
        double gpuSlotCpuCores,
        MemorySize gpuSlotTaskHeap,
        CpuSlot cpuSlot)
        implements Serializable {

    /** The size of the other operators' slots in {@code gpu} mode. */
    public record CpuSlot(double cpuCores, MemorySize taskHeap, MemorySize managedMemory)
            implements Serializable {}

    /** The slot-sharing group of the trainer in {@code gpu} mode. */
    public static final String TRAINER_GPU_GROUP = "trainer-gpu";

    /** Flink's name of the group of every operator not placed in another. */
    public static final String DEFAULT_GROUP = "default";

    /**
     * Reads and validates the device keys.
     *
     * @throws IllegalArgumentException naming the key and the bad value
     */
    public static DeviceSettings from(Configuration conf) {
        return new DeviceSettings(
                conf.get(DeviceOptions.TRAINER_DEVICE),
                conf.get(DeviceOptions.PREDICTOR_DEVICE),
                positiveCores(conf, DeviceOptions.TRAINER_GPU_SLOT_CPU_CORES),
                positiveMemory(conf, DeviceOptions.TRAINER_GPU_SLOT_TASK_HEAP),
                new CpuSlot(
                        positiveCores(conf, DeviceOptions.CPU_SLOT_CPU_CORES),
                        positiveMemory(conf, DeviceOptions.CPU_SLOT_TASK_HEAP),
                        conf.get(DeviceOptions.CPU_SLOT_MANAGED_MEMORY)));
    }

    private static double positiveCores(Configuration conf, ConfigOption<Double> option) {
        double cores = conf.get(option);
        if (!(cores > 0) || Double.isInfinite(cores)) {
            throw new IllegalArgumentException(
                    option.key() + " must be a positive number, got " + cores);
        }
        return cores;
    }

    private static MemorySize positiveMemory(Configuration conf, ConfigOption<MemorySize> option) {
        MemorySize size = conf.get(option);
        if (size.getBytes() == 0) {
            throw new IllegalArgumentException(option.key() + " must be positive, got 0");
        }
        return size;
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

    /**
     * The size of the default slot-sharing group (every operator but the trainer) in {@code gpu}
     * mode, for {@link org.apache.flink.streaming.api.environment.StreamExecutionEnvironment
     * #registerSlotSharingGroup}. A JobMaster hands a slot of any size to a group of unspecified
     * size, so a sizeless default group could take the trainer's GPU slot, leaving the trainer
     * waiting for a GPU slot that never comes (seen: the job failed for want of resources after the
     * slot request timeout). Sized, each group only takes a slot of its own size.
     *
     * @return the group, or empty outside {@code gpu} mode (no GPU slot to take)
     */
    public Optional<SlotSharingGroup> cpuSlotSharingGroup() {
        if (trainer != DeviceMode.GPU) {
            return Optional.empty();
        }
        return Optional.of(
                SlotSharingGroup.newBuilder(DEFAULT_GROUP)
                        .setCpuCores(cpuSlot.cpuCores())
                        .setTaskHeapMemory(cpuSlot.taskHeap())
                        .setManagedMemory(cpuSlot.managedMemory())
                        .build());
    }
}
