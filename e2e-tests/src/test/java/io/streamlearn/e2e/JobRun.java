package io.streamlearn.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.TopicReader;
import io.streamlearn.jobs.runtime.MetricGenerator;
import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.MetricEvent;
import io.streamlearn.schemas.ModelSnapshot;
import io.streamlearn.schemas.Prediction;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * One scenario's job: its own topics, transactional ids and checkpoint directory on the shared
 * processes, the job arguments a user would pass to {@code streamlearn-job.jar}, and the checks
 * every scenario makes on what a {@code read_committed} consumer sees.
 */
final class JobRun {
    static final int SERIES = 4;
    static final int WINDOW = 16;
    static final int BATCH = 8;
    static final int PUBLISH_EVERY = 2;

    private static final AtomicInteger RUNS = new AtomicInteger();

    private final String name;
    private final Map<String, String> args = new LinkedHashMap<>();
    private final List<String> jobs = new ArrayList<>();

    /** A run with topics of its own: {@code name} and a number unique in this JVM. */
    JobRun(String name, Map<String, String> extra) throws Exception {
        this.name = name + "-" + RUNS.incrementAndGet();
        KafkaBroker kafka = E2eEnvironment.kafka();
        args.put("streamlearn.kafka.bootstrap-servers", kafka.bootstrapServers());
        args.put("streamlearn.topic.events", topic("metrics"));
        args.put("streamlearn.topic.predictions", topic("predictions"));
        args.put("streamlearn.topic.anomaly-scores", topic("anomaly-scores"));
        args.put("streamlearn.topic.dead-letters", topic("dead-letters"));
        args.put("streamlearn.topic.models", topic("models"));
        args.put("streamlearn.topic.model-commands", topic("model-commands"));
        args.put("streamlearn.kafka.group-id", name);
        args.put("streamlearn.kafka.transactional-id-prefix", name);
        args.put("streamlearn.checkpoint-interval", "1s");
        args.put("streamlearn.trainer.batch-size", Integer.toString(BATCH));
        args.put("streamlearn.trainer.publish-every-steps", Integer.toString(PUBLISH_EVERY));
        // The failure scenarios check every version in the store exactly once, in order: the
        // store gets every version (by default one per 10 s, the newest 20 kept).
        args.put("streamlearn.model-store.interval", "0s");
        args.put("streamlearn.model-store.keep-versions", "0");
        args.put("streamlearn.model.window", Integer.toString(WINDOW));
        args.put("streamlearn.model.hidden-size", "16");
        // These tests compare final models bit for bit with an uninterrupted run's, which holds
        // while the trainer learns every example in batches of BATCH. In live mode a trainer that
        // lags (as it does catching up after a failure) takes larger batches and then samples, by
        // design (docs/guarantees.md): an hour of lag turns that off here.
        args.put("streamlearn.trainer.max-lag", "1h");
        // And versions on steps alone, so that each run publishes the same versions.
        args.put("streamlearn.trainer.min-publish-interval", "0s");
        // Every window trains from a series' first events: the tests feed each chunk only after
        // the previous one was answered, and answers wait for the first model.
        args.put("streamlearn.normalizer.warm-up", "0");
        args.put("execution.checkpointing.dir", checkpoints().toUri().toString());
        args.put("pipeline.name", this.name);
        args.put("pipeline.generic-types", "false");
        args.putAll(extra);
        kafka.createTopics(
                Map.of(),
                topic("metrics"),
                topic("predictions"),
                topic("anomaly-scores"),
                topic("dead-letters"),
                topic("model-commands"));
        // Compacted, at the broker's default record limit: a snapshot larger than a chunk goes as
        // chunks (the job checks that the topic takes one), as deploy/kubernetes/topics.yaml's.
        kafka.createTopics(Map.of("cleanup.policy", "compact"), topic("models"));
    }

    String topic(String role) {
        return name + "-" + role;
    }

    Path checkpoints() {
        return E2eEnvironment.work().resolve(name).resolve("checkpoints");
    }

    /** The job jar's arguments: {@code --key value} for every setting of this run. */
    List<String> argList() {
        List<String> list = new ArrayList<>();
        args.forEach(
                (k, v) -> {
                    list.add("--" + k);
                    list.add(v);
                });
        return list;
    }

    /** Submits the job jar with these arguments over REST; returns the job id once it runs. */
    String submit(int parallelism, String savepoint) {
        FlinkRest rest = E2eEnvironment.flink().rest();
        String job = rest.run(E2eEnvironment.jarId(), argList(), parallelism, savepoint);
        jobs.add(job);
        Await.until(
                () -> rest.allRunning(job),
                Duration.ofMinutes(2),
                () -> "job " + name + " running; see " + E2eEnvironment.flink().dir());
        return job;
    }

    /**
     * Cancels this run's jobs that are still running; for the end of a test, failed or not. A job
     * that reaches another terminal state meanwhile (a stop with savepoint) is left as it is.
     */
    void cancelJobs() {
        FlinkRest rest = E2eEnvironment.flink().rest();
        for (String job : jobs) {
            if (terminal(rest.jobState(job))) {
                continue;
            }
            try {
                rest.cancel(job);
            } catch (IllegalStateException e) {
                // Finished between the look and the cancel: checked below.
            }
            Await.until(
                    () -> terminal(rest.jobState(job)),
                    Duration.ofMinutes(1),
                    () -> "job " + job + " cancelled");
        }
    }

    private static boolean terminal(String state) {
        return state.equals("CANCELED") || state.equals("FINISHED") || state.equals("FAILED");
    }

