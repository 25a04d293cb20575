package io.streamlearn.jobs.feeds;

import java.time.Duration;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/**
 * Settings of the two Kafka Streams feed applications, declared once. The Kafka address is {@code
 * streamlearn.kafka.bootstrap-servers} and the client settings (a secured cluster's) are {@code
 * streamlearn.kafka.properties.*}, as for the job, and the topics they read are the job's output
 * topics ({@code streamlearn.topic.recommendations}, {@code streamlearn.topic.anomaly-scores}), all
 * declared in {@link io.streamlearn.jobs.StreamlearnOptions}; any other key that is not a {@code
 * streamlearn.*} key is passed to Kafka Streams unchanged.
 */
public final class FeedOptions {
    private FeedOptions() {}

    public static final ConfigOption<String> HTTP_HOST =
            ConfigOptions.key("streamlearn.feed.http-host")
                    .stringType()
                    .defaultValue("127.0.0.1")
                    .withDescription(
                            "Address the feed's HTTP query server binds to; 0.0.0.0 in a"
                                    + " container.");

    public static final ConfigOption<Integer> HTTP_PORT =
            ConfigOptions.key("streamlearn.feed.http-port")
                    .intType()
                    .defaultValue(8090)
                    .withDescription("Port of the feed's HTTP query server; 0 picks a free one.");

    public static final ConfigOption<String> STATE_DIR =
            ConfigOptions.key("streamlearn.feed.state-dir")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Kafka Streams state directory (RocksDB); Kafka Streams' default when"
                                    + " unset.");

    public static final ConfigOption<String> ANOMALY_ALERTS_TOPIC =
            ConfigOptions.key("streamlearn.topic.anomaly-alerts")
                    .stringType()
                    .defaultValue("anomaly-alerts")
                    .withDescription("Topic the alert feed writes AnomalyAlert records to.");

    public static final ConfigOption<String> FEED_DEAD_LETTERS_TOPIC =
            ConfigOptions.key("streamlearn.topic.feed-dead-letters")
                    .stringType()
                    .defaultValue("feed-dead-letters")
                    .withDescription(
                            "Records a feed could not read: original key and value bytes, the"
                                    + " reason in headers.");

    public static final ConfigOption<Double> ALERT_THRESHOLD =
            ConfigOptions.key("streamlearn.alerts.threshold")
                    .doubleType()
                    .defaultValue(0.65)
                    .withDescription(
                            "Anomaly score at or above which a series alerts, in (0, 1]; the"
                                    + " default is the operating point NAB's standard profile"
                                    + " picks for the default detector (docs/feeds/anomalies.md).");

    public static final ConfigOption<Duration> ALERT_SUPPRESSION =
            ConfigOptions.key("streamlearn.alerts.suppression")
                    .durationType()
                    .defaultValue(Duration.ofMinutes(10))
                    .withDescription(
                            "After an alert, the same series does not alert again for this long"
                                    + " (event time).");

    public static final ConfigOption<Integer> ALERTS_KEPT =
            ConfigOptions.key("streamlearn.alerts.keep")
                    .intType()
                    .defaultValue(20)
                    .withDescription("Recent alerts kept per series for GET /series/{id}/alerts.");
}
