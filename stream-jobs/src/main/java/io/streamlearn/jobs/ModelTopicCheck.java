package io.streamlearn.jobs;

import io.streamlearn.state.ModelStoreRecords;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks, before a job starts, that its models topic accepts the largest record the job writes to
 * it: a chunk of a snapshot ({@code streamlearn.model-store.chunk-size}) and its framing ({@link
 * ModelStoreRecords#CHUNK_OVERHEAD_BYTES}), against the topic's {@code max.message.bytes}, which is
 * the broker's {@code message.max.bytes} (1 MiB by default) where the topic sets none. Without it
 * the first record too large for the topic fails the model store's sink with {@code
 * RecordTooLargeException}, and the job restarts on it again and again, never getting past it.
 */
public final class ModelTopicCheck {
    private static final Logger LOG = LoggerFactory.getLogger(ModelTopicCheck.class);
    private static final long TIMEOUT_SECONDS = 60;

    /** A broker's {@code message.max.bytes} unless configured: 1 MiB and a batch header. */
    private static final long BROKER_DEFAULT_MAX_MESSAGE_BYTES = 1048588;

    private ModelTopicCheck() {}

    /**
     * Checks the models topic of a job whose model store is Kafka; nothing for the {@code files}
     * store. A principal that may not describe the topic's configuration is let through with a
     * warning.
     *
     * @throws IllegalStateException naming the topic, its {@code max.message.bytes} and the
     *     setting, when the topic is missing or takes less than the setting
     */
    public static void check(JobSettings settings) {
        if (settings.filesModelStore()) {
            return;
        }
        try (Admin admin = KafkaEndpoints.admin(settings)) {
            check(admin, settings.modelsTopic(), settings.snapshotChunkBytes());
        }
    }

    /**
     * The configuration a models topic needs: compacted (every version kept once), and a {@code
     * max.message.bytes} that takes a chunk where the broker's default (1 MiB) does not.
     */
    public static Map<String, String> topicConfig(JobSettings settings) {
        long record = (long) settings.snapshotChunkBytes() + ModelStoreRecords.CHUNK_OVERHEAD_BYTES;
        return record <= BROKER_DEFAULT_MAX_MESSAGE_BYTES
                ? Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)
                : Map.of(
                        TopicConfig.CLEANUP_POLICY_CONFIG,
                        TopicConfig.CLEANUP_POLICY_COMPACT,
                        TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                        Long.toString(record));
    }

    static void check(Admin admin, String topic, int chunkBytes) {
        long required = (long) chunkBytes + ModelStoreRecords.CHUNK_OVERHEAD_BYTES;
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        Config config;
        try {
            config =
                    admin.describeConfigs(List.of(resource))
                            .all()
                            .get(TIMEOUT_SECONDS, TimeUnit.SECONDS)
                            .get(resource);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                throw new IllegalStateException(
                        String.format(
                                Locale.ROOT,
                                "the models topic '%s' does not exist: create it with %s of at"
                                        + " least %d (%s)",
                                topic,
                                TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                                required,
                                setting(chunkBytes)));
            }
            if (e.getCause() instanceof AuthorizationException) {
                LOG.warn(
                        "Cannot check that the models topic '{}' accepts chunks of {}: {}",
                        topic,
                        setting(chunkBytes),
                        e.getCause().getMessage());
                return;
            }
            throw new IllegalStateException(
                    "cannot check the models topic '" + topic + "': " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException(
                    "cannot check the models topic '"
                            + topic
                            + "': no answer from the Kafka cluster in "
                            + TIMEOUT_SECONDS
                            + " s",
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted checking the models topic", e);
        }
        ConfigEntry entry = config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
        if (entry == null || entry.value() == null) {
            LOG.warn("The models topic '{}' does not say its max.message.bytes", topic);
            return;
        }
        long accepts = Long.parseLong(entry.value());
        if (accepts < required) {
            boolean own = entry.source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG;
            throw new IllegalStateException(
                    String.format(
                            Locale.ROOT,
                            "the models topic '%s' accepts records up to %s=%d bytes%s, less"
                                    + " than a snapshot chunk of %s takes with its framing: the"
                                    + " first one would fail the job. Raise the topic's %s to at"
                                    + " least %d, or lower the setting",
                            topic,
                            TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                            accepts,
                            own ? "" : " (the broker's message.max.bytes: the topic sets none)",
                            setting(chunkBytes),
                            TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                            required));
        }
    }

    private static String setting(int bytes) {
        return StreamlearnOptions.SNAPSHOT_CHUNK_SIZE.key() + "=" + bytes + " bytes";
    }
}
