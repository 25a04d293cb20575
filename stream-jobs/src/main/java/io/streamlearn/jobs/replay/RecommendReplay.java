package io.streamlearn.jobs.replay;

import io.streamlearn.jobs.JobSettings;
import io.streamlearn.jobs.Jobs;
import io.streamlearn.jobs.StreamlearnOptions;
import io.streamlearn.jobs.runtime.EmbeddedRuntime;
import io.streamlearn.jobs.runtime.EventProducer;
import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.InteractionEvent;
import io.streamlearn.schemas.Recommendation;
import io.streamlearn.schemas.ScoredItem;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.flink.configuration.Configuration;

/**
 * {@code streamlearn replay recommend}: the recommendation job backtested on a history file ({@link
 * InteractionFiles}). Interactions go in in time order; with event-time alignment every interaction
 * is first answered (the user's next items, by a model that has learned only from earlier
 * interactions) and then learned from: prequential. Each list is scored against the user's next
 * interaction next to the popularity and transition baselines on the same events ({@link
 * RankingEvaluation}), written as {@code metrics.json} and {@code curve.csv}.
 */
public final class RecommendReplay {
    private RecommendReplay() {}

    /**
     * An interaction of a user of its own, just after the last one, with an item the history has:
     * the end of the input.
     */
    private static EventProducer.Message endMarker(
            List<InteractionFiles.Interaction> interactions, AvroSerde<InteractionEvent> serde) {
        InteractionFiles.Interaction last =
                interactions.isEmpty() ? null : interactions.get(interactions.size() - 1);
        InteractionEvent marker =
                InteractionEvent.newBuilder()
                        .setUserId(ReplayRun.END_OF_INPUT)
                        .setItemId(last == null ? ReplayRun.END_OF_INPUT : last.itemId())
                        .setEventTime((last == null ? Instant.EPOCH : last.time()).plusMillis(1))
                        .build();
        return new EventProducer.Message(ReplayRun.END_OF_INPUT, serde.encode(marker));
    }

    /**
     * @param keys job keys ({@code streamlearn.*}) on top of the defaults: the family, k, ...
     */
    public static RankingEvaluation.Figures run(
            Path input,
            InteractionFiles.Options options,
            Path output,
            Map<String, String> keys,
            PrintStream out)
            throws Exception {
        InteractionFiles.History history = InteractionFiles.history(input, options);
        List<InteractionFiles.Interaction> interactions = history.interactions();
        AvroSerde<InteractionEvent> serde = AvroSerde.of(InteractionEvent.class);
        List<EventProducer.Message> messages = new ArrayList<>(interactions.size());
        for (InteractionFiles.Interaction i : interactions) {
            InteractionEvent event =
                    InteractionEvent.newBuilder()
                            .setUserId(i.userId())
                            .setItemId(i.itemId())
                            .setEventTime(i.time())
                            .build();
            messages.add(new EventProducer.Message(i.userId(), serde.encode(event)));
        }
        out.printf(
                Locale.ROOT,
                "streamlearn replay recommend: %d interactions from %s%n",
                interactions.size(),
                input);
        RejectedRow.report(history.rejected(), output, out);

        try (EmbeddedRuntime runtime = EmbeddedRuntime.start()) {
            Configuration conf = ReplayRun.configuration(runtime, keys);
            conf.set(StreamlearnOptions.TASK, "next-item");
            JobSettings settings = JobSettings.from(conf);
            RankingEvaluation evaluation =
                    new RankingEvaluation(
                            settings.recommend().k(), settings.recommend().excludeSeen());
            ListsInOrder scoring = new ListsInOrder(evaluation);
            for (InteractionFiles.Interaction i : interactions) {
                scoring.interaction(i.userId(), i.itemId(), i.time());
            }
            AvroSerde<Recommendation> recommendations = AvroSerde.of(Recommendation.class);
            ReplayRun.run(
                    runtime,
                    conf,
                    settings,
                    messages,
                    endMarker(interactions, serde),
                    Jobs::buildWithKafka,
                    settings.recommendationsTopic(),
                    bytes -> {
                        Recommendation r = recommendations.decode(bytes);
                        scoring.list(
                                r.getUserId(),
                                r.getItems().stream().map(ScoredItem::getItemId).toList());
                    },
                    () -> figures(evaluation.overall(), settings.recommend().k()),
                    out);
            evaluation.write(output);
            out.printf(
                    Locale.ROOT,
                    "streamlearn replay recommend: metrics.json and curve.csv written under %s%n",
                    output);
            return evaluation.overall();
        }
    }

    static String figures(RankingEvaluation.Figures f, int k) {
        return String.format(
                Locale.ROOT,
                "HR@%d model %.3f  popularity %.3f  transition %.3f | NDCG model %.3f",
                k,
                f.model().hr(),
                f.popularity().hr(),
                f.transition().hr(),
                f.model().ndcg());
    }
}
