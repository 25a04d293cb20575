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
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
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
}
