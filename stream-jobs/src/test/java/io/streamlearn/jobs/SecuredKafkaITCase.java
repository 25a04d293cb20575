package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.cli.RunJob;
import io.streamlearn.jobs.feeds.AvroStreamsSerde;
import io.streamlearn.jobs.feeds.FeedApp;
import io.streamlearn.jobs.feeds.FeedOptions;
import io.streamlearn.jobs.runtime.EmbeddedKafka;
import io.streamlearn.jobs.runtime.EventProducer;
import io.streamlearn.schemas.Recommendation;
import io.streamlearn.schemas.ScoredItem;
import io.streamlearn.state.ModelStore;
import java.io.OutputStream;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.test.junit5.InjectClusterRESTAddress;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job, a feed and the commands' producer against a broker that only lets in clients over TLS
 * with a SASL/PLAIN login: every client gets its settings from {@code
 * streamlearn.kafka.properties.*}, the secrets show in no log line and in neither of the job
 * configurations Flink's web UI serves, and a wrong password stops the job and the feed at once
 * with a message naming the setting.
 */
class SecuredKafkaITCase {
    private static final String USER = "streamlearn";
    private static final String PASSWORD = "pw-9c41e7-must-not-show";
    private static final String STORE_PASSWORD = "store-5b2e8d-must-not-show";
    private static final String LISTENER = "secured";

    @RegisterExtension
    static final MiniClusterExtension FLINK = Fixtures.miniCluster(Fixtures.flinkTestConfig(), 2);

    @TempDir static Path dir;
    private static EmbeddedKafka kafka;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void broker() throws Exception {
        TestCertificates certs = TestCertificates.create(dir, STORE_PASSWORD);
        String listener = "listener.name." + LISTENER + ".";
        Map<String, String> broker = new HashMap<>();
        broker.put("sasl.enabled.mechanisms", "PLAIN");
        broker.put(listener + "sasl.enabled.mechanisms", "PLAIN");
        broker.put(
                listener + "plain.sasl.jaas.config",
                "org.apache.kafka.common.security.plain.PlainLoginModule required user_"
                        + USER
                        + "=\""
                        + PASSWORD
                        + "\";");
        broker.put(listener + "ssl.keystore.type", "PKCS12");
        broker.put(listener + "ssl.keystore.location", certs.keystore().toString());
        broker.put(listener + "ssl.keystore.password", STORE_PASSWORD);
        broker.put(listener + "ssl.key.password", STORE_PASSWORD);
        kafka = EmbeddedKafka.startWithListener(LISTENER, "SASL_SSL", broker);
    }

    @AfterAll
    static void stopBroker() throws Exception {
        kafka.close();
    }

    /** What a user puts in the job's file for a SASL_SSL cluster. */
    private static Map<String, String> clientKeys(String password) {
        String p = KafkaClientProperties.PREFIX;
        return Map.of(
                StreamlearnOptions.BOOTSTRAP_SERVERS.key(),
                kafka.bootstrapServers(LISTENER),
                p + "security.protocol",
                "SASL_SSL",
                p + "sasl.mechanism",
                "PLAIN",
                p + "sasl.jaas.config",
                "org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
                        + USER
                        + "\" password=\""
                        + password
                        + "\";",
                p + "ssl.truststore.type",
                "PKCS12",
                p + "ssl.truststore.location",
                dir.resolve("truststore.p12").toString(),
                p + "ssl.truststore.password",
                STORE_PASSWORD);
    }

    private static Configuration jobConfig(String run, String password) {
        Configuration conf = Fixtures.jobConfig(kafka, run);
        clientKeys(password).forEach(conf::setString);
        return conf;
    }

