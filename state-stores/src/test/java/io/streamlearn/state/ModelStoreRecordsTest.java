package io.streamlearn.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.InvalidRecordException;
import io.streamlearn.schemas.ModelSnapshot;
import io.streamlearn.schemas.ModelSnapshotChunk;
import io.streamlearn.state.ModelStoreRecords.KeyValue;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The models topic's layout without a broker: splitting, reassembly and what a reader refuses. */
class ModelStoreRecordsTest {
    private static final int CHUNK = 1000;

    @Test
    void aSnapshotThatFitsIsOneRecordKeyedByItsVersionAsBefore() {
        ModelSnapshot small = snapshot(3, 100, 1);
        List<KeyValue> records = ModelStoreRecords.records(small, CHUNK);
        assertEquals(1, records.size());
        assertEquals("3", key(records.get(0)));
        assertEquals(small, AvroSerde.of(ModelSnapshot.class).decode(records.get(0).value()));
    }

    @Test
    void aLargerSnapshotIsChunksThenItsManifestAndReadsBackBitExact() {
        ModelSnapshot big = snapshot(7, 5 * CHUNK + 17, 2);
        List<KeyValue> records = ModelStoreRecords.records(big, CHUNK);
        assertEquals(
                7,
                records.size(),
                "six chunks (the encoding has a few bytes more than the state) and the manifest");
        for (int i = 0; i < records.size() - 1; i++) {
            assertEquals("7/chunk/" + i, key(records.get(i)));
            assertTrue(
                    records.get(i).value().length
                            <= CHUNK + ModelStoreRecords.CHUNK_OVERHEAD_BYTES);
        }
        assertEquals("7", key(records.get(records.size() - 1)), "the manifest comes last");

        ModelStoreRecords.Versions read = read(records);
        assertEquals(List.of(big), read.readable());
        assertEquals(big.getState(), read.readable().get(0).getState());
        assertTrue(read.refused().isEmpty());
    }

    /** What progress readers follow without assembling states: only a manifest names a version. */
    @Test
    void onlyAManifestAnnouncesAChunkedVersion() {
        List<KeyValue> chunked = ModelStoreRecords.records(snapshot(9, 3 * CHUNK, 3), CHUNK);
        KeyValue manifest = chunked.get(chunked.size() - 1);
        assertEquals(OptionalLong.of(9), ModelStoreRecords.manifestVersion(manifest.value()));
        for (KeyValue chunk : chunked.subList(0, chunked.size() - 1)) {
            assertEquals(OptionalLong.empty(), ModelStoreRecords.manifestVersion(chunk.value()));
        }
        KeyValue single = ModelStoreRecords.records(snapshot(4, 100, 1), CHUNK).get(0);
        assertEquals(OptionalLong.empty(), ModelStoreRecords.manifestVersion(single.value()));
    }

    @Test
    void aVersionWithoutItsManifestIsNoVersion() {
        List<KeyValue> records = ModelStoreRecords.records(snapshot(7, 3 * CHUNK, 3), CHUNK);
        ModelStoreRecords.Versions read = read(records.subList(0, records.size() - 1));
        assertTrue(read.readable().isEmpty());
        assertTrue(read.refused().isEmpty(), "chunks alone are not a version: " + read.refused());
    }

    @Test
    void aMissingChunkIsRefusedNamingTheVersion() {
        List<KeyValue> records =
                new ArrayList<>(ModelStoreRecords.records(snapshot(7, 3 * CHUNK, 4), CHUNK));
        records.remove(1);
        ModelStoreRecords.Versions read = read(records);
        assertTrue(read.readable().isEmpty());
        assertTrue(
                read.refused().get(7L).contains("model version 7 is incomplete: chunk 1 of 4"),
                read.refused().toString());
    }

    @Test
    void aCorruptedChunkIsRefusedByTheChecksumOfTheWhole() {
        List<KeyValue> records =
                new ArrayList<>(ModelStoreRecords.records(snapshot(7, 3 * CHUNK, 5), CHUNK));
        records.add(2, corrupted(records.get(1)));
        ModelStoreRecords.Versions read = read(records);
        assertTrue(read.readable().isEmpty());
        String why = read.refused().get(7L);
        assertTrue(why.startsWith("model version 7 is corrupt: its 4 chunks make"), why);
        assertTrue(why.contains("sha256"), why);
    }

    @Test
    void duplicateChunksAndLeftoversOfAnEarlierWriteOfTheVersionAreHarmless() {
        ModelSnapshot first = snapshot(7, 5 * CHUNK, 6);
        ModelSnapshot second = snapshot(7, 2 * CHUNK, 7);
        List<KeyValue> records = new ArrayList<>(ModelStoreRecords.records(first, CHUNK));
        records.addAll(ModelStoreRecords.records(first, CHUNK));
        records.addAll(ModelStoreRecords.records(second, CHUNK));
        ModelStoreRecords.Versions read = read(records);
        assertEquals(List.of(second), read.readable(), "the last write wins, key by key");
        assertTrue(read.refused().isEmpty());
    }

