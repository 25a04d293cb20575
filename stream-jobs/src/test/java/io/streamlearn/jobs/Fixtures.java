package io.streamlearn.jobs;

import io.streamlearn.jobs.runtime.EmbeddedKafka;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** What the integration tests share: Flink settings for tests, job settings, producing input. */
final class Fixtures {
    private Fixtures() {}

    /** No retries (the default retries forever) and no Kryo: a type without a serializer fails. */
    static Configuration flinkTestConfig() {
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        return conf;
    }

    /** A MiniCluster of one TaskManager with {@code slots} slots, started with these settings. */
    static MiniClusterExtension miniCluster(Configuration conf, int slots) {
        return new MiniClusterExtension(
                new MiniClusterResourceConfiguration.Builder()
                        .setConfiguration(conf)
                        .setNumberTaskManagers(1)
                        .setNumberSlotsPerTaskManager(slots)
                        .build());
    }

    /** Job settings with topics and transactional ids of their own, so runs never share state. */
    static Configuration jobConfig(EmbeddedKafka kafka, String run) {
        Configuration conf = new Configuration();
        conf.set(StreamlearnOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
        conf.set(StreamlearnOptions.EVENTS_TOPIC, run + "-metrics");
        conf.set(StreamlearnOptions.PREDICTIONS_TOPIC, run + "-predictions");
        conf.set(StreamlearnOptions.DEAD_LETTERS_TOPIC, run + "-dead-letters");
        conf.set(StreamlearnOptions.MODELS_TOPIC, run + "-models");
        conf.set(StreamlearnOptions.INTERACTIONS_TOPIC, run + "-interactions");
        conf.set(StreamlearnOptions.RECOMMENDATIONS_TOPIC, run + "-recommendations");
        conf.set(StreamlearnOptions.ANOMALY_SCORES_TOPIC, run + "-anomaly-scores");
        conf.set(StreamlearnOptions.GROUP_ID, run);
        conf.set(StreamlearnOptions.TRANSACTIONAL_ID_PREFIX, run);
        conf.set(StreamlearnOptions.CHECKPOINT_INTERVAL, Duration.ofMillis(500));
        return conf;
    }

    /**
     * Every topic of the settings; the models topic as the runtime makes it (compacted, taking a
     * snapshot chunk), as the docs tell users to create it.
     */
    static void createTopics(EmbeddedKafka kafka, JobSettings settings) throws Exception {
        kafka.createTopics(
                1,
                settings.eventsTopic(),
                settings.interactionsTopic(),
                settings.predictionsTopic(),
                settings.recommendationsTopic(),
                settings.anomalyScoresTopic(),
                settings.deadLettersTopic(),
                settings.modelCommandsTopic());
        kafka.createTopics(1, ModelTopicCheck.topicConfig(settings), settings.modelsTopic());
    }

    /**
     * Checkpoints on files under {@code dir}, as {@code run} keeps them ({@link
     * io.streamlearn.state.DurableState}): Flink's default in a MiniCluster, the job manager's
     * memory, refuses a state over 5 MiB, and a next-item trainer's state at the default item
     * capacity is larger.
     */
    static Configuration checkpointsOnFiles(Configuration conf, Path dir) {
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, dir.toUri().toString());
        return conf;
    }

    /** Writes the values in order; a failed send fails the test here, not as a missing output. */
    static void produce(EmbeddedKafka kafka, String topic, List<byte[]> values) throws Exception {
        Map<String, Object> config =
                Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        kafka.bootstrapServers(),
                        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                        true);
        try (var producer =
                new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer())) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (byte[] value : values) {
                sent.add(producer.send(new ProducerRecord<>(topic, value)));
            }
            producer.flush();
            for (Future<RecordMetadata> future : sent) {
                future.get();
            }
        }
    }
}
