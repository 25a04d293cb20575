package io.streamlearn.jobs;

import io.streamlearn.jobs.device.DeviceChoice;
import io.streamlearn.jobs.device.DeviceMode;
import io.streamlearn.jobs.device.DeviceOptions;
import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelState;
import io.streamlearn.models.OnlineLearner;
import io.streamlearn.state.ModelStateTypeInfo;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Learns from every example: collects mini-batches of {@code batchSize}, takes one optimizer step
 * per batch, and every {@code publishEverySteps} steps publishes the model as a new version.
 *
 * <p>Runs with parallelism 1 (one model). Its whole state, the {@link ModelState} (weights,
 * optimizer moments, step, version) and the examples of the unfinished batch, is operator state
 * written at every checkpoint, so a restored trainer continues from exactly the step it had.
 *
 * <p>At start it picks its device ({@link DeviceChoice}: a GPU of its TaskManager, or the CPU),
 * logs which and why, and exports it as the gauges {@code trainerGpu} and {@code
 * trainerAssignedGpu}. The state does not depend on the device, so a job can move between CPU and
 * GPU across a restore.
 */
public class Trainer extends ProcessFunction<Example, ModelState> implements CheckpointedFunction {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);

    private final ModelConfig config;
    private final int batchSize;
    private final int publishEverySteps;
    private final DeviceMode device;

    private transient ListState<ModelState> modelState;
    private transient ListState<Example> pendingState;
    private transient ModelState restored;
    private transient List<Example> batch;
    private transient OnlineLearner learner;
    private transient long lastPublishedStep;
    private transient volatile double lastLoss = Double.NaN;

    public Trainer(ModelConfig config, int batchSize, int publishEverySteps, DeviceMode device) {
        this.config = config;
        this.batchSize = batchSize;
        this.publishEverySteps = publishEverySteps;
        this.device = device;
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        modelState =
                context.getOperatorStateStore()
                        .getListState(
                                new ListStateDescriptor<>(
                                        "trainer-model", ModelStateTypeInfo.INSTANCE));
        pendingState =
                context.getOperatorStateStore()
                        .getListState(
                                new ListStateDescriptor<>(
                                        "trainer-batch", TypeInformation.of(Example.class)));
        batch = new ArrayList<>();
        restored = null;
        if (context.isRestored()) {
            for (ModelState state : modelState.get()) {
                restored = state;
            }
            for (Example example : pendingState.get()) {
                batch.add(example);
            }
        }
    }

    @Override
    public void open(OpenContext openContext) {
        DeviceChoice choice =
                DeviceChoice.forSubtask(
                        getRuntimeContext(), DeviceOptions.TRAINER_DEVICE.key(), device);
        LOG.info(
                "Trainer subtask {} runs on {}: {}",
                getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(),
                choice.device(),
                choice.reason());
        if (restored != null) {
            if (!restored.config().equals(config)) {
                LOG.warn(
                        "Restored model was trained with {}, the job now says {}; keeping the"
                                + " restored one",
                        restored.config(),
                        config);
            }
            learner = OnlineLearner.restore(restored, choice.device());
            LOG.info(
                    "Trainer restored at step {} version {} with {} pending examples",
                    learner.step(),
                    learner.version(),
                    batch.size());
        } else {
            learner = new OnlineLearner(config, choice.device());
        }
        lastPublishedStep = learner.step();
        var metrics = getRuntimeContext().getMetricGroup();
        choice.register(metrics, "trainer");
        metrics.gauge("trainerStep", () -> learner.step());
        metrics.gauge("trainerVersion", () -> learner.version());
        metrics.gauge("trainerLoss", () -> lastLoss);
    }

    @Override
    public void processElement(Example example, Context ctx, Collector<ModelState> out) {
        batch.add(example);
        if (batch.size() < batchSize) {
            return;
        }
        float[][] windows = new float[batch.size()][];
        float[][] targets = new float[batch.size()][];
        for (int i = 0; i < windows.length; i++) {
            windows[i] = batch.get(i).window;
            targets[i] = batch.get(i).target;
        }
        batch.clear();
        lastLoss = learner.train(windows, targets);
        long step = learner.step();
        if (step != lastPublishedStep && step % publishEverySteps == 0) {
            learner.nextVersion();
            lastPublishedStep = step;
            out.collect(learner.snapshot());
        }
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        modelState.update(List.of(learner.snapshot()));
        pendingState.update(batch);
    }

    @Override
    public void close() {
        if (learner != null) {
            learner.close();
            learner = null;
        }
    }
}
