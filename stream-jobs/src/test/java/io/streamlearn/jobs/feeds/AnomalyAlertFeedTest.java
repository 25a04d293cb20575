package io.streamlearn.jobs.feeds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.streamlearn.jobs.StreamlearnOptions;
import io.streamlearn.schemas.AlertHistory;
import io.streamlearn.schemas.AnomalyAlert;
import io.streamlearn.schemas.AnomalyScore;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AnomalyAlertFeedTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private TopologyTestDriver driver;
    private TestInputTopic<String, AnomalyScore> scores;
    private TestOutputTopic<String, AnomalyAlert> alerts;

    @BeforeEach
    void setUp() {
        Configuration conf = new Configuration();
        conf.set(StreamlearnOptions.BOOTSTRAP_SERVERS, "unused:9092");
        conf.set(FeedOptions.ALERT_THRESHOLD, 0.9);
        conf.set(FeedOptions.ALERT_SUPPRESSION, Duration.ofMinutes(10));
        conf.set(FeedOptions.ALERTS_KEPT, 2);
        Properties props = FeedApp.streamsConfig(FeedApp.Feed.ALERTS, conf);
        driver = new TopologyTestDriver(FeedApp.topology(FeedApp.Feed.ALERTS, conf), props);
        var serde = AvroStreamsSerde.of(AnomalyScore.class);
        scores =
                driver.createInputTopic(
                        "anomaly-scores", new StringSerializer(), serde.serializer());
        alerts =
                driver.createOutputTopic(
                        "anomaly-alerts",
                        new StringDeserializer(),
                        AvroStreamsSerde.of(AnomalyAlert.class).deserializer());
    }

    @AfterEach
    void tearDown() {
        driver.close();
    }

    private void score(String series, int minute, double likelihood) {
        scores.pipeInput(
                series,
                AnomalyScore.newBuilder()
                        .setSeriesId(series)
                        .setEventTime(T0.plusSeconds(60L * minute))
                        .setValues(List.of((double) minute))
                        .setLikelihood(likelihood)
                        .setModelVersion(3)
                        .build());
    }

    @Test
    void alertsOnceThenSuppressesRepeatsWithinTheWindow() {
        score("a", 0, 0.5);
        score("a", 1, 0.95);
        score("a", 2, 0.99);
        score("b", 3, 0.97);
        score("a", 10, 0.96); // 9 minutes after the alert at minute 1: suppressed
        score("a", 11, 0.92); // 10 minutes after: alerts again

        List<AnomalyAlert> out = alerts.readValuesToList();
        assertEquals(3, out.size(), "below the threshold or inside the window does not alert");
        assertEquals("a", out.get(0).getSeriesId());
        assertEquals(T0.plusSeconds(60), out.get(0).getEventTime());
        assertEquals("b", out.get(1).getSeriesId(), "series are suppressed independently");
        assertEquals(T0.plusSeconds(660), out.get(2).getEventTime(), "the window is 10 minutes");
        assertEquals(0.9, out.get(2).getThreshold());
    }

    @Test
    void keepsTheMostRecentAlertsPerSeriesQueryable() {
        score("a", 0, 0.95);
        score("a", 10, 0.95);
        score("a", 20, 0.95);
        KeyValueStore<String, AlertHistory> store = driver.getKeyValueStore(AnomalyAlertFeed.STORE);
        List<AnomalyAlert> kept = store.get("a").getAlerts();
        assertEquals(2, kept.size(), "only the configured number is kept");
        assertEquals(T0.plusSeconds(1200), kept.get(1).getEventTime());
        assertEquals(null, store.get("never-seen"));
    }

    @Test
    void skipsAndCountsUnreadableRecordsAndGoesOn() {
        // The dead-letter record itself is proven against a real broker in FeedsITCase.
        TestInputTopic<String, byte[]> raw =
                driver.createInputTopic(
                        "anomaly-scores", new StringSerializer(), new ByteArraySerializer());
        raw.pipeInput("a", "not a score".getBytes(StandardCharsets.UTF_8));
        score("a", 1, 0.95);

        assertNotNull(alerts.readValue(), "the feed goes on after a bad record");
        double dropped =
                driver.metrics().entrySet().stream()
                        .filter(e -> e.getKey().name().equals("dropped-records-total"))
                        .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue())
                        .sum();
        assertEquals(1.0, dropped, "the bad record is counted");
    }
}