    @Test
    void jobAndFeedWorkThroughTheSecuredListenerAndShowNoSecret(@InjectClusterRESTAddress URI rest)
            throws Exception {
        Configuration conf = jobConfig("secured", PASSWORD);
        conf.setString("state.checkpoints.dir", dir.resolve("checkpoints").toUri().toString());
        // The test classpath holds Flink's RocksDB jar, so RunJob would pick RocksDB, whose native
        // TTL filter does not link in this JVM; the state backend is not what this test is about.
        conf.setString("state.backend.type", "hashmap");
        JobSettings settings = JobSettings.from(conf);
        KafkaClientProperties client = settings.kafka();
        Fixtures.createTopics(kafka, settings);
        kafka.createTopics(1, FeedOptions.FEED_DEAD_LETTERS_TOPIC.defaultValue());

        StringWriter logs = new StringWriter();
        try (var capture = LogCapture.atInfo(logs)) {
            // The input goes in as `streamlearn generate` writes it, through the secured listener.
            EventProducer.run(
                    client,
                    settings.eventsTopic(),
                    EventProducer.metrics(4, 7L),
                    10_000,
                    0,
                    4 * 300,
                    new AtomicLong(),
                    new AtomicBoolean());
            Path file = dir.resolve("job.properties");
            Properties properties = new Properties();
            properties.putAll(conf.toMap());
            try (OutputStream out = Files.newOutputStream(file)) {
                properties.store(out, null);
            }
            // `streamlearn run --config job.properties`, on the test's MiniCluster.
            CompletableFuture<Void> job =
                    CompletableFuture.runAsync(
                            () -> {
                                try {
                                    RunJob.main(new String[] {"--config", file.toString()});
                                } catch (Exception e) {
                                    throw new IllegalStateException(e);
                                }
                            });
            try (TopicReader predictions = new TopicReader(client, settings.predictionsTopic())) {
                predictions.awaitUntil(
                        r -> !r.isEmpty() || job.isDone(),
                        Duration.ofMinutes(3),
                        "a prediction, read over TLS");
            }
            assertFalse(job.isDone(), () -> "the job ended early: " + failureOf(job));
            // The model store reader (warm start, `streamlearn models`) over TLS, once a
            // snapshot is committed.
            try (TopicReader models = new TopicReader(client, settings.modelsTopic())) {
                models.awaitUntil(
                        r -> !r.isEmpty() || job.isDone(), Duration.ofMinutes(3), "a snapshot");
            }
            try (ModelStore store = ModelStores.open(settings)) {
                assertFalse(store.versions().isEmpty(), "model versions read over TLS");
            }
            String jobId = runningJob(rest);
            String jobConfig = get(rest + "/jobs/" + jobId + "/config");
            String jobManagerConfig = get(rest + "/jobs/" + jobId + "/jobmanager/config");
            System.out.println("web UI, job configuration: " + jobConfig);
            assertTrue(jobConfig.contains(jobId), "the job's configuration page: " + jobConfig);
            for (String page : List.of(jobConfig, jobManagerConfig)) {
                assertFalse(page.contains(PASSWORD), "the SASL password is served: " + page);
                assertFalse(page.contains(STORE_PASSWORD), "a store password is served: " + page);
            }
            send(
                    HttpRequest.newBuilder(URI.create(rest + "/jobs/" + jobId + "?mode=cancel"))
                            .method("PATCH", HttpRequest.BodyPublishers.noBody())
                            .build());
            ExecutionException cancelled =
                    assertThrows(ExecutionException.class, () -> job.get(1, TimeUnit.MINUTES));
            assertTrue(
                    causes(cancelled).toLowerCase(java.util.Locale.ROOT).contains("cancel"),
                    "the job ended by the cancel: " + causes(cancelled));

            feedServesThroughTheSecuredListener(client, settings.recommendationsTopic());
        } finally {
            String logged = logs.toString();
            assertFalse(logged.contains(PASSWORD), "the SASL password is logged");
            assertFalse(logged.contains(STORE_PASSWORD), "a store password is logged");
            assertTrue(
                    logged.contains("sasl.jaas.config = [hidden]"),
                    "Kafka's clients logged their configuration, with the secret masked");
        }
    }

    private void feedServesThroughTheSecuredListener(KafkaClientProperties client, String topic)
            throws Exception {
        Configuration feed = new Configuration();
        clientKeys(PASSWORD).forEach(feed::setString);
        feed.set(StreamlearnOptions.RECOMMENDATIONS_TOPIC, topic);
        feed.set(FeedOptions.HTTP_PORT, 0);
        feed.set(FeedOptions.STATE_DIR, dir.resolve("feed-state").toString());
        feed.setString("commit.interval.ms", "100");
        try (FeedApp app = FeedApp.start(FeedApp.Feed.RECOMMENDATIONS, feed);
                var producer =
                        new KafkaProducer<>(
                                client.with(Map.of()),
                                new StringSerializer(),
                                AvroStreamsSerde.of(Recommendation.class).serializer())) {
            Recommendation recommendation =
                    Recommendation.newBuilder()
                            .setUserId("u1")
                            .setEventTime(Instant.ofEpochMilli(10))
                            .setItems(List.of(new ScoredItem("item-7", 0.9)))
                            .setModelVersion(3)
                            .build();
            producer.send(new ProducerRecord<>(topic, "u1", recommendation)).get();
            String url = "http://127.0.0.1:" + app.httpPort() + "/users/u1/recommendations";
            long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
            HttpResponse<String> served = send(HttpRequest.newBuilder(URI.create(url)).build());
            while (served.statusCode() != 200 && System.nanoTime() < deadline) {
                Thread.sleep(100); // poll interval of the condition, not a wait in its place
                served = send(HttpRequest.newBuilder(URI.create(url)).build());
            }
            assertEquals(200, served.statusCode(), served.body());
            assertTrue(served.body().contains("item-7"), served.body());
        }
    }

