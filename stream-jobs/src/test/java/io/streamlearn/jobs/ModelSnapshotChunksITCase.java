package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.runtime.EmbeddedKafka;
import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelState;
import io.streamlearn.models.OnlineLearner;
import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.ModelAction;
import io.streamlearn.schemas.ModelCommand;
import io.streamlearn.schemas.ModelSnapshot;
import io.streamlearn.schemas.ModelSnapshotChunk;
import io.streamlearn.state.KafkaModelStore;
import io.streamlearn.state.ModelSnapshots;
import io.streamlearn.state.ModelStoreRecords;
import io.streamlearn.state.ModelStoreRecords.KeyValue;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.flink.api.common.functions.util.ListCollector;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Chunked model snapshots on a real broker, at the default chunk size: a version larger than one
 * record is written in one transaction, reads back bit-exact, and stays whole across a broker
 * restart and compaction; one whose transaction did not commit, or whose chunk is corrupted, is
 * never handed out; a rollback by reference reads it as the store does.
 */
class ModelSnapshotChunksITCase {
    private static final int CHUNK =
            (int) StreamlearnOptions.SNAPSHOT_CHUNK_SIZE.defaultValue().getBytes();
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private static ModelState big1;
    private static ModelState big2;
    private static ModelState small;

    @BeforeAll
    static void models() {
        try (OnlineLearner learner =
                new OnlineLearner(ModelConfig.builder().setWindow(4).optHiddenSize(200).build())) {
            learner.nextVersion();
            big1 = learner.snapshot();
            learner.train(new float[][] {{1, 2, 3, 4}}, new float[][] {{5}});
            learner.nextVersion();
            big2 = learner.snapshot();
        }
        try (OnlineLearner learner =
                new OnlineLearner(ModelConfig.builder().setWindow(4).optHiddenSize(4).build())) {
            small = learner.snapshot().withVersion(100);
        }
    }

    /**
     * Versions 1 and 2 chunked and committed (1 twice, as a replay writes it again), 3 in an
     * aborted transaction, 4's chunks committed without their manifest. Then a restart, then
     * compaction until the first write of version 1 is cleaned away: 1 and 2 read whole at every
     * step, 3 and 4 never.
     */
    @Test
    void aChunkedVersionSurvivesABrokerRestartAndCompaction() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopics(
                    1,
                    Map.of(
                            TopicConfig.CLEANUP_POLICY_CONFIG,
                            TopicConfig.CLEANUP_POLICY_COMPACT,
                            TopicConfig.SEGMENT_MS_CONFIG,
                            "100",
                            TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_CONFIG,
                            "0.01",
                            TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG,
                            "0"),
                    "models");
            List<KeyValue> one = records(big1);
            assertTrue(one.size() >= 4, "at least three chunks and a manifest: " + one.size());
            List<KeyValue> three = records(big2.withVersion(3));
            List<KeyValue> four = records(big2.withVersion(4));
            try (var producer = transactional(kafka)) {
                write(producer, one, true);
                write(producer, one, true);
                write(producer, records(big2), true);
                write(producer, three, false);
                write(producer, four.subList(0, four.size() - 1), true);
            }

            assertHoldsOneAndTwoOnly(kafka, "as written");
            kafka.restart();
            assertHoldsOneAndTwoOnly(kafka, "after a broker restart");

