package io.streamlearn.jobs;

import ai.djl.Device;
import io.streamlearn.jobs.device.DeviceChoice;
import io.streamlearn.jobs.device.DeviceMode;
import io.streamlearn.jobs.device.DeviceOptions;
import io.streamlearn.models.Batch;
import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelRows;
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
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.TimeDomain;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Learns from every example: collects mini-batches of {@code batchSize}, takes one optimizer step
 * per batch, and every {@code publishEverySteps} steps (or, if set, once {@code publishInterval}
 * has passed since the last version; in live mode no sooner than {@code minPublishInterval} after
 * it) publishes the model as a new version. Any task: the examples become the {@link
 * io.streamlearn.models.Batch} of the model's task (values, windows or items).
 *
 * <p>A version goes to the model store ({@link #SNAPSHOTS}) with the metrics behind its promotion
 * decision when the store interval has passed since the last one it got (and always the first, a
 * rollback's, and the newest at the end of the input); only versions the {@link PromotionGuard}
 * promotes go to the predictors (the main output, as {@link ModelUpdate}s). To judge them, the
 * serving version scores each batch before the learner steps on it. A {@link ModelCommand} ROLLBACK
 * (second input) replaces the learner with the given verified state, published at once as the next
 * version past the guard; learning continues from it.
 *
 * <p>{@link TimeAlignment#NONE} (live): examples are learned in arrival order, and the trainer
 * never holds back the predictions. A task that stops taking input backpressures the operator that
 * feeds the predictors too, and one that takes its time to pass a checkpoint barrier stalls the
 * predictors' barrier alignment; so each step runs on a thread of the trainer's own while the task
 * keeps taking examples, and a finished step is applied (scored, published) in the task, which
 * looks for it every millisecond (a processing-time timer) and at each example. Only the step
 * thread touches the learner while a step runs; all state, timers and output stay in the task. A
 * step starts as soon as {@code batchSize} examples wait and none runs, and takes the examples that
 * wait, up to the batch {@link TrainingPace} allows: that grows, and then the sampling stride (one
 * example in 2, 4, ... is learned, the others counted in {@code examplesSkipped}), while the newest
 * example of a batch waited longer than {@link JobSettings.Backlog#maxLag()}, and comes back under
 * half of it. No more than {@link JobSettings.Backlog#maxBatchSize()} examples wait while a step
 * runs: then the task waits for the step, but only until the oldest has waited the max lag, and
 * then keeps every second one (a sample of the backlog, the newest kept densest). So a trainer
 * given a long max lag learns every example, in batches of {@code batchSize} whatever the timing,
 * and a slow step holds the predictions back for no longer than the max lag. The pace is not state:
 * a restored trainer starts from {@code batchSize}.
 *
 * <p>{@link TimeAlignment#EVENT_TIME}: examples wait in state, ordered by (event time, entity,
 * arrival), and are learned in the task, in batches of {@code batchSize}, once the watermark has
 * passed them (an event-time timer at time + 1), so every version emitted before watermark W holds
 * only examples earlier than W, and the order (hence the model) does not depend on how parallel
 * upstream subtasks interleave. The watermark goes on to the predictors only after those versions:
 * Flink fires the timers, then forwards it.
 *
 * <p>Runs with parallelism 1 (one model), keyed by the constant {@link #KEY} so that it may use
 * timers and keyed state. Its state (the learner's {@link ModelState}, the serving version, the
 * guard's recent losses, the examples not yet learned and those waiting for the watermark) is in
 * every checkpoint, so a restored trainer continues from exactly the step it had. The item tables'
 * rows of the two models are keyed state, one entry per row ({@link ModelRows}), rewritten only
 * where they changed since the last checkpoint (the rows the learner reports its steps changed; for
 * the serving version, those that differ from the one served before), so that with RocksDB's
 * incremental checkpoints a checkpoint grows with the rows learned from, not with the catalogue;
 * the rest of each model, and everything else, is operator state. Keyed state is read with the key
 * set, so the learner starts at the first element, timer or command after {@code open()}.
 * Checkpoints of builds that kept each model whole in operator state still restore. A checkpoint
 * does not wait for a step in flight: it holds the state the learner last had with no step running,
 * the batches of the steps applied since (a restored trainer takes them again, bit-exact, before
 * anything else) and, as not yet learned, the step's examples and those waiting after them. A job
 * that starts without state begins from the warm-start model if it was given one.
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

    /**
     * Live mode: the most steps applied since the learner's state was last copied that a checkpoint
     * taken during a step carries (as batches to take again on restore). Past it, the state is
     * copied between two steps. Publishing a version copies it anyway, so this bound is reached
     * only where {@code minPublishInterval} spaces versions more than 16 steps apart.
     */
    static final int MAX_STEPS_TO_REPLAY = 16;

    /** How long closing waits for a step in flight before it leaves the closing to its thread. */
    private static final long CLOSE_WAIT_SECONDS = 30;

    /** Published versions, promoted or not, for the model store (one per store interval). */
    public static final OutputTag<ModelSnapshot> SNAPSHOTS =
            new OutputTag<>("snapshots", new AvroTypeInfo<>(ModelSnapshot.class));

    private final ModelConfig config;
    private final int batchSize;
    private final int publishEverySteps;
    private final long publishIntervalMillis;
    private final long minPublishMillis;
    private final int promotionWindow;
    private final double maxLossIncrease;
    private final byte[] warmStart;
    private final DeviceMode device;
    private final TimeAlignment alignment;
    private final long maxSnapshotBytes;
    private final long storeIntervalMillis;
    private final JobSettings.Backlog backlog;

    private transient ListState<ModelState> modelState;
    private transient ListState<byte[]> restState;
    private transient MapState<Integer, byte[]> rowState;
    private transient byte[] restoredRest;
    private transient ModelRows.Assembly restoredRows;
    private transient BitSet unwritten;
    private transient BitSet changedSinceSettled;
    private transient ListState<byte[]> servingRestState;
    private transient MapState<Integer, byte[]> servingRowState;
    private transient byte[] restoredServingRest;
    private transient ModelRows.Assembly restoredServingRows;
    private transient BitSet servingUnwritten;
    private transient ListState<Example> waitingState;
    private transient ListState<Long> trainedUntilState;
    private transient ListState<Integer> replayState;
    private transient TreeMap<Arrival, Example> waiting;
    private transient long arrivals;
    private transient long trainedUntil;
    private transient ListState<ModelState> servingState;
    private transient ListState<Example> pendingState;
    private transient ListState<double[]> guardState;
    private transient ModelState restored;
    private transient List<Integer> toReplay;
    private transient ModelState serving;
    private transient List<Example> queued;
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
    private transient volatile long lagMillis;
    private transient volatile long stepSeen;
    private transient volatile long versionSeen;

    /** The restored serving version, for the gauge until the learner starts; 0 if none. */
    private transient long servingSeen;

    private transient volatile int queuedSeen;
    private transient ExecutorService stepper;
    private transient Running running;
    private transient boolean thinnedDuringStep;
    private transient ModelState settled;
    private transient List<List<Example>> sinceSettled;
    private transient boolean endTimerSet;
    private transient long lastStoredAt;
    private transient Supplier<ModelSnapshot> unstored;

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
                Duration.ZERO,
                20,
                Double.POSITIVE_INFINITY,
                null,
                device,
                TimeAlignment.NONE,
                StreamlearnOptions.MAX_SNAPSHOT_SIZE.defaultValue().getBytes(),
                Duration.ZERO,
                JobSettings.Backlog.defaults());
    }

    /**
     * @param publishInterval also publish once this much processing time passed since the last
     *     version; zero publishes on steps only (deterministic)
     * @param minPublishInterval live mode: the least processing time between two versions after the
     *     first ({@code streamlearn.trainer.min-publish-interval}); a version due by steps sooner
     *     waits for the first step after it. Zero, and event-time alignment, publish on steps only
     * @param promotionWindow most recent batches over which versions are compared
     * @param maxLossIncrease how much worse (relative) than the serving version a candidate may be
     * @param warmStart the model a job without state starts from; null for fresh weights
     * @param device where it learns ({@code streamlearn.trainer.device})
     * @param alignment in which order and when examples are learned
     * @param maxSnapshotBytes the largest snapshot it may send to the model store ({@code
     *     streamlearn.model-store.max-snapshot-size})
     * @param storeInterval the least processing time between two versions sent to the model store
     *     ({@code streamlearn.model-store.interval}); zero sends every version
     * @param backlog live mode: how far the batch grows, and when, while the trainer lags
     */
    public Trainer(
            ModelConfig config,
            int batchSize,
            int publishEverySteps,
            Duration publishInterval,
            Duration minPublishInterval,
            int promotionWindow,
            double maxLossIncrease,
            ModelState warmStart,
            DeviceMode device,
            TimeAlignment alignment,
            long maxSnapshotBytes,
            Duration storeInterval,
            JobSettings.Backlog backlog) {
        this.config = config;
        this.batchSize = batchSize;
        this.publishEverySteps = publishEverySteps;
        this.publishIntervalMillis = publishInterval.toMillis();
        this.minPublishMillis = alignment == TimeAlignment.NONE ? minPublishInterval.toMillis() : 0;
        this.promotionWindow = promotionWindow;
        this.maxLossIncrease = maxLossIncrease;
        this.warmStart = warmStart == null ? null : warmStart.encode();
        this.device = device;
        this.alignment = alignment;
        this.maxSnapshotBytes = maxSnapshotBytes;
        this.storeIntervalMillis = storeInterval.toMillis();
        this.backlog = backlog;
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        var store = context.getOperatorStateStore();
        // The whole learner state, as builds before the item rows were keyed state wrote it: read
        // on restore, no longer written.
        modelState =
                store.getListState(
                        new ListStateDescriptor<>("trainer-model", ModelStateTypeInfo.INSTANCE));
        restState =
                store.getListState(
                        new ListStateDescriptor<>(
                                "trainer-model-rest",
                                PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        rowState =
                context.getKeyedStateStore()
                        .getMapState(
                                new MapStateDescriptor<>(
                                        "trainer-model-rows",
                                        Types.INT,
                                        PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        // As trainer-model: written whole by earlier builds, read on restore.
        servingState =
                store.getListState(
                        new ListStateDescriptor<>("trainer-serving", ModelStateTypeInfo.INSTANCE));
        servingRestState =
                store.getListState(
                        new ListStateDescriptor<>(
                                "trainer-serving-rest",
                                PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        servingRowState =
                context.getKeyedStateStore()
                        .getMapState(
                                new MapStateDescriptor<>(
                                        "trainer-serving-rows",
                                        Types.INT,
                                        PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
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
        // Sizes of the batches at the head of trainer-batch that steps had already learned when
        // a checkpoint was taken during a later step; absent in checkpoints of earlier builds.
        replayState = store.getListState(new ListStateDescriptor<>("trainer-replay", Types.INT));
        queued = new ArrayList<>();
        toReplay = new ArrayList<>();
        waiting = new TreeMap<>(ORDER);
        arrivals = 0;
        trainedUntil = ModelUpdate.NOTHING_LEARNED;
        guard = new PromotionGuard(promotionWindow, maxLossIncrease);
        restored = null;
        restoredRest = null;
        restoredRows = null;
        serving = null;
        restoredServingRest = null;
        restoredServingRows = null;
        if (context.isRestored()) {
            for (ModelState state : modelState.get()) {
                restored = state;
            }
            for (byte[] rest : restState.get()) {
                restoredRest = rest;
                restoredRows = ModelRows.assemble(rest);
                restored = null;
            }
            for (ModelState state : servingState.get()) {
                serving = state;
            }
            for (byte[] rest : servingRestState.get()) {
                restoredServingRest = rest;
                restoredServingRows = ModelRows.assemble(rest);
                serving = null;
            }
            for (Example example : pendingState.get()) {
                queued.add(example);
            }
            for (Integer size : replayState.get()) {
                toReplay.add(size);
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
        learner = null;
        servingScorer = null;
        // Until the first element, timer or command starts the learner (start()).
        if (restoredRows != null) {
            stepSeen = restoredRows.step();
            versionSeen = restoredRows.version();
        } else if (restored != null) {
            stepSeen = restored.step();
            versionSeen = restored.version();
        } else {
            stepSeen = 0;
            versionSeen = 0;
        }
        // The restored serving version (rows, or an older build's whole state), so that the gauge
        // shows it before the first element starts the learner.
        if (restoredServingRows != null) {
            servingSeen = restoredServingRows.version();
        } else {
            servingSeen = serving == null ? 0L : serving.version();
        }
        candidateVersion = versionSeen;
        lastStoredAt = Long.MIN_VALUE;
        unstored = null;
        lastLoss = Double.NaN;
        queuedSeen = queued.size();
        running = null;
        endTimerSet = false;
        sinceSettled = new ArrayList<>();
        settled = null;
        unwritten = new BitSet();
        changedSinceSettled = new BitSet();
        servingUnwritten = new BitSet();
        if (alignment == TimeAlignment.NONE) {
            String name =
                    "trainer-steps " + getRuntimeContext().getTaskInfo().getTaskNameWithSubtasks();
            stepper =
                    Executors.newSingleThreadExecutor(
                            task -> {
                                Thread thread = new Thread(task, name);
                                thread.setDaemon(true);
                                return thread;
                            });
        }
        var metrics = getRuntimeContext().getMetricGroup();
        choice.register(metrics, "trainer");
        // Copies kept by the task: a step in flight holds the learner's lock.
        metrics.gauge("trainerStep", () -> stepSeen);
        metrics.gauge("trainerVersion", () -> versionSeen);
        metrics.gauge("trainerLoss", () -> lastLoss);
        metrics.gauge("candidateVersion", () -> candidateVersion);
        metrics.gauge("servingVersion", this::servingVersion);
        metrics.gauge("waitingExamples", () -> waiting.size());
        metrics.gauge("trainerBacklog", () -> queuedSeen);
        promotions = metrics.counter("promotions");
        rejections = metrics.counter("rejections");
        rollbacks = metrics.counter("rollbacks");
        refusedCommands = metrics.counter("refusedCommands");
        learned = metrics.counter("examplesLearned");
        skipped = metrics.counter("examplesSkipped");
        pace = new TrainingPace(batchSize, backlog.maxBatchSize(), backlog.maxLag().toMillis());
        lagMillis = 0;
        metrics.gauge("trainerBatchSize", () -> pace.batch());
        metrics.gauge("trainerSampleStride", () -> pace.stride());
        metrics.gauge("trainerLagMillis", () -> lagMillis);
    }

    /**
     * Makes the learner, at the first element, timer or command after {@link #open}: a trainer
     * restored with its item rows in keyed state can read them only with the key set, which {@code
     * open()} does not have. It starts from the restored state (rows and rest, or the whole state
     * of an earlier build), else the warm-start model, else fresh weights; a restored one then
     * takes again the steps its checkpoint holds as learned after its state ({@link #replay}).
     */
    private void start() throws Exception {
        ModelState from = restored;
        boolean rowsCurrent = false;
        if (restoredRows != null) {
            for (Map.Entry<Integer, byte[]> row : rowState.entries()) {
                restoredRows.put(row.getKey(), row.getValue());
            }
            from = restoredRows.build();
            rowsCurrent = true;
        }
        if (from != null) {
            if (!from.config().equals(config)) {
                LOG.warn(
                        "Restored model was trained with {}, the job now says {}; keeping the"
                                + " restored one",
                        from.config(),
                        config);
            }
            learner = OnlineLearner.restore(from, learnerDevice);
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
        if (!rowsCurrent) {
            // Nothing of this state is in the keyed rows yet: the next checkpoint writes them all.
            rowState.clear();
            unwritten.set(0, ModelRows.rows(learner.config()));
        }
        if (restoredServingRows != null) {
            for (Map.Entry<Integer, byte[]> row : servingRowState.entries()) {
                restoredServingRows.put(row.getKey(), row.getValue());
            }
            serving = restoredServingRows.build();
        } else {
            servingRowState.clear();
            if (serving != null) {
                servingUnwritten.set(0, ModelRows.rows(serving.config()));
            }
        }
        replay();
        unwritten.or(learner.takeChangedRows());
        if (from != null) {
            LOG.info(
                    "Trainer restored at step {} version {} (serving {}) with {} pending examples",
                    learner.step(),
                    learner.version(),
                    serving == null ? "none" : serving.version(),
                    queued.size());
        }
        servingScorer = serving == null ? null : OnlineLearner.evaluator(serving, learnerDevice);
        lastPublishedStep = learner.step();
        lastPublishedAt = Long.MIN_VALUE; // set from the task's clock at the first batch
        candidateVersion = learner.version();
        stepSeen = learner.step();
        versionSeen = learner.version();
        if (stepper != null) {
            settled = learner.snapshot();
        }
        restored = null;
        restoredRest = null;
        restoredRows = null;
        restoredServingRest = null;
        restoredServingRows = null;
    }

    /**
     * A restored trainer first takes again the steps its checkpoint holds as already learned (taken
     * after the checkpoint's model state, while a later step was in flight), in their batches: the
     * learner is then exactly where it was when that step started.
     */
    private void replay() {
        for (int size : toReplay) {
            if (size < 1 || size > queued.size()) {
                throw new IllegalStateException(
                        "trainer checkpoint holds a batch of "
                                + size
                                + " examples to learn again, but "
                                + queued.size()
                                + " pending examples");
            }
            List<Example> head = queued.subList(0, size);
            learner.train(Example.batch(config.task(), head));
            head.clear();
        }
        if (!toReplay.isEmpty()) {
            LOG.info(
                    "Trainer took again the {} steps learned after its checkpoint's model state",
                    toReplay.size());
        }
        toReplay.clear();
    }

    @Override
    public void processElement1(Example example, Context ctx, Collector<ModelUpdate> out)
            throws Exception {
        if (learner == null) {
            start();
        }
        if (!endTimerSet) {
            // Fires only at the end of the input (a finished input's watermark is the end of
            // time): the step in flight and those after it are applied, and the last version is
            // stored, before the task ends.
            ctx.timerService().registerEventTimeTimer(Long.MAX_VALUE);
            endTimerSet = true;
        }
        if (alignment == TimeAlignment.NONE) {
            if (running != null && running.result().isDone()) {
                applyRunning(ctx, out);
                takeSteps(ctx, out);
            }
            learn(example, ctx, out);
            return;
        }
        hold(example);
        // Fires once the watermark has passed the example; an example behind the watermark
        // already (late) is learned at the next watermark.
        ctx.timerService().registerEventTimeTimer(example.time + 1);
    }

    /**
     * Event-time alignment: learns, in order, every waiting example the watermark has passed. Live
     * mode: a processing-time timer looks for the step in flight (its thread cannot call into the
     * task); the event-time one is the end of the input, which waits for every step.
     */
    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<ModelUpdate> out)
            throws Exception {
        if (learner == null) {
            start();
        }
        if (alignment == TimeAlignment.NONE) {
            if (ctx.timeDomain() == TimeDomain.EVENT_TIME) {
                takeSteps(ctx, out);
                while (running != null) {
                    applyRunning(ctx, out);
                    takeSteps(ctx, out);
                }
                storeLast(ctx);
            } else if (running == null) {
                // A poll restored from a checkpoint: the examples restored with it may be due.
                takeSteps(ctx, out);
            } else if (running.result().isDone()) {
                applyRunning(ctx, out);
                takeSteps(ctx, out);
            } else {
                poll(ctx);
            }
            return;
        }
        long watermark = ctx.timerService().currentWatermark();
        while (!waiting.isEmpty() && waiting.firstKey().time() < watermark) {
            learn(waiting.pollFirstEntry().getValue(), ctx, out);
        }
        if (timestamp == Long.MAX_VALUE) {
            storeLast(ctx);
        }
    }

    private void hold(Example example) {
        String entity = example.entity == null ? "" : example.entity;
        waiting.put(new Arrival(example.time, entity, arrivals++), example);
    }

    /** Queues the example for a step (unless the pace's stride leaves it out), and steps. */
    private void learn(Example example, Context ctx, Collector<ModelUpdate> out) {
        if (!pace.keep()) {
            skipped.inc();
            return;
        }
        queued.add(example);
        if (running == null) {
            takeSteps(ctx, out);
        } else if (queued.size() >= backlog.maxBatchSize()) {
            makeRoom(ctx, out);
        }
        queuedSeen = queued.size();
    }

    /**
     * Starts steps while at least {@code batchSize} examples wait and no step runs: in the task
     * (event-time alignment), one after another; live, the one it hands to the step thread.
     */
    private void takeSteps(Context ctx, Collector<ModelUpdate> out) {
        while (running == null && queued.size() >= batchSize) {
            startStep(ctx, out);
        }
    }

    /**
     * Takes the examples that wait, up to the pace's batch ({@code batchSize} in event-time
     * alignment), for one step. Live mode: sizes the batches after it from how long its newest
     * example waited, and hands the step to the step thread.
     */
    private void startStep(Context ctx, Collector<ModelUpdate> out) {
        int size = Math.min(queued.size(), pace.batch());
        List<Example> head = queued.subList(0, size);
        List<Example> taken = new ArrayList<>(head);
        head.clear();
        queuedSeen = queued.size();
        long now = ctx.timerService().currentProcessingTime();
        long madeAt = taken.get(size - 1).madeAt;
        if (alignment == TimeAlignment.NONE && madeAt > 0) {
            keepUp(now - madeAt);
        }
        long newest = trainedUntil;
        for (Example e : taken) {
            newest = Math.max(newest, e.time);
        }
        learned.inc(size);
        Batch examples = Example.batch(config.task(), taken);
        // What the step uses, fixed now: a rollback or a promotion replaces them, in the task.
        OnlineLearner student = learner;
        OnlineLearner scorer = servingScorer;
        if (stepper == null) {
            apply(step(student, scorer, examples), new Running(null, taken, newest, now), ctx, out);
            return;
        }
        running =
                new Running(
                        stepper.submit(() -> step(student, scorer, examples)), taken, newest, now);
        thinnedDuringStep = false;
        poll(ctx);
    }

    /** The version serving: the gauge {@code servingVersion}. */
    long servingVersion() {
        ModelState now = serving;
        return now == null ? servingSeen : now.version();
    }

    /**
     * The step in flight (live mode), for harness tests, which wait on it and then advance the
     * processing time to the poll that applies it; null when none runs.
     */
    Future<?> stepInFlight() {
        return running == null ? null : running.result();
    }

    /** Looks for the step in flight again in a millisecond. */
    private void poll(Context ctx) {
        ctx.timerService()
                .registerProcessingTimeTimer(ctx.timerService().currentProcessingTime() + 1);
    }

    /**
     * One step, on the step thread in live mode. Prequential: the serving version scores the batch
     * before the learner learns from it.
     */
    private static Step step(OnlineLearner learner, OnlineLearner scorer, Batch examples) {
        double servingLoss = scorer == null ? Double.NaN : scorer.evaluate(examples);
        return new Step(learner.train(examples), servingLoss);
    }

    /** Waits for the step in flight and applies it; starts no other. */
    private void applyRunning(Context ctx, Collector<ModelUpdate> out) {
        Running step = running;
        Step done = awaitResult(step.result(), Long.MAX_VALUE);
        running = null;
        apply(done, step, ctx, out);
    }

    /**
     * The step's result once it is done, or null if it is not within {@code millis}.
     *
     * @throws IllegalStateException if the step failed, naming its cause
     */
    private static Step awaitResult(Future<Step> result, long millis) {
        try {
            return result.get(millis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a training step", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(
                    "a training step failed: " + e.getCause(), e.getCause());
        }
    }

    /**
     * Live mode, as many examples wait as the largest batch while a step runs: waits for the step
     * (backpressure, as a trainer stepping in its task would), but only until the oldest example
     * has waited the max lag; then keeps a sample of them ({@link #thin}).
     */
    private void makeRoom(Context ctx, Collector<ModelUpdate> out) {
        long oldest = queued.get(0).madeAt;
        long left =
                oldest <= 0
                        ? Long.MAX_VALUE
                        : backlog.maxLag().toMillis()
                                - (ctx.timerService().currentProcessingTime() - oldest);
        if (left > 0) {
            Step done = awaitResult(running.result(), left);
            if (done != null) {
                applyRunning(ctx, out);
                takeSteps(ctx, out);
                return;
            }
        }
        thin();
    }

    /**
     * Keeps every second waiting example ({@link TrainingPace#everySecond}) and counts the others
     * as skipped.
     */
    private void thin() {
        List<Example> kept = TrainingPace.everySecond(queued);
        skipped.inc(queued.size() - kept.size());
        queued = kept;
        if (!thinnedDuringStep) {
            thinnedDuringStep = true;
            LOG.warn(
                    "{} examples wait for the trainer's step in flight ({}={}, {}={}): it keeps a"
                            + " sample of them until the step ends",
                    backlog.maxBatchSize(),
                    StreamlearnOptions.MAX_BATCH_SIZE.key(),
                    backlog.maxBatchSize(),
                    StreamlearnOptions.MAX_LAG.key(),
                    backlog.maxLag());
        }
    }

    /** Records a finished step and publishes a version when one is due; in the task. */
    private void apply(Step done, Running step, Context ctx, Collector<ModelUpdate> out) {
        (stepper == null ? unwritten : changedSinceSettled).or(learner.takeChangedRows());
        lastLoss = done.loss();
        trainedUntil = step.newest();
        if (servingScorer != null) {
            guard.record(lastLoss, done.servingLoss());
        }
        long steps = learner.step();
        // The time the step was taken at, as a trainer stepping in its task sees it: decisions
        // do not depend on when the task noticed the step was done.
        long now = step.startedAt();
        if (lastPublishedAt == Long.MIN_VALUE) {
            lastPublishedAt = now;
        }
        // The first version comes on steps alone: the predictors wait for it.
        boolean due =
                TrainingPace.versionDue(
                                steps,
                                lastPublishedStep,
                                publishEverySteps,
                                now,
                                lastPublishedAt,
                                serving == null ? 0 : minPublishMillis)
                        || (publishIntervalMillis > 0
                                && now - lastPublishedAt >= publishIntervalMillis);
        if (steps != lastPublishedStep && due) {
            learner.nextVersion();
            lastPublishedStep = steps;
            lastPublishedAt = now;
            ModelState candidate = learner.snapshot();
            settle(candidate);
            publish(candidate, ctx, out);
        } else if (stepper != null) {
            sinceSettled.add(step.examples());
            if (sinceSettled.size() > MAX_STEPS_TO_REPLAY) {
                settle(learner.snapshot());
            }
        }
        stepSeen = steps;
        versionSeen = learner.version();
    }

    /**
     * Live mode: the learner's state with no step running, which a checkpoint taken during a later
     * step holds (with the batches learned since).
     */
    private void settle(ModelState state) {
        if (stepper != null) {
            settled = state;
            sinceSettled.clear();
            unwritten.or(changedSinceSettled);
            changedSinceSettled.clear();
        }
    }

    /**
     * Live mode: sizes the next batch, then the sampling stride ({@link TrainingPace}), from how
     * long the newest example of a batch waited for its step.
     */
    private void keepUp(long lag) {
        lagMillis = lag;
        if (pace.observe(lag)) {
            LOG.warn(
                    "The trainer lags {} ms behind its examples at the largest batch ({}={});"
                            + " it now learns one example in {}",
                    lag,
                    StreamlearnOptions.MAX_BATCH_SIZE.key(),
                    backlog.maxBatchSize(),
                    pace.stride());
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
        long now = ctx.timerService().currentProcessingTime();
        long servingVersion = serving == null ? 0L : serving.version();
        store(
                () ->
                        ModelSnapshots.builder(candidate, Instant.ofEpochMilli(now))
                                .setPromoted(decision.promote())
                                .setServingVersion(servingVersion)
                                .setCandidateLoss(decision.candidateLoss())
                                .setServingLoss(decision.servingLoss())
                                .setNote(decision.note())
                                .build(),
                now,
                false,
                ctx);
    }

    /**
     * Sends a published version to the model store if it is due: always, or once the store interval
     * has passed since the last one sent. One that is not due is kept (unencoded) until the next is
     * published, to be sent at the end of the input if none is.
     */
    private void store(Supplier<ModelSnapshot> snapshot, long now, boolean always, Context ctx) {
        if (always || lastStoredAt == Long.MIN_VALUE || now - lastStoredAt >= storeIntervalMillis) {
            ctx.output(SNAPSHOTS, withinLimit(snapshot.get()));
            lastStoredAt = now;
            unstored = null;
        } else {
            unstored = snapshot;
        }
    }

    /** The end of the input: the newest version goes to the model store if it has not. */
    private void storeLast(Context ctx) {
        if (unstored != null) {
            ctx.output(SNAPSHOTS, withinLimit(unstored.get()));
            unstored = null;
        }
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
        ModelState next = state.forServing();
        // The rows the checkpoint rewrites: those that differ from the version served before
        // (found by comparing them; the steps between them are not counted here), all of them if
        // it is another model altogether.
        if (serving != null && !serving.config().equals(next.config())) {
            // A rollback to a model of another shape: no row of the old one may stay behind.
            servingRowState.clear();
        }
        servingUnwritten.or(ModelRows.differingRows(serving, next));
        serving = next;
        if (servingScorer != null) {
            servingScorer.close();
        }
        servingScorer = OnlineLearner.evaluator(serving, learnerDevice);
        guard.reset();
    }

    /**
     * A rollback: the given state, verified against its checksum, becomes the learner and serves at
     * once as the next version. A command that does not verify is refused and changes nothing. A
     * step in flight is applied first.
     */
    @Override
    public void processElement2(ModelCommand command, Context ctx, Collector<ModelUpdate> out)
            throws Exception {
        if (learner == null) {
            start();
        }
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
        if (running != null) {
            applyRunning(ctx, out);
        }
        ModelState next = target.withVersion(learner.version() + 1);
        learner.close();
        learner = OnlineLearner.restore(next, learnerDevice);
        settle(next);
        // Another state altogether: every row is rewritten, the table's size may differ.
        rowState.clear();
        unwritten.clear();
        unwritten.set(0, ModelRows.rows(next.config()));
        lastPublishedStep = learner.step();
        lastPublishedAt = ctx.timerService().currentProcessingTime();
        candidateVersion = next.version();
        stepSeen = learner.step();
        versionSeen = learner.version();
        serve(next);
        rollbacks.inc();
        LOG.warn(
                "Rolled back to model version {}: serving it as version {}",
                command.getTargetVersion(),
                next.version());
        out.collect(new ModelUpdate(serving, trainedUntil));
        long now = lastPublishedAt;
        store(
                () ->
                        ModelSnapshots.builder(next, Instant.ofEpochMilli(now))
                                .setPromoted(true)
                                .setServingVersion(next.version())
                                .setNote("rollback to version " + command.getTargetVersion())
                                .build(),
                now,
                true,
                ctx);
        takeSteps(ctx, out);
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        if (learner == null) {
            // Not started since the restore (no element, timer or command yet): the checkpoint
            // holds the state as restored, its keyed rows untouched.
            modelState.update(restored == null ? List.of() : List.of(restored));
            restState.update(restoredRest == null ? List.of() : List.of(restoredRest));
            servingState.update(serving == null ? List.of() : List.of(serving));
            servingRestState.update(
                    restoredServingRest == null ? List.of() : List.of(restoredServingRest));
            pendingState.update(queued);
            replayState.update(toReplay);
        } else if (running == null) {
            writeServing();
            ModelState now = learner.snapshot();
            settle(now);
            writeModel(now);
            pendingState.update(queued);
            replayState.update(List.of());
        } else {
            // Not waited for (the predictors would wait for this checkpoint's barrier too): the
            // state with no step running, the batches learned since, then the step's examples and
            // those after them, not learned yet.
            List<Example> pending = new ArrayList<>();
            List<Integer> replay = new ArrayList<>();
            for (List<Example> steps : sinceSettled) {
                pending.addAll(steps);
                replay.add(steps.size());
            }
            pending.addAll(running.examples());
            pending.addAll(queued);
            writeServing();
            writeModel(settled);
            pendingState.update(pending);
            replayState.update(replay);
        }
        guardState.update(List.of(guard.toArray()));
        waitingState.update(new ArrayList<>(waiting.values()));
        trainedUntilState.update(List.of(trainedUntil));
    }

    /**
     * Writes the learner state a checkpoint holds: its rest as one value, and the rows in which it
     * differs from the keyed rows (those written before, or restored) as keyed state, one entry per
     * row. Rows no step changed since are not written again: with RocksDB's incremental
     * checkpoints, a checkpoint uploads what changed, not the whole table.
     */
    private void writeModel(ModelState state) throws Exception {
        modelState.update(List.of());
        restState.update(List.of(ModelRows.encodeRest(state)));
        for (int row = unwritten.nextSetBit(0); row >= 0; row = unwritten.nextSetBit(row + 1)) {
            rowState.put(row, ModelRows.encodeRow(state, row));
        }
        unwritten.clear();
    }

    /** Writes the serving version as {@link #writeModel} writes the learner's state. */
    private void writeServing() throws Exception {
        servingState.update(List.of());
        servingRestState.update(
                serving == null ? List.of() : List.of(ModelRows.encodeRest(serving)));
        for (int row = servingUnwritten.nextSetBit(0);
                row >= 0;
                row = servingUnwritten.nextSetBit(row + 1)) {
            servingRowState.put(row, ModelRows.encodeRow(serving, row));
        }
        servingUnwritten.clear();
    }

    /** A waiting example's place in the order. */
    private record Arrival(long time, String entity, long sequence) {}

    /** A finished step: its loss, and the serving version's loss on the same batch before it. */
    private record Step(float loss, double servingLoss) {}

    /**
     * A step taken: its result on the step thread (null for a step taken in the task), its
     * examples, the newest event time among them and all learned before, and the processing time it
     * was taken at.
     */
    private record Running(
            Future<Step> result, List<Example> examples, long newest, long startedAt) {}

    @Override
    public void close() {
        OnlineLearner student = learner;
        OnlineLearner scorer = servingScorer;
        learner = null;
        servingScorer = null;
        if (stepper == null) {
            closeAll(student, scorer);
            return;
        }
        // After the step in flight, if any: the learner must not close under it.
        stepper.execute(() -> closeAll(student, scorer));
        stepper.shutdown();
        try {
            if (!stepper.awaitTermination(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS)) {
                LOG.warn(
                        "The trainer's step in flight did not end within {} s of closing; its"
                                + " thread closes the learner when it does",
                        CLOSE_WAIT_SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stepper = null;
    }

    private static void closeAll(OnlineLearner... learners) {
        for (OnlineLearner l : learners) {
            if (l != null) {
                l.close();
            }
        }
    }
}
