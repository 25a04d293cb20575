package io.streamlearn.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.TopicReader;
import io.streamlearn.jobs.runtime.EmbeddedKafka;
import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.Prediction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.FixedHostPortGenericContainer;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.MountableFile;

/**
 * Scenario 1 (steady run) on containers where Docker is available: the Kafka and Flink images of
 * {@link ContainerImages}, DJL and PyTorch copied into the task manager's {@code /opt/flink/lib} as
 * a real deployment does, the job jar submitted over REST. Skipped, with the reason, where there is
 * no Docker engine; the same scenario always runs on local processes ({@link
 * TaskManagerFailureITCase}).
 */
class SteadyRunContainersITCase {
    private static final int PER_SERIES = 150;
    private static final int EVENTS = JobRun.SERIES * PER_SERIES;

    @BeforeEach
    void docker() {
        boolean docker;
        try {
            docker = DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException e) {
            docker = false;
        }
        Assumptions.assumeTrue(
                docker,
                "Docker is not available on this machine: the Testcontainers variant of the steady"
                        + " run is skipped (the same scenario runs against local processes in"
                        + " TaskManagerFailureITCase)");
    }

    @Test
    void steadyRunOnContainers() throws Exception {
        int kafkaPort = Ports.free();
        try (Network network = Network.newNetwork();
                GenericContainer<?> kafka =
                        new FixedHostPortGenericContainer<>(ContainerImages.KAFKA)
                                .withFixedExposedPort(kafkaPort, 9094)
                                .withNetwork(network)
                                .withNetworkAliases("kafka")
                                .withEnv("KAFKA_NODE_ID", "1")
                                .withEnv("KAFKA_PROCESS_ROLES", "broker,controller")
                                .withEnv(
                                        "KAFKA_LISTENERS",
                                        "PLAINTEXT://:9092,CONTROLLER://:9093,HOST://:9094")
                                .withEnv(
                                        "KAFKA_ADVERTISED_LISTENERS",
                                        "PLAINTEXT://kafka:9092,HOST://localhost:" + kafkaPort)
                                .withEnv(
                                        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
                                        "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,HOST:PLAINTEXT")
                                .withEnv("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER")
                                .withEnv("KAFKA_CONTROLLER_QUORUM_VOTERS", "1@localhost:9093")
                                .withEnv("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1")
                                .withEnv("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
                                .withEnv("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
                                .waitingFor(Wait.forListeningPort());
                GenericContainer<?> jobManager =
                        new GenericContainer<>(ContainerImages.FLINK)
                                .withNetwork(network)
                                .withNetworkAliases("jobmanager")
                                .withCommand("jobmanager")
                                .withEnv("FLINK_PROPERTIES", flinkProperties())
                                .withExposedPorts(8081)
                                .waitingFor(Wait.forHttp("/overview").forPort(8081));
                GenericContainer<?> taskManager = taskManager(network)) {
            kafka.start();
            jobManager.start();
            taskManager.start();
            String bootstrap = "localhost:" + kafkaPort;
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                List<NewTopic> topics = new ArrayList<>();
                for (String t :
                        List.of(
                                "metrics",
                                "predictions",
                                "dead-letters",
                                "models",
                                "model-commands")) {
                    NewTopic topic = new NewTopic(t, 1, (short) 1);
                    if (t.equals("models")) {
                        // Snapshots larger than a chunk go as chunks: the default limit takes one.
                        topic.configs(Map.of("cleanup.policy", "compact"));
                    }
                    topics.add(topic);
                }
                admin.createTopics(topics).all().get();
                EmbeddedKafka.awaitWritable(
                        admin,
                        topics.stream().map(NewTopic::name).toList(),
                        Duration.ofSeconds(30));
            }
            FlinkRest rest =
                    new FlinkRest(
                            "http://"
                                    + jobManager.getHost()
                                    + ":"
                                    + jobManager.getMappedPort(8081));
            String jar = rest.uploadJar(Path.of(System.getProperty("e2e.job.jar")));
            String job =
                    rest.run(
                            jar,
                            List.of(
                                    "--streamlearn.kafka.bootstrap-servers", "kafka:9092",
                                    "--streamlearn.checkpoint-interval", "1s",
                                    "--streamlearn.trainer.batch-size", "8",
                                    "--execution.checkpointing.dir", "file:///tmp/checkpoints"),
                            1,
                            null);
            Await.until(() -> rest.allRunning(job), Duration.ofMinutes(3), () -> "job running");
            try (var producer =
                    new KafkaProducer<>(
                            Map.<String, Object>of("bootstrap.servers", bootstrap),
                            new ByteArraySerializer(),
                            new ByteArraySerializer())) {
                for (byte[] event : JobRun.input(PER_SERIES, 66L)) {
                    producer.send(new ProducerRecord<>("metrics", event));
                }
            }
            List<Prediction> predictions = new ArrayList<>();
            try (TopicReader reader = new TopicReader(bootstrap, "predictions")) {
                reader.awaitUntil(
                        r -> r.size() >= EVENTS, Duration.ofMinutes(3), EVENTS + " predictions");
                reader.readToEnd(Duration.ofSeconds(30))
                        .forEach(
                                r ->
                                        predictions.add(
                                                AvroSerde.of(Prediction.class).decode(r.value())));
            }
            rest.cancel(job);
            JobRun.assertExactlyOnceAndMonotonic(predictions, EVENTS);
            assertTrue(predictions.stream().anyMatch(p -> p.getModelVersion() > 1), "it learned");
        }
    }

    private static String flinkProperties() {
        return String.join(
                "\n",
                "jobmanager.rpc.address: jobmanager",
                "taskmanager.numberOfTaskSlots: 2",
                "pipeline.generic-types: false",
                "env.java.opts.taskmanager: -Dai.djl.offline=true -Dai.djl.pytorch.num_threads=1"
                        + " -Dorg.apache.avro.SERIALIZABLE_PACKAGES=io.streamlearn.schemas");
    }

    private static GenericContainer<?> taskManager(Network network) throws Exception {
        GenericContainer<?> tm =
                new GenericContainer<>(ContainerImages.FLINK)
                        .withNetwork(network)
                        .withCommand("taskmanager")
                        .withEnv("FLINK_PROPERTIES", flinkProperties())
                        .withEnv("OMP_NUM_THREADS", "1");
        try (Stream<Path> jars = Files.list(Path.of(System.getProperty("e2e.flink.lib")))) {
            for (Path jar : jars.toList()) {
                tm.withCopyFileToContainer(
                        MountableFile.forHostPath(jar), "/opt/flink/lib/" + jar.getFileName());
            }
        }
        return tm;
    }
}
