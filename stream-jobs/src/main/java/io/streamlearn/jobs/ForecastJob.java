package io.streamlearn.jobs;

import io.streamlearn.jobs.JobWiring.Pipeline;
import io.streamlearn.models.ModelConfig.Task;
import io.streamlearn.models.ModelState;
import io.streamlearn.schemas.AnomalyScore;
import io.streamlearn.schemas.DeadLetter;
import io.streamlearn.schemas.MetricEvent;
import io.streamlearn.schemas.ModelCommand;
import io.streamlearn.schemas.Prediction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Wires the metrics job along the data path of ARCHITECTURE.md: forecasts and anomaly scores. It
 * takes its sources and sinks as arguments, so the same wiring runs against Kafka in production and
 * in tests.
 *
 * <pre>
 * source → decode + validate ──bad──→ dead letters
 *        → watermarks → keyBy(series) → SequenceState ─examples─→ Trainer (p=1) ──every version──→ model store
 *                                           │ windows            ↑ commands   │ promoted versions
 *                                           └→ Predictor ←──── broadcast ─────┘
 *                                                ├→ predictions (next-value models)
 *                                                └→ anomaly scores (every event)
 * </pre>
 *
 * A reconstruction model (the LSTM autoencoder) has no forecast: its job writes anomaly scores
 * only, and nothing to the predictions topic.
 */
public final class ForecastJob {
    /** Max parallelism of every keyed operator; fixed so that savepoints rescale. */
    public static final int MAX_PARALLELISM = 128;

    private ForecastJob() {}

    /**
     * @param commands operators' model commands (rollback) for the trainer
     * @param warmStart the model a job without checkpointed state starts from; null for fresh
     *     weights
     */
    public static void build(
            StreamExecutionEnvironment env,
            JobSettings settings,
            Source<RawRecord, ?, ?> source,
            Source<ModelCommand, ?, ?> commands,
            Sink<Prediction> predictions,
            Sink<AnomalyScore> anomalyScores,
            Sink<DeadLetter> deadLetters,
            ModelStoreSink models,
            ModelState warmStart) {
        JobWiring.configure(env, settings);
        int features = settings.model().features();

        DataStream<MetricEvent> events =
                JobWiring.events(
                        env,
                        settings,
                        Pipeline.METRICS,
                        source,
                        DecodeAndValidate.metrics(features, settings.decoder()),
                        new AvroTypeInfo<>(MetricEvent.class),
                        (event, ts) -> event.getEventTime().toEpochMilli(),
                        deadLetters);
        SingleOutputStreamOperator<Window> windows =
                events.keyBy(MetricEvent::getSeriesId, Types.STRING)
                        .process(
                                new SequenceState(
                                        settings.model().window(),
                                        features,
                                        settings.normalizerHorizon(),
                                        settings.normalizerWarmUp(),
                                        settings.stateTtl()))
                        .uid("sequence-state")
                        .name("sequence state");

        SingleOutputStreamOperator<ModelUpdate> promoted =
                JobWiring.trainer(
                        env,
                        settings,
                        Pipeline.METRICS,
                        windows.getSideOutput(SequenceState.EXAMPLES),
                        commands,
                        models,
                        warmStart);

        SingleOutputStreamOperator<Prediction> forecasts =
                BatchedServing.serve(
                                windows.keyBy(w -> w.seriesId, Types.STRING),
                                promoted,
                                new Predictor(settings, warmStart),
                                new AvroTypeInfo<>(Prediction.class))
                        .uid("predictor")
                        .name("predictor");
        if (settings.model().task() == Task.NEXT_VALUE) {
            forecasts.sinkTo(predictions).uid("predictions-sink").name("predictions");
        }
        forecasts
                .getSideOutput(Predictor.ANOMALY_SCORES)
                .sinkTo(anomalyScores)
                .uid("anomaly-scores-sink")
                .name("anomaly scores");
    }
}
