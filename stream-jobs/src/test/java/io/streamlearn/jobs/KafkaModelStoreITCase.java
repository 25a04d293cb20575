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
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The model store reader against a real broker: versions, last-write-wins, checksums. */
class KafkaModelStoreITCase {
    @RegisterExtension static final KafkaExtension KAFKA = new KafkaExtension();

    /**
     * A model larger than Kafka's default 1 MB message: the job's snapshot sink writes it as one
     * record to a topic configured for it, and the store reads it back verified.
     */
    @Test
    void storesAModelOfMoreThanOneMegabyteAsOneRecord() throws Exception {
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
        try (Admin admin =
                Admin.create(
                        Map.of(
                                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                                kafka.bootstrapServers()))) {
            admin.createTopics(
                            List.of(
                                    new NewTopic(settings.modelsTopic(), 1, (short) 1)
                                            .configs(
                                                    Map.of(
                                                            "cleanup.policy", "compact",
                                                            "max.message.bytes", "16777216"))))
                    .all()
                    .get();
            EmbeddedKafka.awaitWritable(
                    admin, List.of(settings.modelsTopic()), Duration.ofSeconds(30));
        }
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(Fixtures.flinkTestConfig());
        env.enableCheckpointing(200);
        env.fromData(new AvroTypeInfo<>(ModelSnapshot.class), snapshot)
                .sinkTo(KafkaEndpoints.models(settings));
        env.execute("big model");
        // The job's final checkpoint committed the record; the commit markers that make it visible
        // to read_committed consumers are written just after.
        try (TopicReader reader =
                new TopicReader(kafka.bootstrapServers(), settings.modelsTopic())) {
            reader.awaitUntil(r -> !r.isEmpty(), Duration.ofSeconds(30), "the committed snapshot");
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
