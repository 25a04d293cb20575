package io.streamlearn.jobs;

import ai.djl.Device;
import io.streamlearn.jobs.device.DeviceChoice;
import io.streamlearn.jobs.device.DeviceMode;
import io.streamlearn.jobs.device.DeviceOptions;
import io.streamlearn.models.Forecaster;
import io.streamlearn.models.Forecasts;
import io.streamlearn.models.ModelState;
import io.streamlearn.models.RecurrentState;
import io.streamlearn.models.metrics.Ewma;
import io.streamlearn.schemas.Prediction;
import io.streamlearn.state.DurableState;
import io.streamlearn.state.ModelStateTypeInfo;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers each series' window with a forecast of its next values (mean and standard deviation, in
 * the series' units), using the newest model the trainer has broadcast. Prequential: before
 * predicting, it scores this series' previous forecast (and the naive last-value forecast) against
 * the values that just arrived: absolute error, and the loss (surprise) of the Gaussian forecast.
 *
 * <p>For the recurrent families each series keeps its hidden state in keyed state, so an event
 * costs one recurrent step instead of a pass over the window. The state is recomputed from the
 * window after {@code recomputeEvery} steps (0: at every event), and, if {@code
 * recomputeOnNewModel}, when the serving model version changes; see docs/recurrent-state.md.
 *
 * <p>Windows that arrive before the first model are buffered in keyed state, not dropped, and a
 * processing-time timer per buffering series flushes them in order once a model is there. The model
 * itself lives in broadcast state, so a restored predictor serves the model it had at the
 * checkpoint without waiting for the trainer.
 *
 * <p>It runs inference on the device {@code streamlearn.predictor.device} chooses ({@link
 * DeviceChoice}; the CPU by default), exported as the gauges {@code predictorGpu} and {@code
 * predictorAssignedGpu}.
 */