    @Test
    void aChunkOfAnotherWriteIsRefused() {
        List<KeyValue> first = ModelStoreRecords.records(snapshot(7, 3 * CHUNK, 8), CHUNK);
        List<KeyValue> second =
                new ArrayList<>(ModelStoreRecords.records(snapshot(7, 3 * CHUNK, 9), CHUNK));
        second.add(second.size() - 1, first.get(2));
        String why = read(second).refused().get(7L);
        assertTrue(why.contains("model version 7 is corrupt: chunk 2 belongs to"), why);
    }

    @Test
    void aSingleRecordAndAChunkedVersionReadTogetherAndTheLastWriteOfAVersionWins() {
        ModelSnapshot one = snapshot(1, 100, 10);
        ModelSnapshot two = snapshot(2, 4 * CHUNK, 11);
        ModelSnapshot twoSmall = snapshot(2, 10, 12);
        List<KeyValue> records = new ArrayList<>(ModelStoreRecords.records(two, CHUNK));
        records.addAll(ModelStoreRecords.records(one, CHUNK));
        assertEquals(List.of(one, two), read(records).readable(), "oldest first");
        records.addAll(ModelStoreRecords.records(twoSmall, CHUNK));
        assertEquals(List.of(one, twoSmall), read(records).readable());
    }

    @Test
    void aKeyNamesItsVersionSoReadersOfOneVersionPassOverTheOthers() {
        assertEquals(OptionalLong.of(7), versionOf("7"));
        assertEquals(OptionalLong.of(7), versionOf("7/chunk/12"));
        assertEquals(OptionalLong.empty(), versionOf("7/other"));
        assertEquals(OptionalLong.empty(), versionOf("rollback"));
        assertEquals(OptionalLong.empty(), ModelStoreRecords.versionOfKey(null));
    }

    private static OptionalLong versionOf(String key) {
        return ModelStoreRecords.versionOfKey(key.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * A deleted version, as the topic has it before and after the log cleaner: its tombstones after
     * its records (the version key first), or its tombstones alone, or the cleaner stopped between
     * the two (the version key's tombstone in, some chunks still there): in no case is it read, or
     * refused as half there; the others read as before.
     */
    @Test
    void tombstonesDeleteAVersionWholeWhereverTheCleanerHasGot() {
        List<KeyValue> three = ModelStoreRecords.records(snapshot(3, 3 * CHUNK, 5), CHUNK);
        List<KeyValue> four = ModelStoreRecords.records(snapshot(4, 100, 6), CHUNK);
        List<KeyValue> gone = ModelStoreRecords.tombstones(3, ModelStoreRecords.chunkCount(three));
        assertEquals(ModelStoreRecords.chunkCount(three) + 1, gone.size());
        assertEquals("3", key(gone.get(0)), "the version key's tombstone first");
        assertTrue(gone.stream().allMatch(r -> r.value() == null));
        assertEquals(0, ModelStoreRecords.chunkCount(four));

        List<KeyValue> written = new ArrayList<>(three);
        written.addAll(four);
        written.addAll(gone);
        List<KeyValue> halfCleaned = new ArrayList<>(three.subList(1, three.size() - 1));
        halfCleaned.addAll(four);
        halfCleaned.addAll(gone);
        List<KeyValue> cleaned = new ArrayList<>(four);
        cleaned.addAll(gone);
        for (List<KeyValue> topic : List.of(written, halfCleaned, cleaned)) {
            ModelStoreRecords.Versions read = read(topic);
            assertEquals(
                    List.of(4L),
                    read.readable().stream().map(ModelSnapshot::getModelVersion).toList());
            assertTrue(read.refused().isEmpty(), read.refused().toString());
        }
        ModelStoreRecords.Reader reader = new ModelStoreRecords.Reader();
        InvalidRecordException e =
                assertThrows(
                        InvalidRecordException.class,
                        () -> reader.add("rollback".getBytes(StandardCharsets.UTF_8), null));
        assertTrue(e.getMessage().contains("rollback"), e.getMessage());
    }

    @Test
    void aRecordOfNoneOfTheTypesIsInvalid() {
        ModelStoreRecords.Reader reader = new ModelStoreRecords.Reader();
        InvalidRecordException e =
                assertThrows(
                        InvalidRecordException.class,
                        () -> reader.add("junk".getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains("not a model snapshot"), e.getMessage());
    }

    private static ModelStoreRecords.Versions read(List<KeyValue> records) {
        ModelStoreRecords.Reader reader = new ModelStoreRecords.Reader();
        records.forEach(r -> reader.add(r.key(), r.value()));
        return reader.versions();
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

    private static String key(KeyValue record) {
        return new String(record.key(), StandardCharsets.UTF_8);
    }

    /** A snapshot with random state bytes: the layout does not look inside the state. */
    private static ModelSnapshot snapshot(long version, int stateBytes, long seed) {
        byte[] state = new byte[stateBytes];
        new Random(seed).nextBytes(state);
        ModelSnapshot snapshot =
                ModelSnapshot.newBuilder()
                        .setModelVersion(version)
                        .setStep(version * 10)
                        .setState(ByteBuffer.wrap(state))
                        .setSha256(ModelSnapshots.sha256(state))
                        .setCreatedAt(Instant.EPOCH)
                        .build();
        assertArrayEquals(state, snapshot.getState().array());
        return snapshot;
    }
}
