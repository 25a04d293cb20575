package io.streamlearn.e2e;

import io.streamlearn.jobs.runtime.EmbeddedKafka;
import java.io.IOException;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * A Kafka broker process in KRaft mode (broker and controller in one node) on 127.0.0.1, started
 * the way an operator starts one: {@code StorageTool format}, then {@code kafka.Kafka
 * server.properties}. It can be stopped and started again on the same ports and log directory.
 */
final class KafkaBroker implements AutoCloseable {
    private final Path dir;
    private final Path properties;
    private final int port;
    private final String classpath;
    private JavaProcess process;
    private int starts;

    private KafkaBroker(Path dir, Path properties, int port, String classpath) {
        this.dir = dir;
        this.properties = properties;
        this.port = port;
        this.classpath = classpath;
    }

    static KafkaBroker start(Path dir, String classpath) throws Exception {
        Files.createDirectories(dir);
        int port = Ports.free();
        int controllerPort = Ports.free();
        Properties props =
                EmbeddedKafka.brokerProperties(
                        port, controllerPort, dir.resolve("data").toString());
        Path file = dir.resolve("server.properties");
        try (Writer out = Files.newBufferedWriter(file)) {
            props.store(out, "streamlearn e2e broker");
        }
        KafkaBroker broker = new KafkaBroker(dir, file, port, classpath);
        broker.format();
        broker.start();
        return broker;
    }

    private void format() throws Exception {
        JavaProcess format =
                JavaProcess.start(
                        "kafka-storage-format",
                        classpath,
                        JavaProcess.jvmArgs(dir.resolve("kafka-storage-format.log"), "-Xmx256m"),
                        "kafka.tools.StorageTool",
                        List.of(
                                "format",
                                "-t",
                                Uuid.randomUuid().toString(),
                                "-c",
                                properties.toString()),
                        Map.of(),
                        dir);
        Await.until(() -> !format.isAlive(), Duration.ofMinutes(1), () -> "StorageTool format");
        if (!Files.exists(dir.resolve("data").resolve("meta.properties"))) {
            throw new IllegalStateException("StorageTool format failed; see " + format.log());
        }
    }

    /** Starts the broker process and waits until it accepts connections and answers metadata. */
    void start() throws Exception {
        starts++;
        process =
                JavaProcess.start(
                        "kafka-" + starts,
                        classpath,
                        JavaProcess.jvmArgs(dir.resolve("kafka.log"), "-Xms256m", "-Xmx512m"),
                        "kafka.Kafka",
                        List.of(properties.toString()),
                        Map.of(),
                        dir);
        Await.until(
                () -> {
                    if (!process.isAlive()) {
                        throw new IllegalStateException("broker exited; see " + process.log());
                    }
                    try (Admin admin = admin()) {
                        admin.describeCluster().nodes().get();
                        return true;
                    } catch (Exception e) {
                        return false;
                    }
                },
                Duration.ofMinutes(2),
                () -> "the Kafka broker to start; see " + process.log());
    }

    /** A controlled shutdown (SIGTERM), as in a rolling restart. */
    void stop() throws InterruptedException {
        process.stop(60);
        Await.until(() -> !listening(), Duration.ofSeconds(30), () -> "port " + port + " closed");
    }

    private boolean listening() {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    Admin admin() {
        return Admin.create(
                Map.of(
                        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000,
                        AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000));
    }

    /** Creates topics of one partition; the config applies to each (for example compaction). */
    void createTopics(Map<String, String> config, String... topics) throws Exception {
        try (Admin admin = admin()) {
            for (String topic : topics) {
                try {
                    admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1).configs(config)))
                            .all()
                            .get();
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
            EmbeddedKafka.awaitWritable(admin, List.of(topics), Duration.ofSeconds(30));
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.kill();
        }
    }
}
