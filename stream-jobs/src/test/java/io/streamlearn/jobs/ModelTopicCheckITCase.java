package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.runtime.EmbeddedKafka;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The check a job makes before it starts, against a real broker: a models topic that would refuse
 * the largest snapshot the settings allow fails the job at once, with a message naming the topic,
 * its {@code max.message.bytes} and the setting, instead of a restart loop on {@code
 * RecordTooLargeException} later.
 */
class ModelTopicCheckITCase {
    @RegisterExtension static final KafkaExtension KAFKA = new KafkaExtension();

    private static JobSettings settings(String run) {
        return JobSettings.from(Fixtures.jobConfig(KAFKA.kafka(), run));
    }

    @Test
    void aTopicWithTheBrokersDefaultLimitFailsFastNamingTopicLimitAndSetting() throws Exception {
        JobSettings settings = settings("default-limit");
        KAFKA.kafka().createTopics(1, settings.modelsTopic());

        IllegalStateException e =
                assertThrows(IllegalStateException.class, () -> ModelTopicCheck.check(settings));
        String message = e.getMessage();
        System.out.println("too small a models topic: " + message);
        assertTrue(message.contains("'" + settings.modelsTopic() + "'"), message);
        // The broker's default message.max.bytes: 1 MiB plus the record batch's overhead.
        assertTrue(message.contains("max.message.bytes=1048588"), message);
        assertTrue(message.contains("the broker's message.max.bytes"), message);
        assertTrue(
                message.contains("streamlearn.model-store.max-snapshot-size=16777216 bytes"),
                message);
    }

    @Test
    void aTopicsOwnLimitBelowTheSettingFailsFast() throws Exception {
        JobSettings settings = settings("own-limit");
        KAFKA.kafka()
                .createTopics(
                        1,
                        Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, "2000000"),
                        settings.modelsTopic());

        String message =
                assertThrows(IllegalStateException.class, () -> ModelTopicCheck.check(settings))
                        .getMessage();
        assertTrue(message.contains("max.message.bytes=2000000 bytes,"), message);
    }

    @Test
    void aTopicThatTakesTheSettingPasses() throws Exception {
        JobSettings settings = settings("takes-it");
        KAFKA.kafka()
                .createTopics(
                        1,
                        Map.of(
                                TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                                Long.toString(settings.maxSnapshotBytes())),
                        settings.modelsTopic());

        ModelTopicCheck.check(settings);
    }

    @Test
    void aMissingTopicFailsFast() {
        JobSettings settings = settings("missing");
        String message =
                assertThrows(IllegalStateException.class, () -> ModelTopicCheck.check(settings))
                        .getMessage();
        assertTrue(message.contains("does not exist"), message);
        assertTrue(message.contains("max-snapshot-size"), message);
    }

    @Test
    void theFilesStoreNeedsNoTopic() {
        EmbeddedKafka kafka = KAFKA.kafka();
        Configuration conf = Fixtures.jobConfig(kafka, "files");
        conf.set(StreamlearnOptions.MODEL_STORE, "files");
        conf.set(StreamlearnOptions.MODEL_STORE_PATH, "/nonexistent/models");
        ModelTopicCheck.check(JobSettings.from(conf));
    }
}
