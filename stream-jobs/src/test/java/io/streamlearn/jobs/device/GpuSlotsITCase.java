package io.streamlearn.jobs.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.Example;
import io.streamlearn.jobs.ModelUpdate;
import io.streamlearn.jobs.Trainer;
import io.streamlearn.models.ModelConfig;
import io.streamlearn.schemas.ModelAction;
import io.streamlearn.schemas.ModelCommand;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.ExceptionUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer on a TaskManager that has GPUs (Flink's {@code gpu} external resource, reporting GPUs
 * 5 and 2) but a CPU build of PyTorch, as on this machine: it maps its subtask to the expected GPU,
 * falls back to the CPU in {@code auto}, and in {@code gpu} gets its GPU slot and then refuses to
 * start, failing the job with a message that says why.
 */
class GpuSlotsITCase {
    private static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();
    private static final ModelConfig MODEL =
            ModelConfig.builder().setWindow(4).optHiddenSize(4).build();

    @TempDir static Path workDir;
    private static GpuTaskManagerCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        cluster = GpuTaskManagerCluster.start(List.of("5", "2"), REPORTER, workDir);
    }

    @AfterAll
    static void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** examples → trainer (placed as the forecasting job places it) → discard. */
    private static JobClient submit(DeviceMode mode, int trainers) throws Exception {
        Configuration jobConfig = new Configuration();
        jobConfig.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        jobConfig.set(PipelineOptions.GENERIC_TYPES, false);
        jobConfig.set(DeviceOptions.TRAINER_DEVICE, mode);
        // The other operators' slot, sized to fit beside the GPU slot on the test TaskManager.
        jobConfig.set(DeviceOptions.CPU_SLOT_TASK_HEAP, MemorySize.ofMebiBytes(384));
        jobConfig.set(DeviceOptions.CPU_SLOT_MANAGED_MEMORY, MemorySize.ofMebiBytes(16));
        DeviceSettings devices = DeviceSettings.from(jobConfig);

        StreamExecutionEnvironment env = cluster.environment(jobConfig);
        env.setParallelism(1);
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            examples.add(new Example(new float[] {i, i + 1, i + 2, i + 3}, new float[] {i + 4}));
        }
        SingleOutputStreamOperator<ModelUpdate> trainer =
                env.fromData(examples, TypeInformation.of(Example.class))
                        .keyBy(e -> Trainer.KEY, Types.INT)
                        .connect(noCommands(env).keyBy(c -> Trainer.KEY, Types.INT))
                        .process(new Trainer(MODEL, 4, 1, mode))
                        .returns(ModelUpdate.TYPE)
                        .name("trainer")
                        .setParallelism(trainers);
        devices.trainerSlotSharingGroup().ifPresent(trainer::slotSharingGroup);
        devices.cpuSlotSharingGroup().ifPresent(env::registerSlotSharingGroup);
        trainer.sinkTo(new DiscardingSink<>()).setParallelism(trainers);
        return env.executeAsync("trainer on " + mode);
    }

    /** The trainer's second input, with no command on it (a source needs one element). */
    private static DataStream<ModelCommand> noCommands(StreamExecutionEnvironment env) {
        ModelCommand unused =
                ModelCommand.newBuilder()
                        .setAction(ModelAction.ROLLBACK)
                        .setTargetVersion(0)
                        .setState(ByteBuffer.allocate(0))
                        .setSha256("")
                        .setRequestedAt(Instant.EPOCH)
                        .build();
        return env.fromData(new AvroTypeInfo<>(ModelCommand.class), unused).filter(c -> false);
    }

    @Test
    void autoMapsEachSubtaskToItsGpuAndFallsBackToTheCpu() throws Exception {
        JobClient job = submit(DeviceMode.AUTO, 2);
        job.getJobExecutionResult().get(2, TimeUnit.MINUTES);

        // GPUs sorted: [2, 5]; subtask 0 → 2, subtask 1 → 5. No CUDA here: both on the CPU (-1).
        assertEquals(Map.of(0, 2, 1, 5), gauge(job.getJobID(), "trainerAssignedGpu"));
        assertEquals(Map.of(0, -1, 1, -1), gauge(job.getJobID(), "trainerGpu"));
    }

    @Test
    void gpuModeGetsItsGpuSlotAndRefusesToStartWithoutCuda() throws Exception {
        JobClient job = submit(DeviceMode.GPU, 1);
        ExecutionException failure =
                assertThrows(
                        ExecutionException.class,
                        () -> job.getJobExecutionResult().get(2, TimeUnit.MINUTES));
        // The trainer's slot asks for a GPU: had the TaskManager not offered one, the job would
        // have failed for want of resources instead of reaching the trainer's check.
        String expected =
                "streamlearn.trainer.device is gpu but no GPU is usable: this TaskManager has GPU"
                        + " 2 but the PyTorch engine finds no CUDA device";
        assertTrue(
                ExceptionUtils.findThrowableWithMessage(failure, expected).isPresent(),
                () ->
                        "expected '"
                                + expected
                                + "' in "
                                + ExceptionUtils.stringifyException(failure));
    }

    /** Subtask index → value of the trainer's gauge in that job. */
    private static Map<Integer, Integer> gauge(JobID job, String name) {
        Map<Integer, Integer> values = new TreeMap<>();
        for (Map.Entry<MetricGroup, Map<String, Metric>> group :
                REPORTER.getMetricsByGroup().entrySet()) {
            Map<String, String> variables = group.getKey().getAllVariables();
            Metric metric = group.getValue().get(name);
            if (metric != null && job.toString().equals(variables.get("<job_id>"))) {
                values.put(
                        Integer.parseInt(variables.get("<subtask_index>")),
                        (Integer) ((Gauge<?>) metric).getValue());
            }
        }
        return values;
    }
}
