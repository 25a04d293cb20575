package io.streamlearn.jobs;

import io.streamlearn.models.ModelState;
import io.streamlearn.schemas.DeadLetter;
import io.streamlearn.schemas.MetricEvent;
import io.streamlearn.schemas.ModelSnapshot;
import io.streamlearn.schemas.Prediction;
import io.streamlearn.state.ModelSnapshots;
import java.time.Instant;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Wires the forecasting job along the data path of ARCHITECTURE.md. It takes its source and sinks
 * as arguments, so the same wiring runs against Kafka in production and in tests.
 *
 * <pre>
 * source → decode + validate ──bad──→ dead letters
 *        → watermarks → keyBy(series) → SequenceState ─examples─→ Trainer (p=1) ─models─┐
 *                                           │ windows                                  ├→ model snapshots
 *                                           └→ Predictor ←──── broadcast ──────────────┘
 *                                                → predictions
 * </pre>
 */
public final class ForecastJob {
    /** Max parallelism of every keyed operator; fixed so that savepoints rescale. */
    public static final int MAX_PARALLELISM = 128;

    private ForecastJob() {}

    /** The job against the Kafka topics its settings name: what runs on a cluster. */
    public static void buildWithKafka(StreamExecutionEnvironment env, JobSettings settings) {
        build(
                env,
                settings,
                KafkaEndpoints.source(settings),
                KafkaEndpoints.predictions(settings),
                KafkaEndpoints.deadLetters(settings),
                KafkaEndpoints.models(settings));
    }

    public static void build(
            StreamExecutionEnvironment env,
            JobSettings settings,
            Source<RawRecord, ?, ?> source,
            Sink<Prediction> predictions,
            Sink<DeadLetter> deadLetters,
            Sink<ModelSnapshot> models) {
        env.enableCheckpointing(settings.checkpointInterval().toMillis());
        env.setMaxParallelism(MAX_PARALLELISM);
        int features = settings.model().features();

        SingleOutputStreamOperator<MetricEvent> events =
                env.fromSource(source, WatermarkStrategy.noWatermarks(), "events")
                        .uid("events-source")
                        .process(new DecodeAndValidate(features, settings.decoder()))
                        .returns(new AvroTypeInfo<>(MetricEvent.class))
                        .uid("decode")
                        .name("decode + validate");
        events.getSideOutput(DecodeAndValidate.DEAD_LETTERS)
                .sinkTo(deadLetters)
                .uid("dead-letters-sink")
                .name("dead letters");

        SingleOutputStreamOperator<Window> windows =
                events.assignTimestampsAndWatermarks(
                                WatermarkStrategy.<MetricEvent>forBoundedOutOfOrderness(
                                                settings.maxOutOfOrderness())
                                        .withTimestampAssigner(
                                                (event, ts) -> event.getEventTime().toEpochMilli()))
                        .uid("watermarks")
                        .keyBy(MetricEvent::getSeriesId, Types.STRING)
                        .process(
                                new SequenceState(
                                        settings.model().window(), features, settings.stateTtl()))
                        .uid("sequence-state")
                        .name("sequence state");

        SingleOutputStreamOperator<ModelState> updates =
                windows.getSideOutput(SequenceState.EXAMPLES)
                        .process(
                                new Trainer(
                                        settings.model(),
                                        settings.batchSize(),
                                        settings.publishEverySteps()))
                        .returns(io.streamlearn.state.ModelStateTypeInfo.INSTANCE)
                        .uid("trainer")
                        .name("trainer")
                        .setParallelism(1)
                        .setMaxParallelism(1);

        updates.map(state -> ModelSnapshots.toSnapshot(state, Instant.now()))
                .returns(new AvroTypeInfo<>(ModelSnapshot.class))
                .uid("model-snapshots")
                .name("model snapshots")
                .sinkTo(models)
                .uid("models-sink")
                .name("model store");

        DataStream<Prediction> forecasts =
                windows.keyBy(w -> w.seriesId, Types.STRING)
                        .connect(updates.broadcast(Predictor.MODEL))
                        .process(new Predictor(features, 200, settings.stateTtl()))
                        .returns(new AvroTypeInfo<>(Prediction.class))
                        .uid("predictor")
                        .name("predictor");
        forecasts.sinkTo(predictions).uid("predictions-sink").name("predictions");
    }
}
