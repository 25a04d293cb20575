package io.streamlearn.jobs.feeds;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.KafkaExtension;
import io.streamlearn.jobs.StreamlearnOptions;
import io.streamlearn.jobs.runtime.EmbeddedKafka;
import io.streamlearn.schemas.AnomalyScore;
import io.streamlearn.schemas.Recommendation;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Both feed applications on a real broker, queried over HTTP as a product would. */
class FeedsITCase {
    @RegisterExtension static final KafkaExtension KAFKA = new KafkaExtension();
    private static EmbeddedKafka kafka;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void topics() throws Exception {
        kafka = KAFKA.kafka();
        kafka.createTopics(
                1, "recommendations", "anomaly-scores", "anomaly-alerts", "feed-dead-letters");
    }

    private Configuration conf(Path stateDir) {
        Configuration conf = new Configuration();
        conf.set(StreamlearnOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
        conf.set(FeedOptions.HTTP_PORT, 0);
        conf.set(FeedOptions.STATE_DIR, stateDir.toString());
        conf.setString("commit.interval.ms", "100");
        return conf;
    }

    @Test
    void servesTheLatestRecommendationsOfEachUser(@TempDir Path stateDir) throws Exception {
        try (FeedApp app = FeedApp.start(FeedApp.Feed.RECOMMENDATIONS, conf(stateDir))) {
            produce(
                    "recommendations",
                    "u1",
                    AvroStreamsSerde.of(Recommendation.class)
                            .serializer()
                            .serialize(
                                    "recommendations",
                                    RecommendationFeedTest.recommendation("u1", 10, "a", "b")));
            produce(
                    "recommendations",
                    "u1",
                    AvroStreamsSerde.of(Recommendation.class)
                            .serializer()
                            .serialize(
                                    "recommendations",
                                    RecommendationFeedTest.recommendation("u1", 20, "c")));
            // The store is queryable once its changelog holds the newer list.
            awaitRecord(
                    "streamlearn-recommendations-" + RecommendationFeed.STORE + "-changelog",
                    r ->
                            AvroStreamsSerde.of(Recommendation.class)
                                            .deserializer()
                                            .deserialize("", r.value())
                                            .getEventTime()
                                            .toEpochMilli()
                                    == 20);
            String url = "http://127.0.0.1:" + app.httpPort();
            HttpResponse<String> latest = get(url + "/users/u1/recommendations");
            assertEquals(200, latest.statusCode());
            assertTrue(latest.body().startsWith("{\"userId\":\"u1\""), latest.body());
            assertTrue(
                    !latest.body().contains("\"a\""),
                    "the older list was replaced: " + latest.body());

            HttpResponse<String> unknown = get(url + "/users/nobody/recommendations");
            assertEquals(404, unknown.statusCode());
            assertTrue(unknown.body().contains("no recommendations for 'nobody'"), unknown.body());
        }
    }

    @Test
    void alertsAreWrittenQueryableAndBadRecordsAreDeadLettered(@TempDir Path stateDir)
            throws Exception {
        byte[] garbage = "not a score".getBytes(StandardCharsets.UTF_8);
        try (FeedApp app = FeedApp.start(FeedApp.Feed.ALERTS, conf(stateDir))) {
            produce("anomaly-scores", "s1", garbage);
            var serde = AvroStreamsSerde.of(AnomalyScore.class).serializer();
            for (int minute = 0; minute < 3; minute++) {
                AnomalyScore score =
                        AnomalyScore.newBuilder()
                                .setSeriesId("s1")
                                .setEventTime(
                                        Instant.parse("2026-01-01T00:00:00Z")
                                                .plusSeconds(60L * minute))
                                .setValues(List.of(42.0))
                                .setLikelihood(minute == 1 ? 0.999 : 0.2)
                                .setModelVersion(7)
                                .build();
                produce("anomaly-scores", "s1", serde.serialize("anomaly-scores", score));
            }
            List<ConsumerRecord<byte[], byte[]>> written = readAll("anomaly-alerts", 1);
            assertEquals(1, written.size(), "one alert written to the alerts topic");
            String url = "http://127.0.0.1:" + app.httpPort();
            HttpResponse<String> alerts = get(url + "/series/s1/alerts");
            assertEquals(200, alerts.statusCode(), alerts.body());
            assertTrue(alerts.body().contains("\"likelihood\":0.999"), alerts.body());
            assertTrue(alerts.body().contains("2026-01-01T00:01:00Z"), alerts.body());
            assertEquals(404, get(url + "/series/quiet/alerts").statusCode());

            List<ConsumerRecord<byte[], byte[]>> dead = readAll("feed-dead-letters", 1);
            assertArrayEquals(garbage, dead.get(0).value(), "the original bytes are kept");
            StringBuilder headers = new StringBuilder();
            dead.get(0)
                    .headers()
                    .forEach(
                            h ->
                                    headers.append(h.key())
                                            .append('=')
                                            .append(new String(h.value(), StandardCharsets.UTF_8))
                                            .append('\n'));
            assertTrue(
                    headers.toString().contains("not Avro single-object encoding"),
                    headers.toString());
        }
    }

    private HttpResponse<String> get(String url) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Blocks on the topic until a record satisfies {@code done} (60 s at most). */
    private static void awaitRecord(String topic, Predicate<ConsumerRecord<byte[], byte[]>> done) {
        Map<String, Object> config =
                Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        kafka.bootstrapServers(),
                        ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                        "read_committed");
        try (var consumer =
                new KafkaConsumer<>(
                        config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (done.test(r)) {
                        return;
                    }
                }
            }
            throw new AssertionError("no matching record on " + topic + " within 60 s");
        }
    }

    private static void produce(String topic, String key, byte[] value) {
        Map<String, Object> config =
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (var producer =
                new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, key, value));
            producer.flush();
        }
    }

    private static List<ConsumerRecord<byte[], byte[]>> readAll(String topic, int atLeast) {
        Map<String, Object> config =
                Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        kafka.bootstrapServers(),
                        ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                        "read_committed");
        try (var consumer =
                new KafkaConsumer<>(
                        config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            List<ConsumerRecord<byte[], byte[]>> records = new java.util.ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (records.size() < atLeast && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            // Then whatever else is committed up to the end.
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            while (consumer.position(tp) < end) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            return records;
        }
    }
}
