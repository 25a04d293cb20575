package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.runtime.EmbeddedKafka;
import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelState;
import io.streamlearn.models.OnlineLearner;
import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.ModelSnapshot;
import io.streamlearn.state.KafkaModelStore;
import io.streamlearn.state.ModelSnapshots;
import io.streamlearn.state.ModelStoreRecords;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.OptionalLong;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The model store against a real broker: the job's snapshot sink, versions, last-write-wins,
 * checksums.
 */
class KafkaModelStoreITCase {
    @RegisterExtension static final KafkaExtension KAFKA = new KafkaExtension();

    /**
     * A model larger than Kafka's default 1 MB message, through the job's snapshot sink at the
     * default chunk size: its chunks and manifest go to a topic at the broker's default limit in
     * the checkpoint's transaction, and the store reads the version back whole, bit-exact.
     */
    @Test
    void storesAModelOfMoreThanOneMegabyteAsChunksInOneTransaction() throws Exception {
        ModelState big;
        try (OnlineLearner learner =
                new OnlineLearner(ModelConfig.builder().setWindow(4).optHiddenSize(200).build())) {
            learner.nextVersion();
            big = learner.snapshot();
        }
        ModelSnapshot snapshot = ModelSnapshots.toSnapshot(big, Instant.EPOCH);
        assertTrue(snapshot.getState().remaining() > 1 << 20, "over 1 MB: " + snapshot.getState());

        EmbeddedKafka kafka = KAFKA.kafka();
        Configuration conf = Fixtures.jobConfig(kafka, "big-model");
        JobSettings settings = JobSettings.from(conf);
        kafka.createTopics(1, ModelTopicCheck.topicConfig(settings), settings.modelsTopic());
        ModelTopicCheck.check(settings);
        int expected = ModelStoreRecords.records(snapshot, settings.snapshotChunkBytes()).size();
        assertTrue(expected >= 4, "three chunks or more and a manifest: " + expected);

        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(Fixtures.flinkTestConfig());
        env.enableCheckpointing(200);
        KafkaEndpoints.models(settings)
                .attach(
                        env.fromData(new AvroTypeInfo<>(ModelSnapshot.class), snapshot),
                        uid -> uid,
                        name -> name);
        env.execute("big model");
        // The job's final checkpoint committed the records; the commit markers that make them
        // visible to read_committed consumers are written just after.
        try (TopicReader reader =
                new TopicReader(kafka.bootstrapServers(), settings.modelsTopic())) {
            List<String> keys =
                    reader
                            .awaitUntil(
                                    r -> r.size() >= expected,
                                    Duration.ofSeconds(30),
                                    "the committed chunks and manifest")
                            .stream()
                            .map(r -> new String(r.key(), StandardCharsets.UTF_8))
                            .toList();
            assertEquals(ModelStoreRecords.chunkKey(1, 0), keys.get(0));
            assertEquals("1", keys.get(expected - 1), "the manifest last");
        }

        try (KafkaModelStore store =
                new KafkaModelStore(
                        kafka.bootstrapServers(), settings.modelsTopic(), Duration.ofSeconds(30))) {
            assertEquals(big, store.load(1), "read back whole and verified");
        }
    }

    @Test
    void listsVersionsLoadsVerifiedStatesAndRefusesCorruptOnes() throws Exception {
        List<ModelState> states = new ArrayList<>();
        try (OnlineLearner learner =
                new OnlineLearner(ModelConfig.builder().setWindow(4).optHiddenSize(4).build())) {
            for (int i = 0; i < 3; i++) {
                learner.train(new float[][] {{1, 2, 3, 4}}, new float[][] {{5}});
                learner.nextVersion();
                states.add(learner.snapshot());
            }
        }
        AvroSerde<ModelSnapshot> serde = AvroSerde.of(ModelSnapshot.class);
        List<byte[]> records = new ArrayList<>();
        records.add(serde.encode(ModelSnapshots.toSnapshot(states.get(0), Instant.EPOCH)));
        records.add(serde.encode(ModelSnapshots.toSnapshot(states.get(0), Instant.EPOCH)));
        records.add(serde.encode(ModelSnapshots.toSnapshot(states.get(1), Instant.EPOCH)));
        records.add("not a snapshot".getBytes(StandardCharsets.UTF_8));
        records.add(serde.encode(ModelSnapshots.toSnapshot(states.get(2), Instant.EPOCH)));
        ModelSnapshot corrupt =
                ModelSnapshots.toSnapshot(states.get(2).withVersion(4), Instant.EPOCH);
        corrupt.getState().put(20, (byte) (corrupt.getState().get(20) ^ 1));
        records.add(serde.encode(corrupt));

        EmbeddedKafka kafka = KAFKA.kafka();
        kafka.createTopics(1, "models");
        Fixtures.produce(kafka, "models", records);
        try (KafkaModelStore store =
                new KafkaModelStore(kafka.bootstrapServers(), "models", Duration.ofSeconds(30))) {
            assertEquals(
                    List.of(1L, 2L, 3L, 4L),
                    store.versions().stream().map(ModelSnapshot::getModelVersion).toList(),
                    "each version once, in order; the unreadable record is skipped");
            assertEquals(4L, store.latest().orElseThrow().getModelVersion());
            assertEquals(states.get(1), store.load(2), "a loaded version is bit-exact");

            IllegalArgumentException refused =
                    assertThrows(IllegalArgumentException.class, () -> store.load(4));
            assertTrue(refused.getMessage().contains("version 4 is corrupt"), refused.getMessage());
            NoSuchElementException missing =
                    assertThrows(NoSuchElementException.class, () -> store.load(9));
            assertTrue(missing.getMessage().contains("versions 1..4"), missing.getMessage());
        }
    }

