package io.streamlearn.jobs;

import io.streamlearn.jobs.device.DeviceMode;
import io.streamlearn.models.AnomalyDetector;
import io.streamlearn.models.Forecaster;
import io.streamlearn.models.Forecasts;
import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelConfig.Task;
import io.streamlearn.models.ModelState;
import io.streamlearn.models.Reconstructor;
import io.streamlearn.models.RecurrentState;
import io.streamlearn.models.metrics.Ewma;
import io.streamlearn.schemas.AnomalyScore;
import io.streamlearn.schemas.Prediction;
import io.streamlearn.state.AnomalyDetectorSerializer;
import io.streamlearn.state.DurableState;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.util.OutputTag;

/**
 * Answers each series' window with the served model ({@link ModelServing} decides which, and when)
 * and judges how unusual the event was.
 *
 * <p>Next-value models: prequential, it first scores this series' previous forecast (and the naive
 * last-value forecast) against the values that just arrived: absolute error, and the loss (the
 * Gaussian negative log-likelihood, {@link Forecasts#surprise}). Then it forecasts the next values
 * (mean and standard deviation, in the series' units) as a {@link Prediction}. The event's raw
 * anomaly score is how far the values fell from the previous forecast in its own standard
 * deviations, {@code mean_f |x_f - mu_f| / sigma_f} (normalised units). Reconstruction models (the
 * LSTM autoencoder) have no forecast: they reconstruct the window that ends at the event, and the
 * raw score is the newest step's root-mean-square reconstruction error; no prediction is emitted.
 *
 * <p>An {@link AnomalyDetector} per series (typed keyed state of fixed size, {@link
 * AnomalyDetectorSerializer}) turns the raw scores, the event's hour of day and its values into an
 * alert score in [0, 1] in O(1) per event, emitted as an {@link AnomalyScore} on {@link
 * #ANOMALY_SCORES} for every event (the series' first event has no forecast to be judged by and
 * scores from its values alone). A series checkpointed with the previous state (the likelihood's
 * history of raw scores) is migrated on its first event. Both raw scores grow linearly with the
 * error: the likelihood's Gaussian fit suits them better than the squared errors inside the loss
 * (docs/feeds/anomalies.md has the figures).
 *
 * <p>For the recurrent families each series keeps its hidden state in keyed state, so an event
 * costs one recurrent step instead of a pass over the window. The state is recomputed from the
 * window after {@code recomputeEvery} steps (0: at every event), and, if {@code
 * recomputeOnNewModel}, when the serving model version changes; see docs/recurrent-state.md.
 *
 * <p>Windows that arrive together are answered in batches ({@link ModelServing}): a series' state
 * is read when its window joins the batch, the batch runs one pass over the windows to recompute
 * and one recurrent step for the series that step, and each series' state is updated and its
 * answers emitted afterwards.
 */
public class Predictor extends ModelServing<Window, Predictor.Answer, Prediction> {
    private static final long serialVersionUID = 3L;

    /** One anomaly score per event, keyed by series id downstream. */
    public static final OutputTag<AnomalyScore> ANOMALY_SCORES =
            new OutputTag<>("anomaly-scores", new AvroTypeInfo<>(AnomalyScore.class));

    /** Predictions the metric gauges average over (an exponentially weighted mean). */
    private static final long METRIC_HORIZON = 500;

    private final int features;
    private final int recomputeEvery;
    private final boolean recomputeOnNewModel;
    private final Duration ttl;
    private final JobSettings.Anomaly anomaly;
    private transient ValueState<float[]> lastForecast;
    private transient ValueState<byte[]> recurrentState;
    private transient ValueState<AnomalyDetector> detectorState;
    private transient ValueState<byte[]> likelihoodState;
    private transient Forecaster forecaster;
    private transient Reconstructor reconstructor;
    private transient long servingVersion;
    private transient Counter recomputed;
    private transient Counter stepped;
    private transient Ewma modelError;
    private transient Ewma naiveError;
    private transient Ewma onlineLoss;

    /** The job's predictor. */
    public Predictor(JobSettings settings, ModelState warmStart) {
        this(
                settings.model(),
                settings.timeAlignment(),
                200,
                settings.recomputeEvery(),
                settings.recomputeOnNewModel(),
                settings.stateTtl(),
                warmStart,
                settings.devices().predictor(),
                settings.anomaly(),
                settings.batching());
    }

    /**
     * A live predictor without a time-to-live or warm-start model, and the default anomaly
     * likelihood, for tests.
     */
    public Predictor(
            int features,
            long retryMillis,
            int recomputeEvery,
            boolean recomputeOnNewModel,
            DeviceMode device) {
        this(
                ModelConfig.builder().setWindow(2).optFeatures(features).build(),
                TimeAlignment.NONE,
                retryMillis,
                recomputeEvery,
                recomputeOnNewModel,
                Duration.ZERO,
                null,
                device,
                JobSettings.Anomaly.defaults(),
                Batching.defaults());
    }

