package io.streamlearn.jobs;

import java.util.List;
import java.util.Locale;
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
 * Checks, before a job starts, that its models topic accepts the largest snapshot the job may write
 * ({@code streamlearn.model-store.max-snapshot-size}): the topic's {@code max.message.bytes}, which
 * is the broker's {@code message.max.bytes} (1 MiB by default) where the topic sets none. Without
 * it the first snapshot too large for the topic fails the model store's sink with {@code
 * RecordTooLargeException}, and the job restarts on it again and again, never getting past it.
 */
public final class ModelTopicCheck {
    private static final Logger LOG = LoggerFactory.getLogger(ModelTopicCheck.class);
    private static final long TIMEOUT_SECONDS = 60;

    private ModelTopicCheck() {}

    /**
     * Checks the models topic of a job whose model store is Kafka; nothing for the {@code files}
     * store. A principal that may not describe the topic's configuration is let through with a
     * warning: the trainer still refuses a snapshot over the setting.
     *
     * @throws IllegalStateException naming the topic, its {@code max.message.bytes} and the
     *     setting, when the topic is missing or takes less than the setting
     */
    public static void check(JobSettings settings) {
        if (settings.filesModelStore()) {
            return;
        }
        try (Admin admin = KafkaEndpoints.admin(settings)) {
            check(admin, settings.modelsTopic(), settings.maxSnapshotBytes());
        }
    }

    static void check(Admin admin, String topic, long required) {
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
                                setting(required)));
            }
            if (e.getCause() instanceof AuthorizationException) {
                LOG.warn(
                        "Cannot check that the models topic '{}' accepts {}: {}",
                        topic,
                        setting(required),
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
                                    + " than %s: a snapshot that size would fail the job. Raise"
                                    + " the topic's %s to at least %d, or lower the setting",
                            topic,
                            TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                            accepts,
                            own ? "" : " (the broker's message.max.bytes: the topic sets none)",
                            setting(required),
                            TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                            required));
        }
    }

    private static String setting(long bytes) {
        return StreamlearnOptions.MAX_SNAPSHOT_SIZE.key() + "=" + bytes + " bytes";
    }
}