public class Predictor
        extends KeyedBroadcastProcessFunction<String, Window, ModelState, Prediction> {
    private static final long serialVersionUID = 2L;
    private static final Logger LOG = LoggerFactory.getLogger(Predictor.class);

    public static final MapStateDescriptor<String, ModelState> MODEL =
            new MapStateDescriptor<>("model", Types.STRING, ModelStateTypeInfo.INSTANCE);
    private static final String CURRENT = "current";

    /** Predictions the metric gauges average over (an exponentially weighted mean). */
    private static final long METRIC_HORIZON = 500;

    private final int features;
    private final long retryMillis;
    private final int recomputeEvery;
    private final boolean recomputeOnNewModel;
    private final Duration ttl;
    private final byte[] initialModel;
    private transient ModelState initial;
    private final DeviceMode device;
    private transient Device inferenceDevice;
    private transient ValueState<float[]> lastForecast;
    private transient ValueState<byte[]> recurrentState;
    private transient ListState<Window> pending;
    private transient Forecaster forecaster;
    private transient long servingVersion;
    private transient Counter buffered;
    private transient Counter recomputed;
    private transient Counter stepped;
    private transient Ewma modelError;
    private transient Ewma naiveError;
    private transient Ewma onlineLoss;

    /** A predictor without a time-to-live or warm-start model, for tests. */
    public Predictor(
            int features,
            long retryMillis,
            int recomputeEvery,
            boolean recomputeOnNewModel,
            DeviceMode device) {
        this(
                features,
                retryMillis,
                recomputeEvery,
                recomputeOnNewModel,
                Duration.ZERO,
                null,
                device);
    }

    /**
     * @param recomputeEvery recurrent families: steps a series' state is advanced before it is
     *     recomputed from the window; 0 recomputes at every event
     * @param recomputeOnNewModel recurrent families: also recompute when the serving version
     *     changes
     * @param ttl how long the last forecast and recurrent state of a series that has gone quiet are
     *     kept; zero keeps them forever. Buffered windows never expire.
     * @param initialModel served until the trainer broadcasts a newer version (a warm start); null
     *     to buffer until the first version
     * @param device where inference runs ({@code streamlearn.predictor.device})
     */
    public Predictor(
            int features,
            long retryMillis,
            int recomputeEvery,
            boolean recomputeOnNewModel,
            Duration ttl,
            ModelState initialModel,
            DeviceMode device) {
        this.features = features;
        this.retryMillis = retryMillis;
        this.recomputeEvery = recomputeEvery;
        this.recomputeOnNewModel = recomputeOnNewModel;
        this.ttl = ttl;
        this.initialModel = initialModel == null ? null : initialModel.encode();
        this.device = device;
    }

    @Override
    public void open(OpenContext openContext) {
        // [predicted (series units), mean z, log-variance z, observed (series units)] per feature.
        ValueStateDescriptor<float[]> last =
                new ValueStateDescriptor<>(
                        "last-forecast", PrimitiveArrayTypeInfo.FLOAT_PRIMITIVE_ARRAY_TYPE_INFO);
        ValueStateDescriptor<byte[]> recurrent =
                new ValueStateDescriptor<>(
                        "recurrent-state", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
        DurableState.ttl(ttl)
                .ifPresent(
                        config -> {
                            last.enableTimeToLive(config);
                            recurrent.enableTimeToLive(config);
                        });
        lastForecast = getRuntimeContext().getState(last);
        recurrentState = getRuntimeContext().getState(recurrent);
        pending =
                getRuntimeContext()
                        .getListState(
                                new ListStateDescriptor<>(
                                        "pending", TypeInformation.of(Window.class)));
        initial = initialModel == null ? null : ModelState.decode(initialModel);
        DeviceChoice choice =
                DeviceChoice.forSubtask(
                        getRuntimeContext(), DeviceOptions.PREDICTOR_DEVICE.key(), device);
        inferenceDevice = choice.device();
        LOG.info(
                "Predictor subtask {} runs on {}: {}",
                getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(),
                choice.device(),
                choice.reason());
        var metrics = getRuntimeContext().getMetricGroup();
        choice.register(metrics, "predictor");
        buffered = metrics.counter("bufferedBeforeFirstModel");
        recomputed = metrics.counter("recurrentStateRecomputed");
        stepped = metrics.counter("recurrentStateStepped");
        metrics.gauge("modelVersion", () -> servingVersion);
        modelError = new Ewma(METRIC_HORIZON);
        naiveError = new Ewma(METRIC_HORIZON);
        onlineLoss = new Ewma(METRIC_HORIZON);
        metrics.gauge("onlineMae", modelError::value);
        metrics.gauge("naiveMae", naiveError::value);
        metrics.gauge("onlineLoss", onlineLoss::value);
    }

    @Override
    public void processElement(Window window, ReadOnlyContext ctx, Collector<Prediction> out)
            throws Exception {
        ModelState model = newest(ctx.getBroadcastState(MODEL).get(CURRENT));
        if (model == null) {
            pending.add(window);
            buffered.inc();
            ctx.timerService()
                    .registerProcessingTimeTimer(
                            ctx.timerService().currentProcessingTime() + retryMillis);
            return;
        }
        flushPending(model, out);
        predict(window, model, out);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Prediction> out)
            throws Exception {
        ModelState model = newest(ctx.getBroadcastState(MODEL).get(CURRENT));
        if (model == null) {
            ctx.timerService().registerProcessingTimeTimer(timestamp + retryMillis);
            return;
        }
        flushPending(model, out);
    }

    @Override
    public void processBroadcastElement(ModelState update, Context ctx, Collector<Prediction> out)
            throws Exception {
        ModelState current = newest(ctx.getBroadcastState(MODEL).get(CURRENT));
        // Versions only move forward: an update replayed after a restore must not roll back
        // serving.
        if (current == null || update.version() > current.version()) {
            ctx.getBroadcastState(MODEL).put(CURRENT, update);
        }
    }

    /** The broadcast model, or the warm-start model where that is newer (or there is none). */
    private ModelState newest(ModelState broadcast) {
        if (initial == null) {
            return broadcast;
        }
        return broadcast == null || broadcast.version() < initial.version() ? initial : broadcast;
    }

    private void flushPending(ModelState model, Collector<Prediction> out) throws Exception {
        List<Window> waiting = new ArrayList<>();
        for (Window w : pending.get()) {
            waiting.add(w);
        }
        if (waiting.isEmpty()) {
            return;
        }
        pending.clear();
        for (Window w : waiting) {
            predict(w, model, out);
        }
    }

    private void predict(Window window, ModelState model, Collector<Prediction> out)
            throws Exception {
        Forecaster serving = forecasterFor(model);
        float[] observedZ = slice(window.values, window.values.length - features);
        float[] previous = lastForecast.value();
        Double error = null;
        Double baseline = null;
        Double loss = null;
        if (previous != null && previous.length == 4 * features) {
            error = meanAbsoluteError(slice(previous, 0), window.observed);
            baseline = meanAbsoluteError(slice(previous, 3 * features), window.observed);
            loss =
                    Forecasts.surprise(
                            slice(previous, features), slice(previous, 2 * features), observedZ);
            modelError.add(error);
            naiveError.add(baseline);
            onlineLoss.add(loss);
        }
        Forecasts forecast = forecast(serving, window, observedZ);
        float[] meanZ = forecast.mean(0);
        float[] logVarianceZ = forecast.logVariance(0);
        float[] stdZ = forecast.stdDev(0);
        float[] next = new float[4 * features];
        List<Double> predicted = new ArrayList<>(features);
        List<Double> stdDev = new ArrayList<>(features);
        for (int f = 0; f < features; f++) {
            float value = window.mean[f] + window.scale[f] * meanZ[f];
            next[f] = value;
            next[features + f] = meanZ[f];
            next[2 * features + f] = logVarianceZ[f];
            next[3 * features + f] = window.observed[f];
            predicted.add((double) value);
            stdDev.add((double) (window.scale[f] * stdZ[f]));
        }
        lastForecast.update(next);
        out.collect(
                Prediction.newBuilder()
                        .setEntityId(window.seriesId)
                        .setEventTime(Instant.ofEpochMilli(window.eventTime))
                        .setPredicted(predicted)
                        .setPredictedStdDev(stdDev)
                        .setError(error)
                        .setBaselineError(baseline)
                        .setLoss(loss)
                        .setModelVersion(serving.version())
                        .build());
    }

    /**
     * A pass over the window, or for recurrent families one step from the series' state when the
     * state is recent enough.
     */
    private Forecasts forecast(Forecaster serving, Window window, float[] observedZ)
            throws Exception {
        float[][] windows = {window.values};
        if (!serving.isIncremental() || recomputeEvery == 0) {
            return serving.forecast(windows);
        }
        byte[] bytes = recurrentState.value();
        RecurrentState state = bytes == null ? null : RecurrentState.decode(bytes);
        Forecasts forecast;
        if (state == null
                || state.stepsSinceRecompute() >= recomputeEvery
                || (recomputeOnNewModel && state.modelVersion() != serving.version())) {
            forecast = serving.forecast(windows);
            recomputed.inc();
        } else {
            forecast = serving.step(new RecurrentState[] {state}, new float[][] {observedZ});
            stepped.inc();
        }
        recurrentState.update(forecast.state(0).encode());
        return forecast;
    }

    private Forecaster forecasterFor(ModelState model) {
        if (forecaster == null || forecaster.version() != model.version()) {
            if (forecaster != null) {
                forecaster.close();
            }
            forecaster = Forecaster.create(model, inferenceDevice);
            servingVersion = model.version();
        }
        return forecaster;
    }

    private float[] slice(float[] values, int from) {
        float[] out = new float[features];
        System.arraycopy(values, from, out, 0, features);
        return out;
    }

    static double meanAbsoluteError(float[] predicted, float[] actual) {
        double sum = 0;
        for (int i = 0; i < actual.length; i++) {
            sum += Math.abs((double) predicted[i] - actual[i]);
        }
        return sum / actual.length;
    }

    @Override
    public void close() {
        if (forecaster != null) {
            forecaster.close();
            forecaster = null;
        }
    }
}