            // Compaction cleans only segments that are no longer active, and a segment rolls (after
            // segment.ms) on the next append: keep appending a small version until the cleaner has
            // removed the first write of version 1.
            String firstChunk = ModelStoreRecords.chunkKey(1, 0);
            long start = System.nanoTime();
            long deadline = start + Duration.ofMinutes(2).toNanos();
            int appends = 0;
            try (var producer = transactional(kafka)) {
                while (count(kafka, firstChunk) > 1) {
                    assertTrue(
                            System.nanoTime() < deadline,
                            "the log cleaner did not compact the models topic in 2 minutes");
                    write(producer, records(small), true);
                    appends++;
                }
            }
            System.out.printf(
                    "compacted after %d appends, %.1f s%n",
                    appends, (System.nanoTime() - start) / 1e9);
            assertEquals(1, count(kafka, firstChunk), "compacted");
            assertHoldsOneAndTwoOnly(kafka, "after compaction");
        }
    }

    /**
     * A chunk overwritten with a flipped byte (what a bad disk or a buggy writer leaves): the
     * version is refused by the checksum of the whole, naming it, while the others still load; an
     * earlier single-record version reads next to chunked ones.
     */
    @Test
    void aCorruptedChunkIsRefusedByChecksumNamingTheVersion() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopics(
                    1,
                    Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT),
                    "models");
            List<KeyValue> two = records(big2);
            try (var producer = transactional(kafka)) {
                write(producer, records(small.withVersion(1)), true);
                write(producer, two, true);
                write(producer, records(big1.withVersion(3)), true);
                write(producer, List.of(corrupted(two.get(1))), true);
            }
            try (KafkaModelStore store = store(kafka)) {
                assertEquals(
                        List.of(1L, 3L),
                        store.versions().stream().map(ModelSnapshot::getModelVersion).toList());
                IllegalArgumentException refused =
                        assertThrows(IllegalArgumentException.class, () -> store.load(2));
                assertTrue(
                        refused.getMessage().startsWith("model version 2 is corrupt:"),
                        refused.getMessage());
                assertTrue(refused.getMessage().contains("sha256"), refused.getMessage());
                assertTrue(store.refused().containsKey(2L), store.refused().toString());
                assertEquals(small.withVersion(1), store.load(1), "the single-record version");
                assertEquals(big1.withVersion(3), store.load(3));
                assertEquals(big1.withVersion(3), store.latestVerified().orElseThrow());
            }
        }
    }

    /**
     * A rollback to a version too large for a command record names it by version and checksum; the
     * job's command source takes its state from the job's store, chunks reassembled and verified,
     * and refuses a checksum the store does not have or a version it does not hold.
     */
    @Test
    void aRollbackByReferenceTakesTheChunkedVersionFromTheJobsStore() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            JobSettings settings = JobSettings.from(Fixtures.jobConfig(kafka, "rollback"));
            kafka.createTopics(1, ModelTopicCheck.topicConfig(settings), settings.modelsTopic());
            ModelSnapshot two = ModelSnapshots.toSnapshot(big2, Instant.EPOCH);
            try (var producer = transactional(kafka)) {
                producer.beginTransaction();
                for (KeyValue record : ModelStoreRecords.records(two, CHUNK)) {
                    producer.send(
                                    new ProducerRecord<>(
                                            settings.modelsTopic(), record.key(), record.value()))
                            .get();
                }
                producer.commitTransaction();
            }
            KafkaEndpoints.Commands commands = new KafkaEndpoints.Commands(settings);

            List<ModelCommand> resolved = new ArrayList<>();
            commands.deserialize(
                    command(2, two.getSha256().toString()), new ListCollector<>(resolved));
            assertEquals(1, resolved.size());
            assertEquals(
                    big2,
                    ModelSnapshots.verified(
                            resolved.get(0).getState(),
                            resolved.get(0).getSha256().toString(),
                            "rollback"),
                    "the state of version 2, bit-exact");

            List<ModelCommand> refused = new ArrayList<>();
            commands.deserialize(command(2, "0".repeat(64)), new ListCollector<>(refused));
            commands.deserialize(
                    command(7, two.getSha256().toString()), new ListCollector<>(refused));
            assertEquals(List.of(), refused, "a wrong checksum and a missing version");
        }
    }

    private static ConsumerRecord<byte[], byte[]> command(long version, String sha256) {
        ModelCommand command =
                ModelCommand.newBuilder()
                        .setAction(ModelAction.ROLLBACK)
                        .setTargetVersion(version)
                        .setState(ByteBuffer.allocate(0))
                        .setSha256(sha256)
                        .setRequestedAt(Instant.EPOCH)
                        .build();
        return new ConsumerRecord<>(
                "model-commands", 0, 0, null, AvroSerde.of(ModelCommand.class).encode(command));
    }

    private static void assertHoldsOneAndTwoOnly(EmbeddedKafka kafka, String when) {
        try (KafkaModelStore store = store(kafka)) {
            List<Long> versions =
                    store.versions().stream()
                            .map(ModelSnapshot::getModelVersion)
                            .filter(v -> v < 100)
                            .toList();
            assertEquals(List.of(1L, 2L), versions, when);
            assertEquals(big1, store.load(1), "version 1 bit-exact " + when);
            assertEquals(big2, store.load(2), "version 2 bit-exact " + when);
            assertTrue(store.refused().isEmpty(), when + ": " + store.refused());
            for (long missing : List.of(3L, 4L)) {
                assertThrows(
                        NoSuchElementException.class,
                        () -> store.load(missing),
                        "version " + missing + " has no committed manifest " + when);
            }
        }
    }

    private static List<KeyValue> records(ModelState state) {
        return ModelStoreRecords.records(ModelSnapshots.toSnapshot(state, Instant.EPOCH), CHUNK);
    }

    private static KafkaModelStore store(EmbeddedKafka kafka) {
        return new KafkaModelStore(kafka.bootstrapServers(), "models", TIMEOUT);
    }

    private static KafkaProducer<byte[], byte[]> transactional(EmbeddedKafka kafka) {
        KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(
                        Map.of(
                                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                                kafka.bootstrapServers(),
                                ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                                "chunks-test"),
                        new ByteArraySerializer(),
                        new ByteArraySerializer());
        producer.initTransactions();
        return producer;
    }

    /** One transaction of records, committed or aborted. */
    private static void write(
            KafkaProducer<byte[], byte[]> producer, List<KeyValue> records, boolean commit)
            throws Exception {
        producer.beginTransaction();
        for (KeyValue record : records) {
            producer.send(new ProducerRecord<>("models", record.key(), record.value())).get();
        }
        if (commit) {
            producer.commitTransaction();
        } else {
            producer.abortTransaction();
        }
    }

    /** How many records with this key the log holds, committed or not (read_uncommitted). */
    private static long count(EmbeddedKafka kafka, String key) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (var consumer =
                new KafkaConsumer<>(
                        config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition partition = new TopicPartition("models", 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long end = consumer.endOffsets(List.of(partition), TIMEOUT).get(partition);
            List<ConsumerRecord<byte[], byte[]>> read = new ArrayList<>();
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (consumer.position(partition, TIMEOUT) < end) {
                assertTrue(System.nanoTime() < deadline, "timed out reading the models topic");
                consumer.poll(Duration.ofMillis(200)).forEach(read::add);
            }
            return read.stream()
                    .filter(r -> key.equals(new String(r.key(), StandardCharsets.UTF_8)))
                    .count();
        }
    }

    private static KeyValue corrupted(KeyValue chunkRecord) {
        AvroSerde<ModelSnapshotChunk> serde = AvroSerde.of(ModelSnapshotChunk.class);
        ModelSnapshotChunk chunk = serde.decode(chunkRecord.value());
        ByteBuffer data = chunk.getData().duplicate();
        byte[] bytes = new byte[data.remaining()];
        data.get(bytes);
        bytes[bytes.length / 2] ^= 1;
        chunk.setData(ByteBuffer.wrap(bytes));
        return new KeyValue(chunkRecord.key(), serde.encode(chunk));
    }
}
