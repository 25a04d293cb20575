package io.streamlearn.jobs.feeds;

import io.streamlearn.schemas.Recommendation;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Keeps the latest top-K recommendations of every user in a persistent, changelogged state store
 * that {@link FeedServer} answers {@code GET /users/{id}/recommendations} from.
 *
 * <p>The recommendations topic is keyed by user id (the job writes it so), so no repartition is
 * needed. "Latest" is by event time: a recommendation that arrives late never replaces a newer one.
 */
public final class RecommendationFeed {
    public static final String STORE = "latest-recommendations";

    private RecommendationFeed() {}

    public static Topology topology(String recommendationsTopic) {
        AvroStreamsSerde<Recommendation> serde = AvroStreamsSerde.of(Recommendation.class);
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(recommendationsTopic, Consumed.with(Serdes.String(), serde))
                .groupByKey(Grouped.with(Serdes.String(), serde))
                .reduce(
                        (kept, arrived) ->
                                arrived.getEventTime().isBefore(kept.getEventTime())
                                        ? kept
                                        : arrived,
                        Materialized.<String, Recommendation, KeyValueStore<Bytes, byte[]>>as(STORE)
                                .withKeySerde(Serdes.String())
                                .withValueSerde(serde));
        return builder.build();
    }
}
