package io.streamlearn.jobs;

import io.streamlearn.models.ModelState;
import io.streamlearn.schemas.DeadLetter;
import io.streamlearn.schemas.MetricEvent;
import io.streamlearn.schemas.ModelCommand;
import io.streamlearn.schemas.ModelSnapshot;
import io.streamlearn.schemas.Prediction;
import io.streamlearn.state.ModelStateTypeInfo;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Wires the forecasting job along the data path of ARCHITECTURE.md. It takes its sources and sinks
 * as arguments, so the same wiring runs against Kafka in production and in tests.
 *
 * <pre>
 * source → decode + validate ──bad──→ dead letters
 *        → watermarks → keyBy(series) → SequenceState ─examples─→ Trainer (p=1) ──every version──→ model store
 *                                           │ windows            ↑ commands   │ promoted versions
 *                                           └→ Predictor ←──── broadcast ─────┘
 *                                                → predictions
 * </pre>
 */
public final class ForecastJob {
    /** Max parallelism of every keyed operator; fixed so that savepoints rescale. */
    public static final int MAX_PARALLELISM = 128;

    private ForecastJob() {}

    /**
     * The job against the Kafka topics its settings name, with snapshots to the configured model
     * store and, if asked, warm-started from it: what runs on a cluster.
     */
    public static void buildWithKafka(StreamExecutionEnvironment env, JobSettings settings) {
        build(
                env,
                settings,
                KafkaEndpoints.source(settings),
                KafkaEndpoints.commands(settings, System.currentTimeMillis()),
                KafkaEndpoints.predictions(settings),
                KafkaEndpoints.deadLetters(settings),
                ModelStores.sink(settings),
                ModelStores.warmStart(settings).orElse(null));
    }

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
            Sink<DeadLetter> deadLetters,
            Sink<ModelSnapshot> models,
            ModelState warmStart) {
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
                                        settings.model().window(),
                                        features,
                                        settings.normalizerHorizon(),
                                        settings.normalizerWarmUp(),
                                        settings.stateTtl()))
                        .uid("sequence-state")
                        .name("sequence state");

        DataStream<ModelCommand> commandStream =
                env.fromSource(commands, WatermarkStrategy.noWatermarks(), "model commands")
                        .uid("model-commands-source")
                        .setParallelism(1);
        SingleOutputStreamOperator<ModelState> promoted =
                windows.getSideOutput(SequenceState.EXAMPLES)
                        .connect(commandStream)
                        .process(
                                new Trainer(
                                        settings.model(),
                                        settings.batchSize(),
                                        settings.publishEverySteps(),
                                        settings.publishInterval(),
                                        settings.promotionWindow(),
                                        settings.promotionMaxLossIncrease(),
                                        warmStart,
                                        settings.devices().trainer()))
                        .returns(ModelStateTypeInfo.INSTANCE)
                        .uid("trainer")
                        .name("trainer")
                        .setParallelism(1)
                        .setMaxParallelism(1);
        settings.devices().trainerSlotSharingGroup().ifPresent(promoted::slotSharingGroup);

        // One model stream, so one snapshot writer, pinned like the trainer (parallelism and max
        // parallelism 1): it stays chained to the trainer in its slot-sharing group (more would ask
        // for more, possibly GPU, trainer slots), and a savepoint taken at one job parallelism
        // restores at another.
        promoted.getSideOutput(Trainer.SNAPSHOTS)
                .sinkTo(models)
                .uid("models-sink")
                .name("model store")
                .setParallelism(1)
                .setMaxParallelism(1);

        DataStream<Prediction> forecasts =
                windows.keyBy(w -> w.seriesId, Types.STRING)
                        .connect(promoted.broadcast(Predictor.MODEL))
                        .process(
                                new Predictor(
                                        features,
                                        200,
                                        settings.recomputeEvery(),
                                        settings.recomputeOnNewModel(),
                                        settings.stateTtl(),
                                        warmStart,
                                        settings.devices().predictor()))
                        .returns(new AvroTypeInfo<>(Prediction.class))
                        .uid("predictor")
                        .name("predictor");
        forecasts.sinkTo(predictions).uid("predictions-sink").name("predictions");
    }
}
