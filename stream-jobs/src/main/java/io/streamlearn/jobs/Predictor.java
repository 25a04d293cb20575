package io.streamlearn.jobs;

import ai.djl.Device;
import io.streamlearn.jobs.device.DeviceChoice;
import io.streamlearn.jobs.device.DeviceMode;
import io.streamlearn.jobs.device.DeviceOptions;
import io.streamlearn.models.LstmForecaster;
import io.streamlearn.models.ModelState;
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
 * Answers each series' window with a forecast of its next values, using the newest model the
 * trainer has broadcast. Prequential: before predicting, it scores this series' previous prediction
 * (and the naive last-value forecast) against the values that just arrived.
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
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(Predictor.class);

    public static final MapStateDescriptor<String, ModelState> MODEL =
            new MapStateDescriptor<>("model", Types.STRING, ModelStateTypeInfo.INSTANCE);
    private static final String CURRENT = "current";

    private final int features;
    private final long retryMillis;
    private final Duration ttl;
    private final byte[] initialModel;
    private transient ModelState initial;
    private final DeviceMode device;
    private transient Device inferenceDevice;
    private transient ValueState<float[]> lastPrediction;
    private transient ListState<Window> pending;
    private transient LstmForecaster forecaster;
    private transient long servingVersion;
    private transient Counter buffered;
    private transient OnlineError modelError;
    private transient OnlineError naiveError;

    /** A predictor without a time-to-live or warm-start model, for tests. */
    public Predictor(int features, long retryMillis, DeviceMode device) {
        this(features, retryMillis, Duration.ZERO, null, device);
    }

    /**
     * @param ttl how long the last prediction of a series that has gone quiet is kept (to score it
     *     when the series comes back); zero keeps it forever. Buffered windows never expire.
     * @param initialModel served until the trainer broadcasts a newer version (a warm start); null
     *     to buffer until the first version
     * @param device where inference runs ({@code streamlearn.predictor.device})
     */
    public Predictor(
            int features,
            long retryMillis,
            Duration ttl,
            ModelState initialModel,
            DeviceMode device) {
        this.features = features;
        this.retryMillis = retryMillis;
        this.ttl = ttl;
        this.initialModel = initialModel == null ? null : initialModel.encode();
        this.device = device;
    }

    @Override
    public void open(OpenContext openContext) {
        ValueStateDescriptor<float[]> last =
                new ValueStateDescriptor<>(
                        "last-prediction", PrimitiveArrayTypeInfo.FLOAT_PRIMITIVE_ARRAY_TYPE_INFO);
        DurableState.ttl(ttl).ifPresent(last::enableTimeToLive);
        lastPrediction = getRuntimeContext().getState(last);
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
        metrics.gauge("modelVersion", () -> servingVersion);
        modelError = new OnlineError();
        naiveError = new OnlineError();
        metrics.gauge("onlineMae", modelError::value);
        metrics.gauge("naiveMae", naiveError::value);
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
        LstmForecaster serving = forecasterFor(model);
        int n = window.values.length;
        float[] actual = slice(window.values, n - features);
        float[] previous = lastPrediction.value();
        Double error = previous == null ? null : meanAbsoluteError(previous, actual);
        Double baseline =
                window.filled < 2
                        ? null
                        : meanAbsoluteError(slice(window.values, n - 2 * features), actual);
        if (error != null && baseline != null) {
            modelError.add(error);
            naiveError.add(baseline);
        }
        float[] next = serving.predict(new float[][] {window.values})[0];
        lastPrediction.update(next);
        List<Double> predicted = new ArrayList<>(next.length);
        for (float v : next) {
            predicted.add((double) v);
        }
        out.collect(
                Prediction.newBuilder()
                        .setEntityId(window.seriesId)
                        .setEventTime(Instant.ofEpochMilli(window.eventTime))
                        .setPredicted(predicted)
                        .setError(error)
                        .setBaselineError(baseline)
                        .setModelVersion(serving.version())
                        .build());
    }

    private LstmForecaster forecasterFor(ModelState model) {
        if (forecaster == null || forecaster.version() != model.version()) {
            if (forecaster != null) {
                forecaster.close();
            }
            forecaster = LstmForecaster.create(model, inferenceDevice);
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

    /** Exponentially weighted mean of recent errors (about the last 500), for the metrics. */
    static final class OnlineError {
        private static final double ALPHA = 1.0 / 500;
        private double value = Double.NaN;

        void add(double error) {
            value = Double.isNaN(value) ? error : value + ALPHA * (error - value);
        }

        double value() {
            return value;
        }
    }
}
