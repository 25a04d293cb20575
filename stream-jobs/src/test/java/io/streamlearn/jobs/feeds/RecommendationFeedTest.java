package io.streamlearn.jobs.feeds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.streamlearn.jobs.StreamlearnOptions;
import io.streamlearn.schemas.Recommendation;
import io.streamlearn.schemas.ScoredItem;
import java.time.Instant;
import java.util.List;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;

class RecommendationFeedTest {
    static Recommendation recommendation(String user, long time, String... items) {
        List<ScoredItem> scored =
                java.util.stream.IntStream.range(0, items.length)
                        .mapToObj(i -> new ScoredItem(items[i], 1.0 / (i + 1)))
                        .toList();
        return Recommendation.newBuilder()
                .setUserId(user)
                .setEventTime(Instant.ofEpochMilli(time))
                .setItems(scored)
                .setModelVersion(time)
                .build();
    }

    @Test
    void keepsTheLatestRecommendationsPerUserByEventTime() {
        Configuration conf = new Configuration();
        conf.set(StreamlearnOptions.BOOTSTRAP_SERVERS, "unused:9092");
        try (TopologyTestDriver driver =
                new TopologyTestDriver(
                        FeedApp.topology(FeedApp.Feed.RECOMMENDATIONS, conf),
                        FeedApp.streamsConfig(FeedApp.Feed.RECOMMENDATIONS, conf))) {
            TestInputTopic<String, Recommendation> in =
                    driver.createInputTopic(
                            "recommendations",
                            new StringSerializer(),
                            AvroStreamsSerde.of(Recommendation.class).serializer());
            in.pipeInput("u1", recommendation("u1", 10, "a", "b"));
            in.pipeInput("u1", recommendation("u1", 30, "c", "d"));
            in.pipeInput("u1", recommendation("u1", 20, "late"));
            in.pipeInput("u2", recommendation("u2", 5, "x"));

            KeyValueStore<String, Recommendation> store =
                    driver.getKeyValueStore(RecommendationFeed.STORE);
            assertEquals(
                    List.of("c", "d"),
                    store.get("u1").getItems().stream().map(ScoredItem::getItemId).toList(),
                    "a late recommendation does not replace a newer one");
            assertEquals(
                    List.of("x"),
                    store.get("u2").getItems().stream().map(ScoredItem::getItemId).toList());
            assertNull(store.get("u3"));
        }
    }
}