    /**
     * @param config the model's config (its features; version 0 in event-time alignment)
     * @param recomputeEvery recurrent families: steps a series' state is advanced before it is
     *     recomputed from the window; 0 recomputes at every event
     * @param recomputeOnNewModel recurrent families: also recompute when the serving version
     *     changes
     * @param ttl how long the per-series state of a series that has gone quiet is kept; zero keeps
     *     it forever. Waiting windows never expire.
     */
    Predictor(
            ModelConfig config,
            TimeAlignment alignment,
            long retryMillis,
            int recomputeEvery,
            boolean recomputeOnNewModel,
            Duration ttl,
            ModelState warmStart,
            DeviceMode device,
            JobSettings.Anomaly anomaly,
            Batching batching) {
        super(
                TypeInformation.of(Window.class),
                config,
                alignment,
                retryMillis,
                warmStart,
                device,
                batching);
        this.features = config.features();
        this.recomputeEvery = recomputeEvery;
        this.recomputeOnNewModel = recomputeOnNewModel;
        this.ttl = ttl;
        this.anomaly = anomaly;
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        super.open(openContext);
        // [predicted (series units), mean z, log-variance z, observed (series units)] per feature.
        ValueStateDescriptor<float[]> last =
                new ValueStateDescriptor<>(
                        "last-forecast", PrimitiveArrayTypeInfo.FLOAT_PRIMITIVE_ARRAY_TYPE_INFO);
        ValueStateDescriptor<byte[]> recurrent =
                new ValueStateDescriptor<>(
                        "recurrent-state", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
        // The previous format (AnomalyLikelihood's history), read once per series to migrate it.
        ValueStateDescriptor<byte[]> likelihood =
                new ValueStateDescriptor<>(
                        "anomaly-likelihood",
                        PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
        ValueStateDescriptor<AnomalyDetector> detector =
                new ValueStateDescriptor<>("anomaly-detector", AnomalyDetectorSerializer.INSTANCE);
        DurableState.ttl(ttl)
                .ifPresent(
                        config -> {
                            last.enableTimeToLive(config);
                            recurrent.enableTimeToLive(config);
                            likelihood.enableTimeToLive(config);
                            detector.enableTimeToLive(config);
                        });
        lastForecast = getRuntimeContext().getState(last);
        recurrentState = getRuntimeContext().getState(recurrent);
        likelihoodState = getRuntimeContext().getState(likelihood);
        detectorState = getRuntimeContext().getState(detector);
        var metrics = getRuntimeContext().getMetricGroup();
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
    protected long eventTime(Window window) {
        return window.eventTime;
    }

    /** One window on its way through a batch: what its series' state held, then the model's. */
    static final class Answer {
        private final Window window;
        private final float[] observedZ;
        private RecurrentState stepFrom;
        private boolean keepsState;
        private Forecasts forecasts;
        private int row;
        private double reconstructionError;

        private Answer(Window window, float[] observedZ) {
            this.window = window;
            this.observedZ = observedZ;
        }
    }

    @Override
    protected Answer prepare(Window window, ModelState model) throws Exception {
        servingVersion = model.version();
        Answer answer = new Answer(window, slice(window.values, window.values.length - features));
        if (!chainsAnswers(model)) {
            return answer;
        }
        // Recurrent families: one step from the series' state when it is recent enough.
        Forecaster serving = forecasterFor(model);
        answer.keepsState = true;
        byte[] bytes = recurrentState.value();
        RecurrentState state = bytes == null ? null : RecurrentState.decode(bytes);
        if (state == null
                || state.stepsSinceRecompute() >= recomputeEvery
                || (recomputeOnNewModel && state.modelVersion() != serving.version())) {
            recomputed.inc();
        } else {
            answer.stepFrom = state;
            stepped.inc();
        }
        return answer;
    }

    /** Recurrent families that step from the series' carried state need its previous answer. */
    @Override
    protected boolean chainsAnswers(ModelState model) {
        return model.config().task() != Task.RECONSTRUCTION
                && recomputeEvery > 0
                && forecasterFor(model).isIncremental();
    }

    @Override
    protected void compute(List<Answer> batch, ModelState model) {
        if (model.config().task() == Task.RECONSTRUCTION) {
            float[] errors = reconstructorFor(model).errors(windows(batch));
            for (int i = 0; i < errors.length; i++) {
                batch.get(i).reconstructionError = errors[i];
            }
            return;
        }
        Forecaster serving = forecasterFor(model);
        List<Answer> passes = new ArrayList<>(batch.size());
        List<Answer> steps = new ArrayList<>();
        for (Answer a : batch) {
            (a.stepFrom == null ? passes : steps).add(a);
        }
        if (!passes.isEmpty()) {
            keep(passes, serving.forecast(windows(passes)));
        }
        if (!steps.isEmpty()) {
            RecurrentState[] states = new RecurrentState[steps.size()];
            float[][] values = new float[steps.size()][];
            for (int i = 0; i < states.length; i++) {
                states[i] = steps.get(i).stepFrom;
                values[i] = steps.get(i).observedZ;
            }
            keep(steps, serving.step(states, values));
        }
    }

    private static float[][] windows(List<Answer> answers) {
        float[][] windows = new float[answers.size()][];
        for (int i = 0; i < windows.length; i++) {
            windows[i] = answers.get(i).window.values;
        }
        return windows;
    }

    private static void keep(List<Answer> answers, Forecasts forecasts) {
        for (int i = 0; i < answers.size(); i++) {
            answers.get(i).forecasts = forecasts;
            answers.get(i).row = i;
        }
    }

    @Override
    protected void complete(Answer answer, ModelState model, Answers<Prediction> out)
            throws Exception {
        Double surprise;
        if (model.config().task() == Task.RECONSTRUCTION) {
            surprise = Math.sqrt(answer.reconstructionError);
        } else {
            surprise = forecast(answer, model.version(), out);
        }
        out.output(ANOMALY_SCORES, anomalyScore(answer.window, surprise, model.version()));
    }

    /** The event's alert score from the series' detector (a raw surprise may be null). */
    private AnomalyScore anomalyScore(Window window, Double surprise, long version)
            throws Exception {
        AnomalyDetector detector = detectorState.value();
        if (detector == null) {
            byte[] previous = likelihoodState.value();
            if (previous == null) {
                detector = anomaly.newDetector();
            } else {
                detector = AnomalyDetector.migrate(previous, anomaly.detector());
                likelihoodState.clear();
            }
        }
        double likelihood = detector.update(surprise, window.eventTime, window.observed);
        detectorState.update(detector);
        List<Double> values = new ArrayList<>(features);
        for (float v : window.observed) {
            values.add((double) v);
        }
        return AnomalyScore.newBuilder()
                .setSeriesId(window.seriesId)
                .setEventTime(Instant.ofEpochMilli(window.eventTime))
                .setValues(values)
                .setLikelihood(likelihood)
                .setModelVersion(version)
                .build();
    }

    private Reconstructor reconstructorFor(ModelState model) {
        if (reconstructor == null || reconstructor.version() != model.version()) {
            if (reconstructor != null) {
                reconstructor.close();
            }
            reconstructor = Reconstructor.create(model, inferenceDevice);
        }
        return reconstructor;
    }

    /**
     * Scores the previous forecast, emits the next one; returns how far the arrived values fell
     * from the previous forecast in its standard deviations, or null for a series' first event.
     */
    private Double forecast(Answer answer, long version, Answers<Prediction> out) throws Exception {
        Window window = answer.window;
        float[] observedZ = answer.observedZ;
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
        Forecasts forecast = answer.forecasts;
        int row = answer.row;
        if (answer.keepsState) {
            recurrentState.update(forecast.state(row).encode());
        }
        float[] meanZ = forecast.mean(row);
        float[] logVarianceZ = forecast.logVariance(row);
        float[] stdZ = forecast.stdDev(row);
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
        Double surprise = null;
        if (loss != null) {
            float[] mean = slice(previous, features);
            float[] logVariance = slice(previous, 2 * features);
            double sum = 0;
            for (int f = 0; f < features; f++) {
                sum += Math.abs(observedZ[f] - mean[f]) * Math.exp(-0.5 * logVariance[f]);
            }
            surprise = sum / features;
        }
        out.collect(
                Prediction.newBuilder()
                        .setEntityId(window.seriesId)
                        .setEventTime(Instant.ofEpochMilli(window.eventTime))
                        .setPredicted(predicted)
                        .setPredictedStdDev(stdDev)
                        .setError(error)
                        .setBaselineError(baseline)
                        .setLoss(loss)
                        .setModelVersion(version)
                        .build());
        return surprise;
    }

    private Forecaster forecasterFor(ModelState model) {
        if (forecaster == null || forecaster.version() != model.version()) {
            if (forecaster != null) {
                forecaster.close();
            }
            forecaster = Forecaster.create(model, inferenceDevice);
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
    public void close() throws Exception {
        super.close();
        if (forecaster != null) {
            forecaster.close();
            forecaster = null;
        }
        if (reconstructor != null) {
            reconstructor.close();
            reconstructor = null;
        }
    }
}
