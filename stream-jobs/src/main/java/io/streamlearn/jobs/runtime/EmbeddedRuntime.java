package io.streamlearn.jobs.runtime;

import io.streamlearn.jobs.JobSettings;
import io.streamlearn.jobs.KafkaClientProperties;
import io.streamlearn.jobs.ModelTopicCheck;
import io.streamlearn.jobs.StreamlearnOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;

/**
 * What {@code demo} and {@code replay} run on: a Kafka broker (KRaft) and a Flink MiniCluster with
 * its web UI, both in this JVM on 127.0.0.1, the jobs between them exactly as on a cluster.
 * Temporary files (broker logs, Flink's directories) are removed on close.
 */
public final class EmbeddedRuntime implements AutoCloseable {
    private final EmbeddedKafka kafka;
    private final Path flinkTmp;
    private final int restPort;

    private EmbeddedRuntime(EmbeddedKafka kafka, Path flinkTmp, int restPort) {
        this.kafka = kafka;
        this.flinkTmp = flinkTmp;
        this.restPort = restPort;
    }

    /**
     * Starts the broker. The caller's own lines are the output: the embedded broker and cluster
     * would otherwise fill the terminal with start-up warnings, so only errors show.
     */
    public static EmbeddedRuntime start() throws Exception {
        Configurator.setRootLevel(Level.ERROR);
        Configurator.setLevel("io.streamlearn", Level.WARN);
        // A transaction the Kafka sink could not commit (output that will never show) says so.
        Configurator.setLevel("org.apache.flink.connector.kafka.sink", Level.WARN);
        Path flinkTmp = Files.createTempDirectory("streamlearn-flink-");
        try {
            return new EmbeddedRuntime(EmbeddedKafka.start(), flinkTmp, EmbeddedKafka.freePort());
        } catch (Exception e) {
            Directories.deleteRecursively(flinkTmp);
            throw e;
        }
    }

    /**
     * A job configuration for this runtime: its broker, a checkpoint (and so committed output)
     * every second, no Kryo, the web UI on the runtime's port. Add the job's own keys to it.
     */
    public Configuration configuration() {
        Configuration conf = new Configuration();
        conf.set(CoreOptions.TMP_DIRS, flinkTmp.toString());
        conf.set(WebOptions.UPLOAD_DIR, flinkTmp.resolve("web-upload").toString());
        conf.set(StreamlearnOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
        conf.set(StreamlearnOptions.CHECKPOINT_INTERVAL, Duration.ofSeconds(1));
        // Checkpoints on files, as on a cluster: Flink's default here would keep them in the job
        // manager's memory, which refuses a state over 5 MiB, and the trainer's state (model and
        // optimizer moments, twice) is over that at the default item capacity.
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(
                CheckpointingOptions.CHECKPOINTS_DIRECTORY,
                flinkTmp.resolve("checkpoints").toUri().toString());
        conf.set(
                CheckpointingOptions.SAVEPOINT_DIRECTORY,
                flinkTmp.resolve("savepoints").toUri().toString());
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        conf.set(RestOptions.ADDRESS, "127.0.0.1");
        conf.set(RestOptions.PORT, restPort);
        return conf;
    }

    /** A local environment with the web UI, parallelism 1, for jobs built from {@code conf}. */
    public StreamExecutionEnvironment environment(Configuration conf) {
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf);
        env.setParallelism(1);
        return env;
    }

    /**
     * Creates every topic the jobs' settings name (one partition each). The models topic takes a
     * snapshot chunk with its framing ({@code streamlearn.model-store.chunk-size}; the broker's
     * default {@code max.message.bytes} of 1 MiB takes the default chunk), as a cluster's does
     * (deploy/kubernetes/topics.yaml).
     */
    public void createTopics(JobSettings... jobs) throws Exception {
        Set<String> topics = new LinkedHashSet<>();
        for (JobSettings s : jobs) {
            topics.add(s.recommends() ? s.interactionsTopic() : s.eventsTopic());
            topics.add(s.recommends() ? s.recommendationsTopic() : s.predictionsTopic());
            if (!s.recommends()) {
                topics.add(s.anomalyScoresTopic());
            }
            topics.add(s.deadLettersTopic());
            topics.add(s.modelCommandsTopic());
        }
        kafka.createTopics(1, topics.toArray(new String[0]));
        for (JobSettings s : jobs) {
            kafka.createTopics(1, ModelTopicCheck.topicConfig(s), s.modelsTopic());
        }
    }

    public EmbeddedKafka kafka() {
        return kafka;
    }

    /**
     * A consumer of every partition of {@code topic} from its start, at {@code isolation} ({@code
     * read_committed} or {@code read_uncommitted}), that waits at most 10 ms for a fetch: what the
     * replay's and the job benchmark's readers follow an output topic with.
     */
    public KafkaConsumer<byte[], byte[]> readFromStart(String topic, String isolation) {
        KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(
                        KafkaClientProperties.of(bootstrapServers())
                                .with(
                                        Map.of(
                                                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                                                isolation,
                                                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                                                "false",
                                                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG,
                                                "10")),
                        new ByteArrayDeserializer(),
                        new ByteArrayDeserializer());
        List<TopicPartition> partitions =
                consumer.partitionsFor(topic).stream()
                        .map(p -> new TopicPartition(topic, p.partition()))
                        .toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        return consumer;
    }

    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    /** The Flink web UI's address. */
    public String webUi() {
        return "http://127.0.0.1:" + restPort;
    }

    @Override
    public void close() throws Exception {
        try {
            kafka.close();
        } finally {
            Directories.deleteRecursively(flinkTmp);
        }
    }
}
