package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelState;
import io.streamlearn.models.OnlineLearner;
import io.streamlearn.schemas.ModelSnapshot;
import io.streamlearn.state.ModelSnapshots;
import io.streamlearn.state.ModelStoreRecords;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.StreamFlatMap;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * The models topic's writer deletes what it no longer keeps, in the same call as the version that
 * pushed it out, and a writer restored from a checkpoint deletes the versions written before it.
 */
class SnapshotRecordsTest {
    private static final int CHUNK = 1024;

    @Test
    void aRestoredWriterDeletesTheVersionsItWroteBeforeItsCheckpoint() throws Exception {
        ModelState state;
        try (OnlineLearner learner =
                new OnlineLearner(ModelConfig.builder().setWindow(4).optHiddenSize(8).build())) {
            state = learner.snapshot();
        }
        int chunks =
                ModelStoreRecords.chunkCount(ModelStoreRecords.records(version(state, 1), CHUNK));
        OperatorSubtaskState checkpoint;
        try (var harness = harness()) {
            harness.open();
            harness.processElement(version(state, 1), 0);
            harness.processElement(version(state, 2), 0);
            assertEquals(List.of(), tombstoneKeys(harness));
            checkpoint = harness.snapshot(1, 1);
        }
        try (var harness = harness()) {
            harness.initializeState(checkpoint);
            harness.open();
            harness.processElement(version(state, 3), 0);
            List<String> deleted = tombstoneKeys(harness);
            assertEquals(chunks + 1, deleted.size(), "version 1 and its chunks: " + deleted);
            assertEquals("1", deleted.get(0), "the version key first");
            List<Tuple2<byte[], byte[]>> out = harness.extractOutputValues();
            assertEquals(
                    "1",
                    key(out.get(out.size() - chunks - 1)),
                    "after version 3's records, in the same call");
        }
    }

    private static OneInputStreamOperatorTestHarness<ModelSnapshot, Tuple2<byte[], byte[]>>
            harness() throws Exception {
        return new OneInputStreamOperatorTestHarness<>(
                new StreamFlatMap<>(new KafkaEndpoints.SnapshotRecords(CHUNK, 2)));
    }

    private static ModelSnapshot version(ModelState state, long version) {
        ModelSnapshot snapshot =
                ModelSnapshots.toSnapshot(state.withVersion(version), Instant.EPOCH);
        snapshot.setServingVersion(version);
        return snapshot;
    }

    private static List<String> tombstoneKeys(
            OneInputStreamOperatorTestHarness<ModelSnapshot, Tuple2<byte[], byte[]>> harness) {
        return harness.extractOutputValues().stream()
                .filter(r -> r.f1.length == 0)
                .map(SnapshotRecordsTest::key)
                .toList();
    }

    private static String key(Tuple2<byte[], byte[]> record) {
        return new String(record.f0, StandardCharsets.UTF_8);
    }
}