    @Test
    void aWrongPasswordStopsTheJobAndTheFeedAtOnceNamingTheSetting() throws Exception {
        Configuration conf = jobConfig("wrong-password", "not-the-password");
        JobSettings settings = JobSettings.from(conf);

        long start = System.nanoTime();
        IllegalArgumentException job =
                assertThrows(IllegalArgumentException.class, () -> Jobs.checkKafka(settings));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        System.out.println("wrong password, job (" + took.toMillis() + " ms): " + job.getMessage());
        assertTrue(took.compareTo(Duration.ofSeconds(20)) < 0, "failed after " + took);
        assertNamesTheSetting(job.getMessage());

        Configuration feed = new Configuration();
        clientKeys("not-the-password").forEach(feed::setString);
        feed.set(FeedOptions.HTTP_PORT, 0);
        feed.set(FeedOptions.STATE_DIR, dir.resolve("wrong-feed-state").toString());
        IllegalArgumentException app =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> FeedApp.start(FeedApp.Feed.RECOMMENDATIONS, feed).close());
        System.out.println("wrong password, feed: " + app.getMessage());
        assertNamesTheSetting(app.getMessage());
    }

    @Test
    void anUntrustedBrokerCertificateNamesTheTruststore() throws Exception {
        TestCertificates other =
                TestCertificates.create(
                        Files.createDirectories(dir.resolve("other-ca")), STORE_PASSWORD);
        Map<String, String> keys = new HashMap<>(clientKeys(PASSWORD));
        keys.put(
                KafkaClientProperties.PREFIX + "ssl.truststore.location",
                other.truststore().toString());
        KafkaClientProperties client = KafkaClientProperties.from(Configuration.fromMap(keys));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> KafkaAccess.check(client));
        System.out.println("untrusted certificate: " + e.getMessage());
        assertTrue(e.getMessage().startsWith("The TLS handshake with Kafka at "), e.getMessage());
        assertTrue(
                e.getMessage().contains(KafkaClientProperties.PREFIX + "ssl.truststore.location"),
                e.getMessage());
    }

    private static void assertNamesTheSetting(String message) {
        assertTrue(message.contains("refused the SASL login (PLAIN)"), message);
        assertTrue(message.contains(kafka.bootstrapServers(LISTENER)), message);
        assertTrue(message.contains(KafkaClientProperties.PREFIX + "sasl.jaas.config"), message);
        assertFalse(message.contains("not-the-password"), message);
    }

    private static String failureOf(CompletableFuture<Void> job) {
        try {
            job.get();
            return "without failure";
        } catch (Exception e) {
            return causes(e);
        }
    }

    private static String causes(Throwable failure) {
        StringBuilder chain = new StringBuilder();
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            chain.append(t).append(" <- ");
        }
        return chain.toString();
    }

    /** The id of the one running job, from the REST API the web UI reads. */
    private String runningJob(URI rest) throws Exception {
        String jobs = get(rest + "/jobs");
        Matcher running =
                Pattern.compile("\"id\":\"([0-9a-f]{32})\",\"status\":\"RUNNING\"").matcher(jobs);
        assertTrue(running.find(), "a running job: " + jobs);
        return running.group(1);
    }

    private String get(String url) throws Exception {
        HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(url)).build());
        assertEquals(200, response.statusCode(), url + ": " + response.body());
        return response.body();
    }

    private HttpResponse<String> send(HttpRequest request) throws Exception {
        return http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    /** Every log line of every logger at INFO and above, into a writer, while open. */
    private static final class LogCapture implements AutoCloseable {
        private final LoggerContext context;
        private final WriterAppender appender;
        private final Level rootLevel;

        private LogCapture(LoggerContext context, WriterAppender appender, Level rootLevel) {
            this.context = context;
            this.appender = appender;
            this.rootLevel = rootLevel;
        }

        static LogCapture atInfo(StringWriter into) {
            LoggerContext context = (LoggerContext) LogManager.getContext(false);
            WriterAppender appender =
                    WriterAppender.newBuilder()
                            .setName("secured-kafka-capture")
                            .setTarget(into)
                            .setLayout(PatternLayout.newBuilder().withPattern("%c %m%n").build())
                            .build();
            appender.start();
            LoggerConfig root = context.getConfiguration().getRootLogger();
            Level before = root.getLevel();
            context.getConfiguration().addAppender(appender);
            root.addAppender(appender, Level.INFO, null);
            Configurator.setRootLevel(Level.INFO);
            context.updateLoggers();
            return new LogCapture(context, appender, before);
        }

        @Override
        public void close() {
            LoggerConfig root = context.getConfiguration().getRootLogger();
            root.removeAppender(appender.getName());
            Configurator.setRootLevel(rootLevel);
            context.updateLoggers();
            appender.stop();
        }
    }
}
