package io.streamlearn.jobs;

import io.streamlearn.jobs.JobWiring.Pipeline;
import io.streamlearn.models.ModelState;
import io.streamlearn.schemas.DeadLetter;
import io.streamlearn.schemas.InteractionEvent;
import io.streamlearn.schemas.ModelCommand;
import io.streamlearn.schemas.Recommendation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Wires the recommendation job: interactions in, each user's next items out, with the same trainer,
 * promotion, snapshots, warm start and commands as the metrics job ({@link JobWiring}).
 *
 * <pre>
 * source → decode + validate ──bad──→ dead letters
 *        → watermarks → keyBy(user) → ItemHistory ─examples─→ Trainer (p=1) ──every version──→ model store
 *                                         │ queries          ↑ commands   │ promoted versions
 *                                         └→ ItemPredictor ←── broadcast ─┘
 *                                              → recommendations (keyed by user)
 * </pre>
 */
public final class RecommendationJob {
    private RecommendationJob() {}

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
            Sink<Recommendation> recommendations,
            Sink<DeadLetter> deadLetters,
            ModelStoreSink models,
            ModelState warmStart) {
        JobWiring.configure(env, settings);

        DataStream<InteractionEvent> events =
                JobWiring.events(
                        env,
                        settings,
                        Pipeline.ITEMS,
                        source,
                        DecodeAndValidate.interactions(settings.interactionDecoder()),
                        new AvroTypeInfo<>(InteractionEvent.class),
                        (event, ts) -> event.getEventTime().toEpochMilli(),
                        deadLetters);
        SingleOutputStreamOperator<ItemQuery> queries =
                events.keyBy(InteractionEvent::getUserId, Types.STRING)
                        .process(new ItemHistory(settings.model().window(), settings.stateTtl()))
                        .uid("items-history")
                        .name("items: history");

        SingleOutputStreamOperator<ModelUpdate> promoted =
                JobWiring.trainer(
                        env,
                        settings,
                        Pipeline.ITEMS,
                        queries.getSideOutput(SequenceState.EXAMPLES),
                        commands,
                        models,
                        warmStart);

        BatchedServing.serve(
                        queries.keyBy(q -> q.userId, Types.STRING),
                        promoted,
                        new ItemPredictor(settings, warmStart),
                        new AvroTypeInfo<>(Recommendation.class))
                .uid("items-predictor")
                .name("items: predictor")
                .sinkTo(recommendations)
                .uid("items-recommendations-sink")
                .name("items: recommendations");
    }
}
