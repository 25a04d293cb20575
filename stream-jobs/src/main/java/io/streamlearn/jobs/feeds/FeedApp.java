package io.streamlearn.jobs.feeds;

import io.streamlearn.jobs.KafkaAccess;
import io.streamlearn.jobs.KafkaClientProperties;
import io.streamlearn.jobs.StreamlearnOptions;
import io.streamlearn.schemas.AlertHistory;
import io.streamlearn.schemas.Recommendation;
import java.io.IOException;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Pattern;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Runs one feed application: its Kafka Streams topology and its HTTP query server. {@link
 * #streamsConfig} and {@link #topology} are the two functions that define a feed; {@link #start}
 * only glues them together.
 */
public final class FeedApp implements AutoCloseable {
    /** The two feeds people consume. */
    public enum Feed {
        RECOMMENDATIONS,
        ALERTS;

        public static Feed parse(String name) {
            return switch (name) {
                case "recommendations" -> RECOMMENDATIONS;
                case "alerts" -> ALERTS;
                default ->
                        throw new IllegalArgumentException(
                                "feed must be 'recommendations' or 'alerts', got '" + name + "'");
            };
        }
    }

    private static final Pattern USER_ROUTE = Pattern.compile("/users/([^/]+)/recommendations");
    private static final Pattern SERIES_ROUTE = Pattern.compile("/series/([^/]+)/alerts");

    private final KafkaStreams streams;
    private final FeedServer server;

    private FeedApp(KafkaStreams streams, FeedServer server) {
        this.streams = streams;
        this.server = server;
    }

    /**
     * Kafka Streams settings: the client settings every streamlearn client gets ({@link
     * KafkaClientProperties}: bootstrap servers, {@code streamlearn.kafka.properties.*}), exactly
     * once, bad records to the dead-letter topic.
     */
    public static Properties streamsConfig(Feed feed, Configuration conf) {
        Properties props = new Properties();
        props.putAll(KafkaClientProperties.from(conf).with(Map.of()));
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "streamlearn-" + feed.name().toLowerCase());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(
                StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
                LogAndContinueExceptionHandler.class.getName());
        props.put(
                StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG,
                conf.get(FeedOptions.FEED_DEAD_LETTERS_TOPIC));
        conf.getOptional(FeedOptions.STATE_DIR)
                .ifPresent(dir -> props.put(StreamsConfig.STATE_DIR_CONFIG, dir));
        conf.toMap()
                .forEach(
                        (key, value) -> {
                            if (!key.startsWith("streamlearn.")) {
                                props.put(key, value);
                            }
                        });
        return props;
    }

    /** The feed's topology, from validated settings. */
    public static Topology topology(Feed feed, Configuration conf) {
        return switch (feed) {
            case RECOMMENDATIONS ->
                    RecommendationFeed.topology(conf.get(StreamlearnOptions.RECOMMENDATIONS_TOPIC));
            case ALERTS -> {
                double threshold = conf.get(FeedOptions.ALERT_THRESHOLD);
                if (!(threshold > 0 && threshold <= 1)) {
                    throw new IllegalArgumentException(
                            FeedOptions.ALERT_THRESHOLD.key()
                                    + " must be in (0, 1], got "
                                    + threshold);
                }
                if (conf.get(FeedOptions.ALERT_SUPPRESSION).isNegative()) {
                    throw new IllegalArgumentException(
                            FeedOptions.ALERT_SUPPRESSION.key()
                                    + " must not be negative, got "
                                    + conf.get(FeedOptions.ALERT_SUPPRESSION));
                }
                if (conf.get(FeedOptions.ALERTS_KEPT) < 1) {
                    throw new IllegalArgumentException(
                            FeedOptions.ALERTS_KEPT.key()
                                    + " must be at least 1, got "
                                    + conf.get(FeedOptions.ALERTS_KEPT));
                }
                yield AnomalyAlertFeed.topology(
                        conf.get(StreamlearnOptions.ANOMALY_SCORES_TOPIC),
                        conf.get(FeedOptions.ANOMALY_ALERTS_TOPIC),
                        threshold,
                        conf.get(FeedOptions.ALERT_SUPPRESSION),
                        conf.get(FeedOptions.ALERTS_KEPT));
            }
        };
    }

    /**
     * Checks that Kafka accepts the client settings ({@link KafkaAccess}), then starts the feed:
     * Kafka Streams would otherwise only report a refused login in its state.
     *
     * @throws IllegalArgumentException when Kafka refuses the client settings
     */
    public static FeedApp start(Feed feed, Configuration conf) throws IOException {
        KafkaAccess.check(KafkaClientProperties.from(conf));
        KafkaStreams streams = new KafkaStreams(topology(feed, conf), streamsConfig(feed, conf));
        String host = conf.get(FeedOptions.HTTP_HOST);
        int port = conf.get(FeedOptions.HTTP_PORT);
        FeedServer server =
                switch (feed) {
                    case RECOMMENDATIONS ->
                            new FeedServer(
                                    host,
                                    port,
                                    USER_ROUTE,
                                    "recommendations",
                                    user -> {
                                        ReadOnlyKeyValueStore<String, Recommendation> store =
                                                streams.store(
                                                        StoreQueryParameters.fromNameAndType(
                                                                RecommendationFeed.STORE,
                                                                QueryableStoreTypes
                                                                        .keyValueStore()));
                                        return Optional.ofNullable(store.get(user))
                                                .map(Json::recommendation);
                                    });
                    case ALERTS ->
                            new FeedServer(
                                    host,
                                    port,
                                    SERIES_ROUTE,
                                    "alerts",
                                    series -> {
                                        ReadOnlyKeyValueStore<String, AlertHistory> store =
                                                streams.store(
                                                        StoreQueryParameters.fromNameAndType(
                                                                AnomalyAlertFeed.STORE,
                                                                QueryableStoreTypes
                                                                        .keyValueStore()));
                                        return Optional.ofNullable(store.get(series))
                                                .map(history -> Json.alerts(series, history));
                                    });
                };
        streams.start();
        return new FeedApp(streams, server);
    }

    public int httpPort() {
        return server.port();
    }

    public KafkaStreams.State state() {
        return streams.state();
    }

    @Override
    public void close() {
        server.close();
        streams.close();
    }
}
