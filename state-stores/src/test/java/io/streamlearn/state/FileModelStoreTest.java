package io.streamlearn.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelState;
import io.streamlearn.models.OnlineLearner;
import io.streamlearn.schemas.ModelSnapshot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileModelStoreTest {
    @Test
    void keepsOneFilePerVersionVerifiesAndRefusesCorruptOnes(@TempDir Path dir) throws Exception {
        List<ModelState> states = new ArrayList<>();
        try (OnlineLearner learner =
                new OnlineLearner(ModelConfig.builder().setWindow(4).optHiddenSize(4).build())) {
            for (int i = 0; i < 3; i++) {
                learner.train(new float[][] {{1, 2, 3, 4}}, new float[][] {{5}});
                learner.nextVersion();
                states.add(learner.snapshot());
            }
        }
        try (FileModelStore store = new FileModelStore(dir)) {
            store.write(ModelSnapshots.toSnapshot(states.get(1), Instant.EPOCH));
            store.write(ModelSnapshots.toSnapshot(states.get(0), Instant.EPOCH));
            store.write(ModelSnapshots.toSnapshot(states.get(0), Instant.ofEpochSecond(5)));
            ModelSnapshot corrupt = ModelSnapshots.toSnapshot(states.get(2), Instant.EPOCH);
            corrupt.getState().put(30, (byte) (corrupt.getState().get(30) ^ 1));
            store.write(corrupt);
            Files.writeString(dir.resolve("model-junk.snapshot"), "not a snapshot");

            assertEquals(
                    List.of(1L, 2L, 3L),
                    store.versions().stream().map(ModelSnapshot::getModelVersion).toList(),
                    "oldest first, each version once, the unreadable file skipped");
            assertEquals(
                    Instant.ofEpochSecond(5),
                    store.snapshot(1).getCreatedAt(),
                    "a version written again replaces the file");
            assertEquals(states.get(1), store.load(2));
            IllegalArgumentException refused =
                    assertThrows(IllegalArgumentException.class, () -> store.load(3));
            assertTrue(refused.getMessage().contains("version 3 is corrupt"), refused.getMessage());
            assertEquals(
                    states.get(1), store.latestVerified().orElseThrow(), "skips the corrupt 3");
            NoSuchElementException missing =
                    assertThrows(NoSuchElementException.class, () -> store.load(7));
            assertTrue(missing.getMessage().contains("versions 1..3"), missing.getMessage());
        }
    }

    /**
     * The sink keeps the newest versions and the serving one; a writer started again (after a
     * failure) counts the files there as kept and goes on.
     */
    @Test
    void theSinkDeletesVersionsPastTheOnesToKeep(@TempDir Path dir) throws Exception {
        ModelState state;
        try (OnlineLearner learner =
                new OnlineLearner(ModelConfig.builder().setWindow(4).optHiddenSize(4).build())) {
            state = learner.snapshot();
        }
        FileModelStoreSink sink = new FileModelStoreSink(dir.toString(), 2);
        try (FileModelStore store = new FileModelStore(dir)) {
            var writer = sink.createWriter(null);
            for (long v = 1; v <= 4; v++) {
                writer.write(version(state, v, 2), null);
            }
            assertEquals(List.of(2L, 3L, 4L), store.listed(), "2 serves");
            writer.write(version(state, 5, 5), null);
            assertEquals(List.of(4L, 5L), store.listed());

            var restarted = sink.createWriter(null);
            restarted.write(version(state, 6, 6), null);
            assertEquals(List.of(5L, 6L), store.listed());
            assertEquals(6L, store.latest().orElseThrow().getModelVersion());
        }
    }

    private static ModelSnapshot version(ModelState state, long version, long serving) {
        ModelSnapshot snapshot =
                ModelSnapshots.toSnapshot(state.withVersion(version), Instant.EPOCH);
        snapshot.setServingVersion(serving);
        return snapshot;
    }
}