    /**
     * Through the job's snapshot sink with {@code keep-versions} 2: five chunked versions, of which
     * the store keeps the newest two. The three older ones are deleted by tombstones in the same
     * transactions (the version key first), and once the log cleaner has run, none of their records
     * is left, while 4 and 5 read whole throughout.
     */
    @Test
    void deletesVersionsPastTheOnesToKeepWholeThroughTheJobsSink() throws Exception {
        List<ModelSnapshot> snapshots = new ArrayList<>();
        try (OnlineLearner learner =
                new OnlineLearner(ModelConfig.builder().setWindow(4).optHiddenSize(8).build())) {
            for (int i = 0; i < 5; i++) {
                learner.train(new float[][] {{1, 2, 3, 4}}, new float[][] {{5}});
                learner.nextVersion();
                ModelSnapshot snapshot =
                        ModelSnapshots.toSnapshot(learner.snapshot(), Instant.EPOCH);
                snapshot.setServingVersion(snapshot.getModelVersion());
                snapshots.add(snapshot);
            }
        }
        EmbeddedKafka kafka = KAFKA.kafka();
        Configuration conf = Fixtures.jobConfig(kafka, "retention");
        conf.set(StreamlearnOptions.SNAPSHOT_CHUNK_SIZE, MemorySize.parse("1kb"));
        conf.set(StreamlearnOptions.KEEP_VERSIONS, 2);
        JobSettings settings = JobSettings.from(conf);
        assertTrue(
                ModelStoreRecords.records(snapshots.get(0), settings.snapshotChunkBytes()).size()
                        > 2,
                "chunked");
        Map<String, String> topic = new HashMap<>(ModelTopicCheck.topicConfig(settings));
        topic.put(TopicConfig.SEGMENT_MS_CONFIG, "100");
        topic.put(TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_CONFIG, "0.01");
        topic.put(TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, "0");
        kafka.createTopics(1, topic, settings.modelsTopic());

        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(Fixtures.flinkTestConfig());
        env.enableCheckpointing(200);
        KafkaEndpoints.models(settings)
                .attach(
                        env.fromData(
                                new AvroTypeInfo<>(ModelSnapshot.class),
                                snapshots.toArray(new ModelSnapshot[0])),
                        uid -> uid,
                        name -> name);
        env.execute("retention");

        try (KafkaModelStore store =
                new KafkaModelStore(
                        kafka.bootstrapServers(), settings.modelsTopic(), Duration.ofSeconds(30))) {
            assertEquals(List.of(4L, 5L), versions(store));
            assertEquals(Map.of(), store.refused());

            // Compaction cleans only segments that are no longer active, and a segment rolls on
            // the next append after segment.ms: append a tombstone of a version never written
            // until the cleaner has removed versions 1 to 3.
            Map<String, Object> config =
                    Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            try (var producer =
                    new KafkaProducer<>(
                            config, new ByteArraySerializer(), new ByteArraySerializer())) {
                while (valuesOf(kafka, settings.modelsTopic(), 1, 3) > 0) {
                    assertTrue(
                            System.nanoTime() < deadline,
                            "the log cleaner did not remove the deleted versions in 2 minutes");
                    producer.send(
                                    new ProducerRecord<>(
                                            settings.modelsTopic(),
                                            "99".getBytes(StandardCharsets.UTF_8),
                                            null))
                            .get();
                }
            }
            assertEquals(List.of(4L, 5L), versions(store), "after compaction");
            assertEquals(snapshots.get(4), store.snapshot(5), "bit-exact");
        }
    }

    private static List<Long> versions(KafkaModelStore store) {
        return store.versions().stream().map(ModelSnapshot::getModelVersion).toList();
    }

    /** Records with a value (not tombstones) of versions {@code from} to {@code to}. */
    private static long valuesOf(EmbeddedKafka kafka, String topic, long from, long to) {
        try (TopicReader reader = TopicReader.uncommitted(kafka.bootstrapServers(), topic)) {
            return reader.readToEnd(Duration.ofSeconds(30)).stream()
                    .filter(r -> r.value() != null)
                    .filter(
                            r -> {
                                OptionalLong v = ModelStoreRecords.versionOfKey(r.key());
                                return v.isPresent()
                                        && v.getAsLong() >= from
                                        && v.getAsLong() <= to;
                            })
                    .count();
        }
    }
}
