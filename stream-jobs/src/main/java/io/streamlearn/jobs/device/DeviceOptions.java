package io.streamlearn.jobs.device;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.MemorySize;

/**
 * Where the trainer and the predictors run their model math, and what the task slots ask for when
 * the trainer must have a GPU. {@link DeviceSettings#from} validates them.
 */
public final class DeviceOptions {
    private DeviceOptions() {}

    public static final ConfigOption<DeviceMode> TRAINER_DEVICE =
            ConfigOptions.key("streamlearn.trainer.device")
                    .enumType(DeviceMode.class)
                    .defaultValue(DeviceMode.AUTO)
                    .withDescription(
                            "auto: a GPU of the trainer's TaskManager when the engine can use it,"
                                    + " else the CPU (logged); cpu; gpu: the trainer asks for a"
                                    + " task slot with a GPU and refuses to start without a usable"
                                    + " one.");

    public static final ConfigOption<DeviceMode> PREDICTOR_DEVICE =
            ConfigOptions.key("streamlearn.predictor.device")
                    .enumType(DeviceMode.class)
                    .defaultValue(DeviceMode.CPU)
                    .withDescription(
                            "auto, cpu or gpu, as for the trainer; predictors never ask for GPU"
                                    + " slots, they use a GPU their TaskManager has.");

    public static final ConfigOption<Double> TRAINER_GPU_SLOT_CPU_CORES =
            ConfigOptions.key("streamlearn.trainer.gpu-slot.cpu-cores")
                    .doubleType()
                    .defaultValue(1.0)
                    .withDescription(
                            "CPU cores of the trainer's task slot when "
                                    + "streamlearn.trainer.device is gpu.");

    public static final ConfigOption<MemorySize> TRAINER_GPU_SLOT_TASK_HEAP =
            ConfigOptions.key("streamlearn.trainer.gpu-slot.task-heap-memory")
                    .memoryType()
                    .defaultValue(MemorySize.ofMebiBytes(256))
                    .withDescription(
                            "Task heap memory of the trainer's task slot when "
                                    + "streamlearn.trainer.device is gpu.");

    public static final ConfigOption<Double> CPU_SLOT_CPU_CORES =
            ConfigOptions.key("streamlearn.cpu-slot.cpu-cores")
                    .doubleType()
                    .defaultValue(1.0)
                    .withDescription(
                            "CPU cores of each slot of the other operators (sources, predictors,"
                                    + " sinks) when streamlearn.trainer.device is gpu. In gpu mode"
                                    + " every slot-sharing group of the job has a size, because"
                                    + " Flink hands any slot, the GPU slot included, to a group of"
                                    + " unspecified size.");

    public static final ConfigOption<MemorySize> CPU_SLOT_TASK_HEAP =
            ConfigOptions.key("streamlearn.cpu-slot.task-heap-memory")
                    .memoryType()
                    .defaultValue(MemorySize.ofMebiBytes(512))
                    .withDescription(
                            "Task heap memory of each slot of the other operators when "
                                    + "streamlearn.trainer.device is gpu.");

    public static final ConfigOption<MemorySize> CPU_SLOT_MANAGED_MEMORY =
            ConfigOptions.key("streamlearn.cpu-slot.managed-memory")
                    .memoryType()
                    .defaultValue(MemorySize.ofMebiBytes(128))
                    .withDescription(
                            "Managed memory (RocksDB's keyed state) of each slot of the other"
                                    + " operators when streamlearn.trainer.device is gpu.");
}
