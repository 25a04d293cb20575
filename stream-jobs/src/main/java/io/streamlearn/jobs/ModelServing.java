package io.streamlearn.jobs;

import ai.djl.Device;
import io.streamlearn.jobs.device.DeviceChoice;
import io.streamlearn.jobs.device.DeviceMode;
import io.streamlearn.jobs.device.DeviceOptions;
import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelState;
import io.streamlearn.models.OnlineLearner;
import io.streamlearn.state.ModelStateTypeInfo;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ReadOnlyBroadcastState;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.TimeDomain;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the models the {@link Trainer} promotes to keyed queries (one entity's windows or
 * histories): what the forecasting and the recommendation predictors share. A subclass only says
 * how one query is answered by one model ({@link #serve}); this class decides which model answers
 * it, and when.
 *
 * <p>{@link TimeAlignment#NONE} (live): a query is answered at once by the newest version, kept in
 * broadcast state under {@link #MODEL}. Queries that arrive before the first version are buffered
 * in keyed state, not dropped, and a processing-time timer per buffering entity flushes them in
 * order once a model is there. Versions only move forward, so a version re-sent after a restore
 * never rolls serving back.
 *
 * <p>{@link TimeAlignment#EVENT_TIME} (causal): every query waits in keyed state until the
 * watermark passes its event time (an event-time timer), then is answered by the newest version
 * whose {@link ModelUpdate#trainedUntil()} is earlier than the query: a model that has learned only
 * from earlier examples. The watermark here is the smaller of the queries' and the trainer's, and
 * the trainer forwards a watermark only after the versions trained below it, so that version has
 * arrived when the timer fires. The trainer may run ahead of a predictor, so versions are kept by
 * the time of their newest example ({@link #MODELS_BY_TIME}): all those at or after the watermark
 * and the newest before it. Before any version, the model the config's seed defines (version 0,
 * what the trainer starts from) or the warm-start model answers, so nothing waits forever. An
 * entity's queries are answered in arrival order.
 *
 * <p>A query that arrives behind the watermark (late) is answered at once by the newest kept
 * version before it, or, when the version it would need was already let go, by the oldest kept one:
 * the one place alignment gives up strict causality. (If its entity has queries waiting, it joins
 * them and is answered as they are.) Late queries are counted in {@code lateQueries}. A predictor
 * restored at another parallelism takes another subtask's kept versions, which may hold fewer old
 * ones; docs/time-alignment.md discusses both.
 *
 * <p>Answers are computed in batches when the function runs in {@link BatchedServing} (the jobs'
 * wiring): a subclass {@link #prepare prepares} each query with its entity's state, the queries
 * that arrive together are answered by one {@link #compute forward pass}, and each answer is {@link
 * #complete completed} with its entity's state again, in arrival order. A batch holds one model
 * version, and, where a forward pass needs the entity's previous answer ({@link #chainsAnswers}: a
 * carried recurrent state), at most one query per entity (a second one flushes the batch first).
 * Otherwise an entity's queries share a batch: what an answer needs from the previous one (the last
 * forecast it scores, the last list) is read when it is completed. It is flushed when it holds
 * {@code streamlearn.predictor.batch-size} queries, {@code streamlearn.predictor.max-delay} after
 * its first query, before every checkpoint barrier and at the end of the input; a watermark waits
 * for the batch, so no answer follows the watermark that released it. Every entity's answers keep
 * their order, and a checkpoint never holds a query that was taken from state but not answered. Run
 * by Flink's own operator ({@code .process}), each query is a batch of its own. The models' answers
 * do not depend on the batch a row is computed in (models' {@code RowBlocks}), so batching leaves
 * event-time replays deterministic; docs/time-alignment.md.
 *
 * <p>The model math runs on the device {@code streamlearn.predictor.device} chooses ({@link
 * DeviceChoice}; the CPU by default), exported as the gauges {@code predictorGpu} and {@code
 * predictorAssignedGpu}.
 *
 * @param <Q> the query type, one per event
 * @param <A> one answer while it is being computed: what {@link #prepare} read, then the model's
 *     result
 * @param <O> the answer type
 */
public abstract class ModelServing<Q, A, O>
        extends KeyedBroadcastProcessFunction<String, Q, ModelUpdate, O> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ModelServing.class);

    /** Live serving: the newest promoted version, under one key. */
    public static final MapStateDescriptor<String, ModelState> MODEL =
            new MapStateDescriptor<>("model", Types.STRING, ModelStateTypeInfo.INSTANCE);

    /** Event-time serving: promoted versions by the event time of their newest example. */
    public static final MapStateDescriptor<Long, ModelState> MODELS_BY_TIME =
            new MapStateDescriptor<>("models-by-time", Types.LONG, ModelStateTypeInfo.INSTANCE);

    private static final String CURRENT = "current";

    private final TypeInformation<Q> queryType;
    private final ModelConfig config;
    private final TimeAlignment alignment;
    private final long retryMillis;
    private final byte[] warmStart;
    private final DeviceMode device;
    private final Batching batching;
    private transient ModelState initial;
    private transient WaitingQueries<Q> waiting;
    private transient Counter buffered;
    private transient Counter lateQueries;
    private transient Counter batches;
    private transient Counter served;
    private transient Host<O> host;
    private transient List<Queued<A>> batch;
    private transient Set<Object> batchKeys;
    private transient ModelState batchModel;

    /** The device the model math runs on, chosen in {@link #open}. */
    protected transient Device inferenceDevice;

    /**
     * @param queryType how queries are kept in state while they wait
     * @param config the model's config: version 0 in event-time alignment; may be null otherwise
     * @param alignment when queries are answered, and by which version
     * @param retryMillis live serving before the first model: how often buffered queries check
     * @param warmStart served until the trainer broadcasts a newer version; null for none
     * @param device where the model math runs ({@code streamlearn.predictor.device})
     * @param batching how many queries one forward pass answers at most, and how long the first one
     *     waits for others
     */
    protected ModelServing(
            TypeInformation<Q> queryType,
            ModelConfig config,
            TimeAlignment alignment,
            long retryMillis,
            ModelState warmStart,
            DeviceMode device,
            Batching batching) {
        if (alignment == TimeAlignment.EVENT_TIME && config == null && warmStart == null) {
            throw new IllegalArgumentException(
                    "event-time serving needs the model config for version 0");
        }
        this.queryType = queryType;
        this.config = config;
        this.alignment = alignment;
        this.retryMillis = retryMillis;
        this.warmStart = warmStart == null ? null : warmStart.encode();
        this.device = device;
        this.batching = batching;
    }

    /** The event time of a query. */
    protected abstract long eventTime(Q query);

    /**
     * Reads what the forward pass needs from the query's entity's state (and updates what does not
     * depend on any answer), with the query's entity as the current key; called in each entity's
     * arrival order. Unless {@link #chainsAnswers}, it may be called again for the same entity
     * before the earlier answer is {@link #complete completed}: it must not read state that {@link
     * #complete} writes.
     */
    protected abstract A prepare(Q query, ModelState model) throws Exception;

    /**
     * Whether a query's forward pass, under this model, needs its entity's previous answer (a
     * carried recurrent state): then an entity has at most one query in a batch.
     */
    protected abstract boolean chainsAnswers(ModelState model);

    /** Runs the model once for a batch: one version. */
    protected abstract void compute(List<A> batch, ModelState model) throws Exception;

    /**
     * Finishes one answer, with its entity as the current key again: state updates and output.
     * Called in the order the batch was prepared.
     */
    protected abstract void complete(A answer, ModelState model, Answers<O> out) throws Exception;

    /** Where a completed answer goes, stamped with its query's record timestamp. */
    protected interface Answers<O> {
        /** Emits on the main output. */
        void collect(O record);

        /** Emits on a side output. */
        <X> void output(OutputTag<X> tag, X value);
    }

    /** What {@link BatchedServing} does for this function: the key context and the output. */
    interface Host<O> {
        /** The current key of the keyed state; null outside any key. */
        Object currentKey();

        /** Makes a key current. */
        void setCurrentKey(Object key);

        /** The output for one answer, stamped with this timestamp (null: none). */
        Answers<O> answers(Long timestamp);

        /** Asks for {@link #flush} within this many milliseconds, unless asked already. */
        void flushWithin(long millis);

        /** Says the batch was answered: what waited for it (a watermark) may go on. */
        void answered();
    }

    /**
     * How queries are batched.
     *
     * @param size the most queries one forward pass answers, at least 1
     * @param maxDelayMillis how long the first query of a batch waits for others, at most
     */
    public record Batching(int size, long maxDelayMillis) implements Serializable {
        /** The defaults of {@link StreamlearnOptions}. */
        public static Batching defaults() {
            return JobSettings.batching(new org.apache.flink.configuration.Configuration());
        }

        public Batching {
            if (size < 1) {
                throw new IllegalArgumentException("batch size must be at least 1, got " + size);
            }
            if (maxDelayMillis < 0) {
                throw new IllegalArgumentException(
                        "max delay must not be negative, got " + maxDelayMillis);
            }
        }
    }

    /** A prepared answer waiting for its batch's forward pass. */
    private record Queued<A>(Object key, A answer, Long timestamp) {}

    /** Called by {@link BatchedServing} once it is open. */
    void attach(Host<O> host) {
        this.host = host;
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        waiting = new WaitingQueries<>(getRuntimeContext(), queryType);
        DeviceChoice choice =
                DeviceChoice.forSubtask(
                        getRuntimeContext(), DeviceOptions.PREDICTOR_DEVICE.key(), device);
        inferenceDevice = choice.device();
        LOG.info(
                "{} subtask {} runs on {}: {}",
                getClass().getSimpleName(),
                getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(),
                choice.device(),
                choice.reason());
        if (warmStart != null) {
            initial = ModelState.decode(warmStart);
        } else if (alignment == TimeAlignment.EVENT_TIME) {
            try (OnlineLearner fresh = new OnlineLearner(config, inferenceDevice)) {
                initial = fresh.snapshot();
            }
        }
        MetricGroup metrics = getRuntimeContext().getMetricGroup();
        choice.register(metrics, "predictor");
        buffered = metrics.counter("bufferedBeforeFirstModel");
        lateQueries = metrics.counter("lateQueries");
        batches = metrics.counter("servedBatches");
        served = metrics.counter("servedQueries");
        batch = new ArrayList<>();
        batchKeys = new HashSet<>();
    }

    @Override
    public void processElement(Q query, ReadOnlyContext ctx, Collector<O> out) throws Exception {
        if (alignment == TimeAlignment.EVENT_TIME) {
            long time = eventTime(query);
            if (time <= ctx.timerService().currentWatermark()) {
                lateQueries.inc();
                if (waiting.isEmpty()) {
                    // Behind the watermark already: nothing to wait for.
                    answer(
                            query,
                            servingAt(time, true, ctx.getBroadcastState(MODELS_BY_TIME)),
                            ctx.timestamp(),
                            ctx,
                            out);
                    return;
                }
            }
            waiting.add(query);
            ctx.timerService().registerEventTimeTimer(time);
            return;
        }
        ModelState model = newest(ctx.getBroadcastState(MODEL).get(CURRENT));
        if (model == null) {
            waiting.add(query);
            buffered.inc();
            ctx.timerService()
                    .registerProcessingTimeTimer(
                            ctx.timerService().currentProcessingTime() + retryMillis);
            return;
        }
        flushPending(model, ctx.timestamp(), ctx, out);
        answer(query, model, ctx.timestamp(), ctx, out);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<O> out) throws Exception {
        if (ctx.timeDomain() == TimeDomain.EVENT_TIME) {
            answerPassed(timestamp, ctx, out);
            return;
        }
        ModelState model = newest(ctx.getBroadcastState(MODEL).get(CURRENT));
        if (model == null) {
            ctx.timerService().registerProcessingTimeTimer(timestamp + retryMillis);
            return;
        }
        // Flink's operator emits what a processing-time timer fires without a timestamp.
        flushPending(model, null, ctx, out);
    }

    @Override
    public void processBroadcastElement(ModelUpdate update, Context ctx, Collector<O> out)
            throws Exception {
        if (alignment == TimeAlignment.EVENT_TIME) {
            BroadcastState<Long, ModelState> versions = ctx.getBroadcastState(MODELS_BY_TIME);
            ModelState same = versions.get(update.trainedUntil());
            if (same == null || update.model().version() > same.version()) {
                versions.put(update.trainedUntil(), update.model());
            }
            letGo(versions, ctx.currentWatermark());
            return;
        }
        ModelState current = newest(ctx.getBroadcastState(MODEL).get(CURRENT));
        // Versions only move forward: an update replayed after a restore must not roll back
        // serving.
        if (current == null || update.model().version() > current.version()) {
            ctx.getBroadcastState(MODEL).put(CURRENT, update.model());
        }
    }

    @Override
    public void close() throws Exception {
        if (batches != null) {
            LOG.info(
                    "{} answered {} queries in {} batches",
                    getClass().getSimpleName(),
                    served.getCount(),
                    batches.getCount());
        }
    }

    /**
     * Forgets the versions no waiting query can need: those before the newest one before the
     * watermark (every query still to come is at or after the watermark, or late).
     */
    private static void letGo(BroadcastState<Long, ModelState> versions, long watermark)
            throws Exception {
        Long newestBefore = null;
        for (Map.Entry<Long, ModelState> e : versions.immutableEntries()) {
            if (e.getKey() < watermark && (newestBefore == null || e.getKey() > newestBefore)) {
                newestBefore = e.getKey();
            }
        }
        if (newestBefore == null) {
            return;
        }
        Iterator<Map.Entry<Long, ModelState>> it = versions.iterator();
        while (it.hasNext()) {
            if (it.next().getKey() < newestBefore) {
                it.remove();
            }
        }
    }

    /**
     * Answers, in arrival order, the waiting queries the watermark has passed. An entity has a
     * timer per waiting event time, and the first one the watermark fires answers every query it
     * passed; the later ones find the oldest waiting query ahead of the watermark and stop there.
     */
    private void answerPassed(long timer, OnTimerContext ctx, Collector<O> out) throws Exception {
        long watermark = ctx.timerService().currentWatermark();
        List<Q> passed = waiting.headWhile(q -> eventTime(q) <= watermark);
        if (passed.isEmpty()) {
            return;
        }
        for (Q q : passed) {
            // Stamped as Flink's operator stamps what an event-time timer emits.
            answer(
                    q,
                    servingAt(eventTime(q), false, ctx.getBroadcastState(MODELS_BY_TIME)),
                    timer,
                    ctx,
                    out);
        }
        waiting.remove(passed.size());
    }

    /**
     * The newest kept version trained only before {@code time}. When there is none: for a query
     * answered on time nothing was learned before it (every version before the watermark is kept
     * while the query waits), so version 0 answers; a late query gets the oldest kept version, as
     * the one it needed may have been let go.
     */
    private ModelState servingAt(
            long time, boolean late, ReadOnlyBroadcastState<Long, ModelState> versions)
            throws Exception {
        Map.Entry<Long, ModelState> best = null;
        Map.Entry<Long, ModelState> oldest = null;
        for (Map.Entry<Long, ModelState> e : versions.immutableEntries()) {
            if (e.getKey() < time && (best == null || e.getKey() > best.getKey())) {
                best = e;
            }
            if (oldest == null || e.getKey() < oldest.getKey()) {
                oldest = e;
            }
        }
        if (best != null) {
            return best.getValue();
        }
        return late && oldest != null ? oldest.getValue() : initial;
    }

    /** The broadcast model, or the warm-start model where that is newer (or there is none). */
    private ModelState newest(ModelState broadcast) {
        if (initial == null) {
            return broadcast;
        }
        return broadcast == null || broadcast.version() < initial.version() ? initial : broadcast;
    }

    private void flushPending(
            ModelState model, Long timestamp, ReadOnlyContext ctx, Collector<O> out)
            throws Exception {
        for (Q q : waiting.drain()) {
            answer(q, model, timestamp, ctx, out);
        }
    }

    /**
     * Answers a query, in its entity's key context: adds it to the batch, or, run by Flink's own
     * operator, answers it alone at once.
     */
    private void answer(
            Q query, ModelState model, Long timestamp, ReadOnlyContext ctx, Collector<O> out)
            throws Exception {
        if (host == null) {
            A alone = prepare(query, model);
            compute(List.of(alone), model);
            batches.inc();
            served.inc();
            complete(
                    alone,
                    model,
                    new Answers<>() {
                        @Override
                        public void collect(O record) {
                            out.collect(record);
                        }

                        @Override
                        public <X> void output(OutputTag<X> tag, X value) {
                            ctx.output(tag, value);
                        }
                    });
            return;
        }
        Object key = host.currentKey();
        if (!batch.isEmpty()
                && (batchModel.version() != model.version()
                        || (batchKeys.contains(key) && chainsAnswers(model)))) {
            flush();
        }
        if (batch.isEmpty()) {
            batchModel = model;
            host.flushWithin(batching.maxDelayMillis());
        }
        batch.add(new Queued<>(key, prepare(query, model), timestamp));
        batchKeys.add(key);
        if (batch.size() >= batching.size()) {
            flush();
        }
    }

    /**
     * Answers the batch: one forward pass, then each answer completed in its entity's key context
     * (the key current before is restored).
     */
    void flush() throws Exception {
        if (batch == null || batch.isEmpty()) {
            return;
        }
        List<Queued<A>> queued = batch;
        ModelState model = batchModel;
        batch = new ArrayList<>();
        batchKeys.clear();
        batchModel = null;
        List<A> answers = new ArrayList<>(queued.size());
        for (Queued<A> q : queued) {
            answers.add(q.answer());
        }
        compute(answers, model);
        batches.inc();
        served.inc(answers.size());
        Object previous = host.currentKey();
        try {
            for (Queued<A> q : queued) {
                host.setCurrentKey(q.key());
                complete(q.answer(), model, host.answers(q.timestamp()));
            }
        } finally {
            if (previous != null) {
                host.setCurrentKey(previous);
            }
        }
        host.answered();
    }

    /** Whether queries wait in the batch. */
    boolean batching() {
        return batch != null && !batch.isEmpty();
    }
}
