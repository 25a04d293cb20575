package io.streamlearn.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.KafkaClientProperties;
import io.streamlearn.jobs.StreamlearnOptions;
import io.streamlearn.jobs.TopicReader;
import io.streamlearn.jobs.runtime.EmbeddedKafka;
import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelState;
import io.streamlearn.models.OnlineLearner;
import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.ModelCommand;
import io.streamlearn.state.KafkaModelStore;
import io.streamlearn.state.ModelSnapshots;
import io.streamlearn.state.ModelStoreRecords;
import io.streamlearn.state.ModelStoreRecords.KeyValue;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * {@code models list|show|rollback} on a topic with a single-record version, a chunked one and a
 * chunked one with a chunk missing, against a real broker: a chunked version rolls back by
 * reference, a small one carries its state.
 */
class ModelCommandsITCase {
    private static final int CHUNK =
            (int) StreamlearnOptions.SNAPSHOT_CHUNK_SIZE.defaultValue().getBytes();

    @Test
    void listsShowsAndRollsBackChunkedVersionsAndRefusesACorruptOne() throws Exception {
        ModelState small;
        ModelState big;
        try (OnlineLearner learner =
                new OnlineLearner(ModelConfig.builder().setWindow(4).optHiddenSize(4).build())) {
            small = learner.snapshot().withVersion(1);
        }
        try (OnlineLearner learner =
                new OnlineLearner(ModelConfig.builder().setWindow(4).optHiddenSize(200).build())) {
            big = learner.snapshot().withVersion(2);
        }
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopics(1, "models", "model-commands");
            List<KeyValue> records = new ArrayList<>(records(small));
            records.addAll(records(big));
            List<KeyValue> three = new ArrayList<>(records(big.withVersion(3)));
            three.remove(1);
            records.addAll(three);
            produce(kafka, records);

            try (KafkaModelStore store =
                    new KafkaModelStore(
                            kafka.bootstrapServers(), "models", Duration.ofSeconds(30))) {
                String list = run(out -> ModelCommands.list(store, out));
                assertTrue(list.contains("\n      1 "), list);
                assertTrue(list.contains("\n      2 "), list);
                assertTrue(
                        list.contains(
                                "      3  refused: model version 3 is incomplete: chunk 1 of"),
                        list);

                assertTrue(
                        run(out -> ModelCommands.show(store, 2, out)).contains("sha256 "),
                        "shows the chunked version");
                IllegalArgumentException incomplete =
                        assertThrows(
                                IllegalArgumentException.class,
                                () -> run(out -> ModelCommands.show(store, 3, out)));
                assertTrue(
                        incomplete.getMessage().startsWith("model version 3 is incomplete"),
                        incomplete.getMessage());

                KafkaClientProperties client = KafkaClientProperties.of(kafka.bootstrapServers());
                String byReference =
                        run(out -> ModelCommands.rollback(store, 2, client, "model-commands", out));
                assertTrue(byReference.contains("by reference"), byReference);
                String inline =
                        run(out -> ModelCommands.rollback(store, 1, client, "model-commands", out));
                assertFalse(inline.contains("by reference"), inline);
            }
            try (TopicReader reader = new TopicReader(kafka.bootstrapServers(), "model-commands")) {
                AvroSerde<ModelCommand> serde = AvroSerde.of(ModelCommand.class);
                List<ModelCommand> commands =
                        reader
                                .awaitUntil(r -> r.size() >= 2, Duration.ofSeconds(30), "rollbacks")
                                .stream()
                                .map(r -> serde.decode(r.value()))
                                .toList();
                assertEquals(2L, commands.get(0).getTargetVersion());
                assertEquals(0, commands.get(0).getState().remaining(), "by version only");
                assertEquals(
                        ModelSnapshots.toSnapshot(big, Instant.EPOCH).getSha256(),
                        commands.get(0).getSha256().toString());
                assertEquals(
                        small,
                        ModelSnapshots.verified(
                                commands.get(1).getState(),
                                commands.get(1).getSha256().toString(),
                                "rollback"),
                        "a small state travels in the command");
            }
        }
    }

    private interface Printing {
        void to(PrintStream out);
    }

    private static String run(Printing command) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        command.to(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static List<KeyValue> records(ModelState state) {
        return ModelStoreRecords.records(ModelSnapshots.toSnapshot(state, Instant.EPOCH), CHUNK);
    }

    private static void produce(EmbeddedKafka kafka, List<KeyValue> records) throws Exception {
        try (var producer =
                new KafkaProducer<>(
                        Map.<String, Object>of(
                                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                        new ByteArraySerializer(),
                        new ByteArraySerializer())) {
            for (KeyValue record : records) {
                producer.send(new ProducerRecord<>("models", record.key(), record.value())).get();
            }
        }
    }
}
