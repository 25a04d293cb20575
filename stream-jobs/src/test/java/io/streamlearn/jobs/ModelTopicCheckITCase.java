package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.runtime.EmbeddedKafka;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The check a job makes before it starts, against a real broker: a models topic that would refuse a
 * snapshot chunk ({@code streamlearn.model-store.chunk-size} and its framing) fails the job at
 * once, with a message naming the topic, its {@code max.message.bytes} and the setting, instead of
 * a restart loop on {@code RecordTooLargeException} later.
 */
class ModelTopicCheckITCase {
    @RegisterExtension static final KafkaExtension KAFKA = new KafkaExtension();

    private static JobSettings settings(String run) {
        return JobSettings.from(Fixtures.jobConfig(KAFKA.kafka(), run));
    }

    @Test
    void aTopicWithTheBrokersDefaultLimitTakesTheDefaultChunk() throws Exception {
        JobSettings settings = settings("default-limit");
        KAFKA.kafka().createTopics(1, settings.modelsTopic());

        ModelTopicCheck.check(settings);
    }

    @Test
    void aChunkLargerThanTheBrokersDefaultLimitFailsFastNamingTopicLimitAndSetting()
            throws Exception {
        Configuration conf = Fixtures.jobConfig(KAFKA.kafka(), "large-chunk");
        conf.set(StreamlearnOptions.SNAPSHOT_CHUNK_SIZE, MemorySize.parse("2mb"));
        JobSettings settings = JobSettings.from(conf);
        KAFKA.kafka().createTopics(1, settings.modelsTopic());

        IllegalStateException e =
                assertThrows(IllegalStateException.class, () -> ModelTopicCheck.check(settings));
        String message = e.getMessage();
        System.out.println("too small a models topic: " + message);
        assertTrue(message.contains("'" + settings.modelsTopic() + "'"), message);
        // The broker's default message.max.bytes: 1 MiB plus the record batch's overhead.
        assertTrue(message.contains("max.message.bytes=1048588"), message);
        assertTrue(message.contains("the broker's message.max.bytes"), message);
        assertTrue(message.contains("streamlearn.model-store.chunk-size=2097152 bytes"), message);
        assertTrue(message.contains("at least " + (2097152 + 256)), message);
    }

    @Test
    void aTopicsOwnLimitBelowAChunkFailsFast() throws Exception {
        JobSettings settings = settings("own-limit");
        KAFKA.kafka()
                .createTopics(
                        1,
                        Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, "500000"),
                        settings.modelsTopic());

        String message =
                assertThrows(IllegalStateException.class, () -> ModelTopicCheck.check(settings))
                        .getMessage();
        assertTrue(message.contains("max.message.bytes=500000 bytes,"), message);
    }

    @Test
    void aTopicMadeAsTheRuntimeMakesItPasses() throws Exception {
        Configuration conf = Fixtures.jobConfig(KAFKA.kafka(), "takes-it");
        conf.set(StreamlearnOptions.SNAPSHOT_CHUNK_SIZE, MemorySize.parse("4mb"));
        JobSettings settings = JobSettings.from(conf);
        KAFKA.kafka()
                .createTopics(1, ModelTopicCheck.topicConfig(settings), settings.modelsTopic());

        ModelTopicCheck.check(settings);
    }

    @Test
    void aMissingTopicFailsFast() {
        JobSettings settings = settings("missing");
        String message =
                assertThrows(IllegalStateException.class, () -> ModelTopicCheck.check(settings))
                        .getMessage();
        assertTrue(message.contains("does not exist"), message);
        assertTrue(message.contains("chunk-size"), message);
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
