package io.streamlearn.jobs;

import ai.djl.Device;
import io.streamlearn.jobs.device.DeviceChoice;
import io.streamlearn.jobs.device.DeviceMode;
import io.streamlearn.jobs.device.DeviceOptions;
import io.streamlearn.models.Batch;
import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelState;
import io.streamlearn.models.OnlineLearner;
import io.streamlearn.models.TrainingPace;
import io.streamlearn.schemas.ModelAction;
import io.streamlearn.schemas.ModelCommand;
import io.streamlearn.schemas.ModelSnapshot;
import io.streamlearn.state.ModelSnapshots;
import io.streamlearn.state.ModelStateTypeInfo;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Learns from every example: collects mini-batches of {@code batchSize}, takes one optimizer step
 * per batch, and every {@code publishEverySteps} steps (or, if set, once {@code publishInterval}
 * has passed since the last version) publishes the model as a new version. Any task: the examples
 * become the {@link io.streamlearn.models.Batch} of the model's task (values, windows or items).
 *
 * <p>Every version goes to the model store ({@link #SNAPSHOTS}) with the metrics behind its
 * promotion decision; only versions the {@link PromotionGuard} promotes go to the predictors (the
 * main output, as {@link ModelUpdate}s). To judge them, the serving version scores each batch
 * before the learner steps on it. A {@link ModelCommand} ROLLBACK (second input) replaces the
 * learner with the given verified state, published at once as the next version past the guard;
 * learning continues from it.
 *
 * <p>{@link TimeAlignment#NONE}: examples are learned in arrival order, and the trainer keeps up
 * with them so that it never holds back the predictions (its backpressure would reach the source,
 * which feeds the predictors too). A step costs mostly a fixed overhead, so when the newest example
 * of a batch waited longer than {@link JobSettings.Backlog#maxLag()} in front of it, the next batch
 * is twice as large, up to {@link JobSettings.Backlog#maxBatchSize()}; still behind at the largest
 * batch, it learns one example in 2, then 4, ... (a sample of the backlog; the others are counted
 * in {@code examplesSkipped}). Under half the lag, the stride halves back to 1, then the batch to
 * {@code batchSize}. These adjustments are not state: a restored trainer starts from {@code
 * batchSize}. {@link TimeAlignment#EVENT_TIME}: they wait in state, ordered by (event time, entity,
 * arrival), and are learned once the watermark has passed them (an event-time timer at time + 1),
 * so every version emitted before watermark W holds only examples earlier than W, and the order
 * (hence the model) does not depend on how parallel upstream subtasks interleave. The watermark
 * goes on to the predictors only after those versions: Flink fires the timers, then forwards it.
 *
 * <p>Runs with parallelism 1 (one model), keyed by the constant {@link #KEY} so that it may use
 * event-time timers. Its whole state (the learner's {@link ModelState}, the serving version, the
 * guard's recent losses, the examples of the unfinished batch and those waiting for the watermark)
 * is operator state written at every checkpoint, so a restored trainer continues from exactly the
 * step it had. A job that starts without state begins from the warm-start model if it was given
 * one.
 *
 * <p>At start it picks its device ({@link DeviceChoice}: a GPU of its TaskManager, or the CPU),
 * logs which and why, and exports it as the gauges {@code trainerGpu} and {@code
 * trainerAssignedGpu}. The state does not depend on the device, so a job can move between CPU and
 * GPU across a restore.
 */
public class Trainer extends KeyedCoProcessFunction<Integer, Example, ModelCommand, ModelUpdate>
        implements CheckpointedFunction {
    private static final long serialVersionUID = 2L;
    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);

    /** The one key of every example and command: there is one model. */
    public static final int KEY = 0;

    /** Orders waiting examples: event time, then entity, then arrival. */
    private static final Comparator<Arrival> ORDER =
            Comparator.comparingLong(Arrival::time)
                    .thenComparing(Arrival::entity)
                    .thenComparingLong(Arrival::sequence);

    /** A snapshot record's key (its version) and the Kafka record batch's framing, at most. */
    static final long RECORD_FRAMING_BYTES = 128;

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
    private final TimeAlignment alignment;
    private final long maxSnapshotBytes;
    private final JobSettings.Backlog backlog;

    private transient ListState<ModelState> modelState;
    private transient ListState<Example> waitingState;
    private transient ListState<Long> trainedUntilState;
    private transient TreeMap<Arrival, Example> waiting;
    private transient long arrivals;
    private transient long trainedUntil;
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
    private transient Counter learned;
    private transient Counter skipped;
    private transient TrainingPace pace;
    private transient long sampled;
    private transient volatile long lagMillis;

    /**
     * A trainer in arrival order that publishes on steps only, promotes every finite version,
     * starts fresh.
     */
    public Trainer(ModelConfig config, int batchSize, int publishEverySteps, DeviceMode device) {
        this(
                config,
                batchSize,
                publishEverySteps,
                Duration.ZERO,
                20,
                Double.POSITIVE_INFINITY,
                null,
                device,
                TimeAlignment.NONE,
                StreamlearnOptions.MAX_SNAPSHOT_SIZE.defaultValue().getBytes(),
                JobSettings.Backlog.defaults());
    }

    /**
     * @param publishInterval also publish once this much processing time passed since the last
     *     version; zero publishes on steps only (deterministic)
     * @param promotionWindow most recent batches over which versions are compared
     * @param maxLossIncrease how much worse (relative) than the serving version a candidate may be
     * @param warmStart the model a job without state starts from; null for fresh weights
     * @param device where it learns ({@code streamlearn.trainer.device})
     * @param alignment in which order and when examples are learned
     * @param maxSnapshotBytes the largest snapshot it may send to the model store ({@code
     *     streamlearn.model-store.max-snapshot-size})
     * @param backlog live mode: how far the batch grows, and when, while the trainer lags
     */
    public Trainer(
            ModelConfig config,
            int batchSize,
            int publishEverySteps,
            Duration publishInterval,
            int promotionWindow,
            double maxLossIncrease,
            ModelState warmStart,
            DeviceMode device,
            TimeAlignment alignment,
            long maxSnapshotBytes,
            JobSettings.Backlog backlog) {
        this.config = config;
        this.batchSize = batchSize;
        this.publishEverySteps = publishEverySteps;
        this.publishIntervalMillis = publishInterval.toMillis();
        this.promotionWindow = promotionWindow;
        this.maxLossIncrease = maxLossIncrease;
        this.warmStart = warmStart == null ? null : warmStart.encode();
        this.device = device;
        this.alignment = alignment;
        this.maxSnapshotBytes = maxSnapshotBytes;
        this.backlog = backlog;
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
        waitingState =
                store.getListState(
                        new ListStateDescriptor<>(
                                "trainer-waiting", TypeInformation.of(Example.class)));
        trainedUntilState =
                store.getListState(new ListStateDescriptor<>("trainer-trained-until", Types.LONG));
        batch = new ArrayList<>();
        waiting = new TreeMap<>(ORDER);
        arrivals = 0;
        trainedUntil = ModelUpdate.NOTHING_LEARNED;
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
            // Stored in order; renumbered, which keeps the order.
            for (Example example : waitingState.get()) {
                hold(example);
            }
            for (Long time : trainedUntilState.get()) {
                trainedUntil = time;
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
            serving = start.forServing();
            LOG.info(
                    "Trainer warm-started from model version {} at step {}",
                    start.version(),
                    start.step());
        } else {
            learner = new OnlineLearner(config, learnerDevice);
        }
        servingScorer = serving == null ? null : OnlineLearner.evaluator(serving, learnerDevice);
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
        metrics.gauge("waitingExamples", () -> waiting.size());
        promotions = metrics.counter("promotions");
        rejections = metrics.counter("rejections");
        rollbacks = metrics.counter("rollbacks");
        refusedCommands = metrics.counter("refusedCommands");
        learned = metrics.counter("examplesLearned");
        skipped = metrics.counter("examplesSkipped");
        pace = new TrainingPace(batchSize, backlog.maxBatchSize(), backlog.maxLag().toMillis());
        sampled = 0;
        lagMillis = 0;
        metrics.gauge("trainerBatchSize", () -> pace.batch());
        metrics.gauge("trainerSampleStride", () -> pace.stride());
        metrics.gauge("trainerLagMillis", () -> lagMillis);
    }

    @Override
    public void processElement1(Example example, Context ctx, Collector<ModelUpdate> out) {
        if (alignment == TimeAlignment.NONE) {
            learn(example, ctx, out);
            return;
        }
        hold(example);
        // Fires once the watermark has passed the example; an example behind the watermark
        // already (late) is learned at the next watermark.
        ctx.timerService().registerEventTimeTimer(example.time + 1);
    }

    /** Learns, in order, every waiting example the watermark has passed. */
    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<ModelUpdate> out) {
        long watermark = ctx.timerService().currentWatermark();
        while (!waiting.isEmpty() && waiting.firstKey().time() < watermark) {
            learn(waiting.pollFirstEntry().getValue(), ctx, out);
        }
    }

    private void hold(Example example) {
        String entity = example.entity == null ? "" : example.entity;
        waiting.put(new Arrival(example.time, entity, arrivals++), example);
    }

    private void learn(Example example, Context ctx, Collector<ModelUpdate> out) {
        if (pace.stride() > 1 && ++sampled % pace.stride() != 0) {
            skipped.inc();
            return;
        }
        learned.inc();
        batch.add(example);
        if (batch.size() < pace.batch()) {
            return;
        }
        if (alignment == TimeAlignment.NONE && example.madeAt > 0) {
            keepUp(ctx.timerService().currentProcessingTime() - example.madeAt);
        }
        Batch examples = Example.batch(config.task(), batch);
        long newest = trainedUntil;
        for (Example e : batch) {
            newest = Math.max(newest, e.time);
        }
        batch.clear();
        // Prequential: both versions are scored on the batch before the learner learns from it.
        double servingLoss = servingScorer == null ? Double.NaN : servingScorer.evaluate(examples);
        lastLoss = learner.train(examples);
        trainedUntil = newest;
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

    /**
     * Live mode: sizes the next batch, then the sampling stride ({@link TrainingPace}), from how
     * long the newest example waited in front of the trainer.
     */
    private void keepUp(long lag) {
        lagMillis = lag;
        int stride = pace.stride();
        if (pace.observe(lag)) {
            LOG.warn(
                    "The trainer lags {} ms behind its examples at the largest batch ({}={});"
                            + " it now learns one example in {}",
                    lag,
                    StreamlearnOptions.MAX_BATCH_SIZE.key(),
                    backlog.maxBatchSize(),
                    pace.stride());
        }
        if (pace.stride() != stride) {
            sampled = 0;
        }
    }

    private void publish(ModelState candidate, Context ctx, Collector<ModelUpdate> out) {
        candidateVersion = candidate.version();
        PromotionGuard.Decision decision = guard.decide(candidate, serving != null);
        if (decision.promote()) {
            serve(candidate);
            promotions.inc();
            out.collect(new ModelUpdate(serving, trainedUntil));
        } else {
            rejections.inc();
            LOG.info("Model version {} {}", candidate.version(), decision.note());
        }
        ctx.output(
                SNAPSHOTS,
                withinLimit(
                        ModelSnapshots.builder(
                                        candidate,
                                        Instant.ofEpochMilli(
                                                ctx.timerService().currentProcessingTime()))
                                .setPromoted(decision.promote())
                                .setServingVersion(serving == null ? 0L : serving.version())
                                .setCandidateLoss(decision.candidateLoss())
                                .setServingLoss(decision.servingLoss())
                                .setNote(decision.note())
                                .build()));
    }

    /**
     * The snapshot, if it fits the model store's limit on one version (the Kafka store splits it
     * into records that fit the topic). One that does not is a failure the job cannot get past
     * (every version of this model is as large), so it fails here, naming the setting.
     *
     * @throws IllegalStateException naming the version, its size and the setting
     */
    private ModelSnapshot withinLimit(ModelSnapshot snapshot) {
        long bytes = ModelSnapshots.encodedSizeBound(snapshot) + RECORD_FRAMING_BYTES;
        if (bytes > maxSnapshotBytes) {
            throw new IllegalStateException(
                    String.format(
                            Locale.ROOT,
                            "model version %d makes a snapshot of up to %d bytes, more than"
                                    + " %s=%d bytes allows: raise the setting, or make the model"
                                    + " smaller (%s=%d, %s=%d)",
                            snapshot.getModelVersion(),
                            bytes,
                            StreamlearnOptions.MAX_SNAPSHOT_SIZE.key(),
                            maxSnapshotBytes,
                            StreamlearnOptions.ITEM_CAPACITY.key(),
                            config.itemCapacity(),
                            StreamlearnOptions.HIDDEN_SIZE.key(),
                            config.hiddenSize()));
        }
        return snapshot;
    }

    /** Serves a copy of the state without the optimizer's arrays (all serving needs). */
    private void serve(ModelState state) {
        serving = state.forServing();
        if (servingScorer != null) {
            servingScorer.close();
        }
        servingScorer = OnlineLearner.evaluator(serving, learnerDevice);
        guard.reset();
    }

    /**
     * A rollback: the given state, verified against its checksum, becomes the learner and serves at
     * once as the next version. A command that does not verify is refused and changes nothing.
     */
    @Override
    public void processElement2(ModelCommand command, Context ctx, Collector<ModelUpdate> out) {
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
        out.collect(new ModelUpdate(serving, trainedUntil));
        ctx.output(
                SNAPSHOTS,
                withinLimit(
                        ModelSnapshots.builder(next, Instant.ofEpochMilli(lastPublishedAt))
                                .setPromoted(true)
                                .setServingVersion(next.version())
                                .setNote("rollback to version " + command.getTargetVersion())
                                .build()));
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        modelState.update(List.of(learner.snapshot()));
        servingState.update(serving == null ? List.of() : List.of(serving));
        pendingState.update(batch);
        guardState.update(List.of(guard.toArray()));
        waitingState.update(new ArrayList<>(waiting.values()));
        trainedUntilState.update(List.of(trainedUntil));
    }

    /** A waiting example's place in the order. */
    private record Arrival(long time, String entity, long sequence) {}

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