    /** The same metric events for every run with the same arguments, in the same order. */
    static List<byte[]> input(int perSeries, long seed) {
        AvroSerde<MetricEvent> serde = AvroSerde.of(MetricEvent.class);
        MetricGenerator generator =
                new MetricGenerator(SERIES, seed, 0.05, 0.0, Instant.parse("2026-01-01T00:00:00Z"));
        List<byte[]> input = new ArrayList<>();
        for (int i = 0; i < SERIES * perSeries; i++) {
            input.add(serde.encode(generator.next()));
        }
        return input;
    }

    void produce(List<byte[]> values) {
        Map<String, Object> config =
                Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        E2eEnvironment.kafka().bootstrapServers(),
                        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                        true);
        List<Future<?>> sent = new ArrayList<>();
        try (var producer =
                new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (byte[] value : values) {
                sent.add(producer.send(new ProducerRecord<>(topic("metrics"), value)));
            }
            producer.flush();
            for (var future : sent) {
                future.get(); // a failed send fails the test here, not as a missing prediction
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("could not produce to " + topic("metrics"), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Waits until a read_committed consumer sees at least {@code count} predictions. */
    void awaitPredictions(long count, Duration timeout) {
        try (TopicReader reader = reader("predictions")) {
            reader.awaitUntil(r -> r.size() >= count, timeout, count + " predictions of " + name);
        } catch (AssertionError e) {
            StringBuilder jobs = new StringBuilder();
            for (String job : this.jobs) {
                jobs.append('\n').append(E2eEnvironment.flink().rest().describe(job));
            }
            throw new AssertionError(e.getMessage() + "; " + offsets("predictions") + jobs, e);
        }
    }

    /** For failure messages: the log end offset and a read_committed consumer's end offset. */
    String offsets(String role) {
        Map<String, Object> base =
                Map.of(
                        "bootstrap.servers",
                        E2eEnvironment.kafka().bootstrapServers(),
                        "key.deserializer",
                        "org.apache.kafka.common.serialization.ByteArrayDeserializer",
                        "value.deserializer",
                        "org.apache.kafka.common.serialization.ByteArrayDeserializer");
        var partition = new TopicPartition(topic(role), 0);
        Map<String, Object> committed = new HashMap<>(base);
        committed.put("isolation.level", "read_committed");
        try (var all = new KafkaConsumer<byte[], byte[]>(base);
                var stable = new KafkaConsumer<byte[], byte[]>(committed)) {
            return topic(role)
                    + ": log end offset "
                    + all.endOffsets(List.of(partition)).get(partition)
                    + ", last stable offset "
                    + stable.endOffsets(List.of(partition)).get(partition);
        }
    }

    long committedPredictions() {
        try (TopicReader reader = reader("predictions")) {
            return reader.readToEnd(Duration.ofSeconds(30)).size();
        }
    }

    List<Prediction> predictions() {
        AvroSerde<Prediction> serde = AvroSerde.of(Prediction.class);
        try (TopicReader reader = reader("predictions")) {
            return reader.readToEnd(Duration.ofSeconds(30)).stream()
                    .map(r -> serde.decode(r.value()))
                    .toList();
        }
    }

    List<ModelSnapshot> models() {
        AvroSerde<ModelSnapshot> serde = AvroSerde.of(ModelSnapshot.class);
        try (TopicReader reader = reader("models")) {
            return reader.readToEnd(Duration.ofSeconds(30)).stream()
                    .map(r -> serde.decode(r.value()))
                    .toList();
        }
    }

    private TopicReader reader(String role) {
        return new TopicReader(E2eEnvironment.kafka().bootstrapServers(), topic(role));
    }

    /**
     * Exactly once: one prediction per event, none twice; and per series the serving model version
     * never goes back, failures or not.
     */
    static void assertExactlyOnceAndMonotonic(List<Prediction> predictions, int events) {
        assertEquals(events, predictions.size(), "one committed prediction per event");
        Set<String> seen = new HashSet<>();
        Map<String, Long> lastVersion = new HashMap<>();
        for (Prediction p : predictions) {
            String id = p.getEntityId() + "@" + p.getEventTime();
            assertTrue(seen.add(id), "duplicate prediction for " + id);
            long previous = lastVersion.getOrDefault(p.getEntityId(), 0L);
            assertTrue(
                    p.getModelVersion() >= previous,
                    "model version went back from "
                            + previous
                            + " to "
                            + p.getModelVersion()
                            + " at "
                            + id);
            lastVersion.put(p.getEntityId(), p.getModelVersion());
        }
    }

    /**
     * The last version of a run over {@code perSeries} events per series: every example is used.
     */
    static long finalVersion(int perSeries) {
        return (long) SERIES * (perSeries - WINDOW) / BATCH / PUBLISH_EVERY;
    }

    /** Waits until the model store holds {@code count} snapshots; returns them. */
    List<ModelSnapshot> awaitModels(long count) {
        return Await.until(
                () -> {
                    List<ModelSnapshot> m = models();
                    return m.size() >= count ? m : null;
                },
                Duration.ofMinutes(2),
                () -> count + " model versions of " + name);
    }

    /** Every version once, 1..n in order. */
    static void assertVersionSequence(List<ModelSnapshot> models, long last) {
        List<Long> versions = models.stream().map(ModelSnapshot::getModelVersion).toList();
        List<Long> expected = new ArrayList<>();
        for (long v = 1; v <= last; v++) {
            expected.add(v);
        }
        assertEquals(expected, versions, "every model version once, in order");
    }
}
