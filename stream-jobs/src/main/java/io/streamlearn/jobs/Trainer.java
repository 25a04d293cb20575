package io.streamlearn.jobs;

import ai.djl.Device;
import io.streamlearn.jobs.device.DeviceChoice;
import io.streamlearn.jobs.device.DeviceMode;
import io.streamlearn.jobs.device.DeviceOptions;
import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelState;
import io.streamlearn.models.OnlineLearner;
import io.streamlearn.schemas.ModelAction;
import io.streamlearn.schemas.ModelCommand;
import io.streamlearn.schemas.ModelSnapshot;
import io.streamlearn.state.ModelSnapshots;
import io.streamlearn.state.ModelStateTypeInfo;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.co.CoProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Learns from every example: collects mini-batches of {@code batchSize}, takes one optimizer step
 * per batch, and every {@code publishEverySteps} steps (or, if set, once {@code publishInterval}
 * has passed since the last version) publishes the model as a new version.
 *
 * <p>Every version goes to the model store ({@link #SNAPSHOTS}) with the metrics behind its
 * promotion decision; only versions the {@link PromotionGuard} promotes go to the predictors (the
 * main output). To judge them, the serving version scores each batch before the learner steps on
 * it. A {@link ModelCommand} ROLLBACK (second input) replaces the learner with the given verified
 * state, published at once as the next version past the guard; learning continues from it.
 *
 * <p>Runs with parallelism 1 (one model). Its whole state (the learner's {@link ModelState}, the
 * serving version, the guard's recent losses, the examples of the unfinished batch) is operator
 * state written at every checkpoint, so a restored trainer continues from exactly the step it had.
 * A job that starts without state begins from the warm-start model if it was given one.
 *
 * <p>At start it picks its device ({@link DeviceChoice}: a GPU of its TaskManager, or the CPU),
 * logs which and why, and exports it as the gauges {@code trainerGpu} and {@code
 * trainerAssignedGpu}. The state does not depend on the device, so a job can move between CPU and
 * GPU across a restore.
 */
public class Trainer extends CoProcessFunction<Example, ModelCommand, ModelState>
        implements CheckpointedFunction {
    private static final long serialVersionUID = 2L;
    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);

    /** Every published version, promoted or not, for the model store. */
    public static final OutputTag<ModelSnapshot> SNAPSHOTS =
            new OutputTag<>("snapshots", new AvroTypeInfo<>(ModelSnapshot.class));

    private final ModelConfig config;
    private final int batchSize;
    private final int publishEverySteps;
    private final long publishIntervalMillis;
    private final int promotionWindow;
    private final double maxLossIncrease;
    private final byte[] warmStart;
    private final DeviceMode device;

    private transient ListState<ModelState> modelState;
    private transient ListState<ModelState> servingState;
    private transient ListState<Example> pendingState;
    private transient ListState<double[]> guardState;
    private transient ModelState restored;
    private transient ModelState serving;
    private transient List<Example> batch;
    private transient PromotionGuard guard;
    private transient OnlineLearner learner;
    private transient OnlineLearner servingScorer;
    private transient Device learnerDevice;
    private transient long lastPublishedStep;
    private transient long lastPublishedAt;
    private transient volatile long candidateVersion;
    private transient volatile double lastLoss;
    private transient Counter promotions;
    private transient Counter rejections;
    private transient Counter rollbacks;
    private transient Counter refusedCommands;

    /** A trainer that publishes on steps only, promotes every finite version, starts fresh. */
    public Trainer(ModelConfig config, int batchSize, int publishEverySteps, DeviceMode device) {
        this(
                config,
                batchSize,
                publishEverySteps,
                Duration.ZERO,
                20,
                Double.POSITIVE_INFINITY,
                null,
                device);
    }

    /**
     * @param publishInterval also publish once this much processing time passed since the last
     *     version; zero publishes on steps only (deterministic)
     * @param promotionWindow most recent batches over which versions are compared
     * @param maxLossIncrease how much worse (relative) than the serving version a candidate may be
     * @param warmStart the model a job without state starts from; null for fresh weights
     * @param device where it learns ({@code streamlearn.trainer.device})
     */
    public Trainer(
            ModelConfig config,
            int batchSize,
            int publishEverySteps,
            Duration publishInterval,
            int promotionWindow,
            double maxLossIncrease,
            ModelState warmStart,
            DeviceMode device) {
        this.config = config;
        this.batchSize = batchSize;
        this.publishEverySteps = publishEverySteps;
        this.publishIntervalMillis = publishInterval.toMillis();
        this.promotionWindow = promotionWindow;
        this.maxLossIncrease = maxLossIncrease;
        this.warmStart = warmStart == null ? null : warmStart.encode();
        this.device = device;
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        var store = context.getOperatorStateStore();
        modelState =
                store.getListState(
                        new ListStateDescriptor<>("trainer-model", ModelStateTypeInfo.INSTANCE));
        servingState =
                store.getListState(
                        new ListStateDescriptor<>("trainer-serving", ModelStateTypeInfo.INSTANCE));
        pendingState =
                store.getListState(
                        new ListStateDescriptor<>(
                                "trainer-batch", TypeInformation.of(Example.class)));
        guardState =
                store.getListState(
                        new ListStateDescriptor<>(
                                "trainer-guard",
                                PrimitiveArrayTypeInfo.DOUBLE_PRIMITIVE_ARRAY_TYPE_INFO));
        batch = new ArrayList<>();
        guard = new PromotionGuard(promotionWindow, maxLossIncrease);
        restored = null;
        serving = null;
        if (context.isRestored()) {
            for (ModelState state : modelState.get()) {
                restored = state;
            }
            for (ModelState state : servingState.get()) {
                serving = state;
            }
            for (Example example : pendingState.get()) {
                batch.add(example);
            }
            for (double[] pairs : guardState.get()) {
                guard.restore(pairs);
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
        learnerDevice = choice.device();
        if (restored != null) {
            if (!restored.config().equals(config)) {
                LOG.warn(
                        "Restored model was trained with {}, the job now says {}; keeping the"
                                + " restored one",
                        restored.config(),
                        config);
            }
            learner = OnlineLearner.restore(restored, learnerDevice);
            LOG.info(
                    "Trainer restored at step {} version {} (serving {}) with {} pending examples",
                    learner.step(),
                    learner.version(),
                    serving == null ? "none" : serving.version(),
                    batch.size());
        } else if (warmStart != null) {
            ModelState start = ModelState.decode(warmStart);
            learner = OnlineLearner.restore(start, learnerDevice);
            serving = start;
            LOG.info(
                    "Trainer warm-started from model version {} at step {}",
                    start.version(),
                    start.step());
        } else {
            learner = new OnlineLearner(config, learnerDevice);
        }
        servingScorer = serving == null ? null : OnlineLearner.restore(serving, learnerDevice);
        lastPublishedStep = learner.step();
        lastPublishedAt = Long.MIN_VALUE; // set from the task's clock at the first batch
        candidateVersion = learner.version();
        lastLoss = Double.NaN;
        var metrics = getRuntimeContext().getMetricGroup();
        choice.register(metrics, "trainer");
        metrics.gauge("trainerStep", () -> learner.step());
        metrics.gauge("trainerVersion", () -> learner.version());
        metrics.gauge("trainerLoss", () -> lastLoss);
        metrics.gauge("candidateVersion", () -> candidateVersion);
        metrics.gauge("servingVersion", () -> serving == null ? 0L : serving.version());
        promotions = metrics.counter("promotions");
        rejections = metrics.counter("rejections");
        rollbacks = metrics.counter("rollbacks");
        refusedCommands = metrics.counter("refusedCommands");
    }

    @Override
    public void processElement1(Example example, Context ctx, Collector<ModelState> out) {
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
        // Prequential: both versions are scored on the batch before the learner learns from it.
        double servingLoss =
                servingScorer == null ? Double.NaN : servingScorer.evaluate(windows, targets);
        lastLoss = learner.train(windows, targets);
        if (servingScorer != null) {
            guard.record(lastLoss, servingLoss);
        }
        long step = learner.step();
        long now = ctx.timerService().currentProcessingTime();
        if (lastPublishedAt == Long.MIN_VALUE) {
            lastPublishedAt = now;
        }
        boolean due =
                step % publishEverySteps == 0
                        || (publishIntervalMillis > 0
                                && now - lastPublishedAt >= publishIntervalMillis);
        if (step != lastPublishedStep && due) {
            learner.nextVersion();
            lastPublishedStep = step;
            lastPublishedAt = now;
            publish(learner.snapshot(), ctx, out);
        }
    }

    private void publish(ModelState candidate, Context ctx, Collector<ModelState> out) {
        candidateVersion = candidate.version();
        PromotionGuard.Decision decision = guard.decide(candidate, serving != null);
        if (decision.promote()) {
            serve(candidate);
            promotions.inc();
            out.collect(candidate);
        } else {
            rejections.inc();
            LOG.info("Model version {} {}", candidate.version(), decision.note());
        }
        ctx.output(
                SNAPSHOTS,
                ModelSnapshots.builder(
                                candidate,
                                Instant.ofEpochMilli(ctx.timerService().currentProcessingTime()))
                        .setPromoted(decision.promote())
                        .setServingVersion(serving == null ? 0L : serving.version())
                        .setCandidateLoss(decision.candidateLoss())
                        .setServingLoss(decision.servingLoss())
                        .setNote(decision.note())
                        .build());
    }

    private void serve(ModelState state) {
        serving = state;
        if (servingScorer != null) {
            servingScorer.close();
        }
        servingScorer = OnlineLearner.restore(state, learnerDevice);
        guard.reset();
    }

    /**
     * A rollback: the given state, verified against its checksum, becomes the learner and serves at
     * once as the next version. A command that does not verify is refused and changes nothing.
     */
    @Override
    public void processElement2(ModelCommand command, Context ctx, Collector<ModelState> out) {
        if (command.getAction() != ModelAction.ROLLBACK) {
            refusedCommands.inc();
            LOG.error("Refusing unknown model command {}", command.getAction());
            return;
        }
        ModelState target;
        try {
            target =
                    ModelSnapshots.verified(
                            command.getState(),
                            command.getSha256(),
                            "rollback to model version " + command.getTargetVersion());
        } catch (IllegalArgumentException e) {
            refusedCommands.inc();
            LOG.error("Refusing a model command: {}", e.getMessage());
            return;
        }
        ModelState next = target.withVersion(learner.version() + 1);
        learner.close();
        learner = OnlineLearner.restore(next, learnerDevice);
        lastPublishedStep = learner.step();
        lastPublishedAt = ctx.timerService().currentProcessingTime();
        candidateVersion = next.version();
        serve(next);
        rollbacks.inc();
        LOG.warn(
                "Rolled back to model version {}: serving it as version {}",
                command.getTargetVersion(),
                next.version());
        out.collect(next);
        ctx.output(
                SNAPSHOTS,
                ModelSnapshots.builder(next, Instant.ofEpochMilli(lastPublishedAt))
                        .setPromoted(true)
                        .setServingVersion(next.version())
                        .setNote("rollback to version " + command.getTargetVersion())
                        .build());
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        modelState.update(List.of(learner.snapshot()));
        servingState.update(serving == null ? List.of() : List.of(serving));
        pendingState.update(batch);
        guardState.update(List.of(guard.toArray()));
    }

    @Override
    public void close() {
        if (learner != null) {
            learner.close();
            learner = null;
        }
        if (servingScorer != null) {
            servingScorer.close();
            servingScorer = null;
        }
    }
}
