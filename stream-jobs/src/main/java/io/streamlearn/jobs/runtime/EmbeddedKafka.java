package io.streamlearn.jobs.runtime;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A single Kafka broker in KRaft mode (broker and controller in one node), in this JVM, bound to
 * 127.0.0.1 on free ports, with its logs in a directory it owns and deletes on close. It backs
 * {@code demo} and the integration tests; it is a real broker (transactions included), not a fake.
 */
public final class EmbeddedKafka implements AutoCloseable {
    private final Path directory;
    private final boolean ownsDirectory;
    private final int brokerPort;
    private final Map<String, Integer> extraPorts;
    private final KafkaConfig config;
    private KafkaRaftServer server;

    private EmbeddedKafka(
            Path directory,
            boolean ownsDirectory,
            int brokerPort,
            Map<String, Integer> extraPorts,
            KafkaConfig config,
            KafkaRaftServer server) {
        this.directory = directory;
        this.ownsDirectory = ownsDirectory;
        this.brokerPort = brokerPort;
        this.extraPorts = extraPorts;
        this.config = config;
        this.server = server;
    }

    /** Formats a fresh log directory under a new temporary folder and starts the broker. */
    public static EmbeddedKafka start() throws Exception {
        return start(Files.createTempDirectory("streamlearn-kafka-"), true, null);
    }

    /**
     * A broker with one more listener, for clients that must authenticate (a {@code SASL_SSL}
     * listener, say): {@code listener} on a free port of 127.0.0.1, speaking {@code
     * securityProtocol}, set up by {@code brokerSettings} (its {@code listener.name.<name>.*} keys:
     * keystore, SASL users). The PLAINTEXT listener stays, for the broker's own traffic and for
     * whoever prepares topics; {@link #bootstrapServers(String)} gives the new listener's address.
     */
    public static EmbeddedKafka startWithListener(
            String listener, String securityProtocol, Map<String, String> brokerSettings)
            throws Exception {
        return start(
                Files.createTempDirectory("streamlearn-kafka-"),
                true,
                new Listener(listener.toUpperCase(Locale.ROOT), securityProtocol, brokerSettings));
    }

    private record Listener(String name, String securityProtocol, Map<String, String> settings) {}

    static EmbeddedKafka start(Path directory, boolean ownsDirectory) throws Exception {
        return start(directory, ownsDirectory, null);
    }

    private static EmbeddedKafka start(Path directory, boolean ownsDirectory, Listener extra)
            throws Exception {
        int brokerPort = freePort();
        int controllerPort = freePort();
        String logDir = directory.resolve("logs").toString();
        Properties props = brokerProperties(brokerPort, controllerPort, logDir);
        Map<String, Integer> extraPorts = new HashMap<>();
        if (extra != null) {
            int port = freePort();
            extraPorts.put(extra.name(), port);
            String address = extra.name() + "://127.0.0.1:" + port;
            props.put("listeners", props.getProperty("listeners") + "," + address);
            props.put(
                    "advertised.listeners",
                    props.getProperty("advertised.listeners") + "," + address);
            props.put(
                    "listener.security.protocol.map",
                    props.getProperty("listener.security.protocol.map")
                            + ","
                            + extra.name()
                            + ":"
                            + extra.securityProtocol());
            props.putAll(extra.settings());
        }
        KafkaConfig config = KafkaConfig.fromProps(props);

        ByteArrayOutputStream formatOutput = new ByteArrayOutputStream();
        new Formatter()
                .setPrintStream(new PrintStream(formatOutput, true))
                .setNodeId(1)
                .setClusterId(Uuid.randomUuid().toString())
                .setControllerListenerName("CONTROLLER")
                .setMetadataLogDirectory(logDir)
                .addDirectory(logDir)
                .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
                .setHasDynamicQuorum(false)
                .run();

        KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
        server.startup();
        return new EmbeddedKafka(directory, ownsDirectory, brokerPort, extraPorts, config, server);
    }

    /**
     * Stops the broker cleanly and starts it again on the same log directory and ports: what it
     * held on disk (topics, records, transactions and their markers) is all it has after, as after
     * a broker restart in a cluster. Clients reconnect on their own.
     */
    public void restart() {
        server.shutdown();
        server.awaitShutdown();
        server = new KafkaRaftServer(config, Time.SYSTEM);
        server.startup();
    }

    /**
     * The configuration of a single-node KRaft broker on 127.0.0.1: broker and controller in one
     * process, replication 1, no automatic topics, and no time-based retention. Shared with the e2e
     * tests' broker process.
     *
     * <p>Retention is off because the job writes its outputs with the events' own times as record
     * timestamps, and a replayed history is older than the default seven days: the broker's first
     * retention check (30 s after start) then deleted every segment written so far, the answers a
     * replay had not read yet and the models of the store among them, and the replay waited forever
     * for answers that were gone. The broker's data lives only as long as the run.
     */
    public static Properties brokerProperties(int brokerPort, int controllerPort, String logDir) {
        Properties props = new Properties();
        props.put("process.roles", "broker,controller");
        props.put("node.id", "1");
        props.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        props.put(
                "listeners",
                "PLAINTEXT://127.0.0.1:"
                        + brokerPort
                        + ",CONTROLLER://127.0.0.1:"
                        + controllerPort);
        props.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
        props.put("controller.listener.names", "CONTROLLER");
        props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        props.put("inter.broker.listener.name", "PLAINTEXT");
        props.put("log.dirs", logDir);
        props.put("num.partitions", "1");
        props.put("offsets.topic.replication.factor", "1");
        props.put("offsets.topic.num.partitions", "1");
        props.put("transaction.state.log.replication.factor", "1");
        props.put("transaction.state.log.min.isr", "1");
        props.put("transaction.state.log.num.partitions", "1");
        props.put("share.coordinator.state.topic.replication.factor", "1");
        props.put("share.coordinator.state.topic.min.isr", "1");
        props.put("group.initial.rebalance.delay.ms", "0");
        props.put("auto.create.topics.enable", "false");
        props.put("log.retention.ms", "-1");
        return props;
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + brokerPort;
    }

    /** The address of the extra listener of {@link #startWithListener}. */
    public String bootstrapServers(String listener) {
        Integer port = extraPorts.get(listener.toUpperCase(Locale.ROOT));
        if (port == null) {
            throw new IllegalArgumentException(
                    "this broker has no listener '" + listener + "', only " + extraPorts.keySet());
        }
        return "127.0.0.1:" + port;
    }

    /**
     * Creates topics with the given partitions (replication 1); existing ones are left as they are.
     */
    public void createTopics(int partitions, String... topics) throws Exception {
        createTopics(partitions, Map.of(), topics);
    }

    /**
     * Creates topics with the given partitions (replication 1) and topic configuration (e.g. {@code
     * max.message.bytes}); existing ones are left as they are.
     */
    public void createTopics(int partitions, Map<String, String> config, String... topics)
            throws Exception {
        try (Admin admin =
                Admin.create(
                        Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
            List<NewTopic> newTopics = new ArrayList<>();
            for (String topic : topics) {
                newTopics.add(new NewTopic(topic, partitions, (short) 1).configs(config));
            }
            try {
                admin.createTopics(newTopics).all().get();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
            awaitWritable(admin, List.of(topics), Duration.ofSeconds(30));
        }
    }

    /**
     * Waits until every partition of the topics has a leader that serves requests. A created topic
     * is not writable at once: a producer's first request can fail with NOT_LEADER, and an
     * idempotent producer whose retry of that first batch lands after a later batch spins on
     * OutOfOrderSequence until its delivery timeout and loses the batch (KAFKA-15591). Listing each
     * partition's end offset is answered by the leader itself, so it succeeds only once the leader
     * is ready.
     */
    public static void awaitWritable(Admin admin, Collection<String> topics, Duration timeout)
            throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
                admin.describeTopics(topics)
                        .allTopicNames()
                        .get()
                        .forEach(
                                (name, description) ->
                                        description
                                                .partitions()
                                                .forEach(
                                                        p ->
                                                                latest.put(
                                                                        new TopicPartition(
                                                                                name,
                                                                                p.partition()),
                                                                        OffsetSpec.latest())));
                admin.listOffsets(latest).all().get();
                return;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof RetriableException) || System.nanoTime() > deadline) {
                    throw new TimeoutException(
                            "topics "
                                    + topics
                                    + " have no leader ready after "
                                    + timeout
                                    + ": "
                                    + e.getCause());
                }
                Thread.sleep(50); // poll interval of the condition above, not a wait in its place
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.shutdown();
        server.awaitShutdown();
        if (ownsDirectory) {
            Directories.deleteRecursively(directory);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket =
                new ServerSocket(0, 0, java.net.InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }
}
