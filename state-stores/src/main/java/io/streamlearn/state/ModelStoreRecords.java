package io.streamlearn.state;

import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.InvalidRecordException;
import io.streamlearn.schemas.ModelSnapshot;
import io.streamlearn.schemas.ModelSnapshotChunk;
import io.streamlearn.schemas.ModelSnapshotManifest;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;

/**
 * The layout of model snapshots in the models topic, both ways. A snapshot whose single-object
 * encoding fits in one chunk is one {@link ModelSnapshot} record keyed by its version (the layout
 * from before chunking, so topics written then still read). A larger one is {@code n} {@link
 * ModelSnapshotChunk} records keyed {@code <version>/chunk/<index>}, then one {@link
 * ModelSnapshotManifest} keyed by the version, all in one transaction.
 *
 * <p>Why compaction cannot leave a version half readable: every record of a version has its own
 * key, so compaction only ever drops a record that a later write of the same key replaced; and a
 * version is read only through its manifest, only if every chunk the manifest counts is there and
 * the chunks together have the manifest's length and SHA-256. A version written again (a replay
 * after a failure) replaces its chunks and manifest key by key; chunks left over from a longer
 * earlier write are past the new manifest's count and ignored.
 */
public final class ModelStoreRecords {
    private static final AvroSerde<ModelSnapshot> SNAPSHOTS = AvroSerde.of(ModelSnapshot.class);
    private static final AvroSerde<ModelSnapshotChunk> CHUNKS =
            AvroSerde.of(ModelSnapshotChunk.class);
    private static final AvroSerde<ModelSnapshotManifest> MANIFESTS =
            AvroSerde.of(ModelSnapshotManifest.class);

    /**
     * Bytes a chunk record takes in the log beyond its piece of the snapshot, at most: the value's
     * single-object header, version, index, checksum and length prefix (95), the key (36), the
     * record's and its batch's headers (82), rounded up. A topic whose {@code max.message.bytes} is
     * at least the chunk size plus this takes every chunk.
     */
    public static final int CHUNK_OVERHEAD_BYTES = 256;

    private ModelStoreRecords() {}

    /** One Kafka record of the models topic: its key and value. */
    public record KeyValue(byte[] key, byte[] value) {}

    /**
     * The records of one snapshot, in the order they must be written (a manifest after its chunks,
     * so that a reader that sees the manifest has seen the whole version).
     *
     * @param chunkBytes the most snapshot bytes one record carries ({@code
     *     streamlearn.model-store.chunk-size})
     */
    public static List<KeyValue> records(ModelSnapshot snapshot, int chunkBytes) {
        if (chunkBytes < 1) {
            throw new IllegalArgumentException("chunk size must be positive, got " + chunkBytes);
        }
        long version = snapshot.getModelVersion();
        byte[] whole = SNAPSHOTS.encode(snapshot);
        if (whole.length <= chunkBytes) {
            return List.of(new KeyValue(key(Long.toString(version)), whole));
        }
        String sha256 = ModelSnapshots.sha256(whole);
        int count = (int) ((whole.length + (long) chunkBytes - 1) / chunkBytes);
        List<KeyValue> records = new ArrayList<>(count + 1);
        for (int i = 0; i < count; i++) {
            int from = i * chunkBytes;
            int length = Math.min(chunkBytes, whole.length - from);
            ModelSnapshotChunk chunk =
                    ModelSnapshotChunk.newBuilder()
                            .setModelVersion(version)
                            .setIndex(i)
                            .setSnapshotSha256(sha256)
                            .setData(ByteBuffer.wrap(whole, from, length).slice())
                            .build();
            records.add(new KeyValue(key(chunkKey(version, i)), CHUNKS.encode(chunk)));
        }
        ModelSnapshotManifest manifest =
                ModelSnapshotManifest.newBuilder()
                        .setModelVersion(version)
                        .setChunkCount(count)
                        .setSize(whole.length)
                        .setSha256(sha256)
                        .build();
        records.add(new KeyValue(key(Long.toString(version)), MANIFESTS.encode(manifest)));
        return records;
    }

    /**
     * The records that delete a version from a compacted models topic: a tombstone (no value) for
     * its version key first, then one for each of its chunks. The version key goes first so that
     * wherever the log cleaner has got to, the manifest is gone before any chunk it counts: a
     * reader never meets a version with chunks missing because it was deleted.
     *
     * @param chunkCount how many chunks the version was written in (0: one record)
     */
    public static List<KeyValue> tombstones(long version, int chunkCount) {
        List<KeyValue> records = new ArrayList<>(chunkCount + 1);
        records.add(new KeyValue(key(Long.toString(version)), null));
        for (int i = 0; i < chunkCount; i++) {
            records.add(new KeyValue(key(chunkKey(version, i)), null));
        }
        return records;
    }

    /** How many chunks the records of {@link #records} hold: 0 for a version in one record. */
    public static int chunkCount(List<KeyValue> records) {
        return records.size() == 1 ? 0 : records.size() - 1;
    }

    /** The key of a version's chunk. */
    public static String chunkKey(long version, int index) {
        return version + "/chunk/" + index;
    }

    /**
     * The version a record's key names ({@code 7} or {@code 7/chunk/3}: 7), so a reader of one
     * version can pass over the others' records without decoding them; empty for a key of no
     * version (none, or written by hand).
     */
    public static OptionalLong versionOfKey(byte[] key) {
        if (key == null) {
            return OptionalLong.empty();
        }
        String text = new String(key, StandardCharsets.UTF_8);
        int slash = text.indexOf('/');
        if (slash >= 0 && !text.startsWith("/chunk/", slash)) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(slash < 0 ? text : text.substring(0, slash)));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /**
     * The version a manifest record announces, for readers that follow versions without reading
     * their states (progress lines); empty for any other record.
     */
    public static OptionalLong manifestVersion(byte[] value) {
        try {
            return OptionalLong.of(MANIFESTS.decode(value).getModelVersion());
        } catch (InvalidRecordException e) {
            return OptionalLong.empty();
        }
    }

    private static byte[] key(String key) {
        return key.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Reads a models topic: given every record in offset order (per partition; a version's records
     * share keys, so each key's records are in one partition), it hands out each version once, the
     * last write of each key winning as compaction would keep it.
     */
    public static final class Reader {
        /** Per version, its last single-record snapshot or manifest. */
        private final TreeMap<Long, Object> byVersion = new TreeMap<>();

        private final Map<String, ModelSnapshotChunk> chunks = new HashMap<>();

        /**
         * Takes one record: a tombstone (no value) deletes what its key named, a version's snapshot
         * or manifest or one of its chunks; any other record is read by its value.
         *
         * @throws InvalidRecordException when a value is none of the three record types, or a
         *     tombstone's key names no version
         */
        public void add(byte[] key, byte[] value) {
            if (value != null) {
                add(value);
                return;
            }
            OptionalLong version = versionOfKey(key);
            if (version.isEmpty()) {
                throw new InvalidRecordException(
                        "a tombstone whose key names no model version: "
                                + (key == null
                                        ? "no key"
                                        : new String(key, StandardCharsets.UTF_8)));
            }
            String text = new String(key, StandardCharsets.UTF_8);
            if (text.contains("/chunk/")) {
                chunks.remove(text);
            } else {
                byVersion.remove(version.getAsLong());
            }
        }

        /**
         * Takes one record's value.
         *
         * @throws InvalidRecordException when it is none of the three record types
         */
        public void add(byte[] value) {
            Object record = decode(value);
            if (record instanceof ModelSnapshotChunk chunk) {
                chunks.put(chunkKey(chunk.getModelVersion(), chunk.getIndex()), chunk);
            } else if (record instanceof ModelSnapshot snapshot) {
                byVersion.put(snapshot.getModelVersion(), snapshot);
            } else {
                ModelSnapshotManifest manifest = (ModelSnapshotManifest) record;
                byVersion.put(manifest.getModelVersion(), manifest);
            }
        }

        private static Object decode(byte[] value) {
            try {
                return SNAPSHOTS.decode(value);
            } catch (InvalidRecordException notSnapshot) {
                try {
                    return MANIFESTS.decode(value);
                } catch (InvalidRecordException notManifest) {
                    try {
                        return CHUNKS.decode(value);
                    } catch (InvalidRecordException notChunk) {
                        throw new InvalidRecordException(
                                "not a model snapshot, snapshot manifest or snapshot chunk: "
                                        + notSnapshot.getMessage());
                    }
                }
            }
        }

        /**
         * The versions read so far, oldest first, and those whose manifest is there but whose
         * chunks are missing or do not verify, with why. Chunks without a manifest (a write that
         * never committed, or leftovers) are no version at all.
         */
        public Versions versions() {
            List<ModelSnapshot> readable = new ArrayList<>();
            Map<Long, String> refused = new TreeMap<>();
            byVersion.forEach(
                    (version, record) -> {
                        if (record instanceof ModelSnapshot snapshot) {
                            readable.add(snapshot);
                            return;
                        }
                        try {
                            readable.add(assemble((ModelSnapshotManifest) record));
                        } catch (IllegalArgumentException e) {
                            refused.put(version, e.getMessage());
                        }
                    });
            return new Versions(readable, refused);
        }

        private ModelSnapshot assemble(ModelSnapshotManifest manifest) {
            long version = manifest.getModelVersion();
            String what = "model version " + version;
            String sha256 = manifest.getSha256().toString();
            if (manifest.getSize() > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException(
                        what + " is corrupt: its manifest says " + manifest.getSize() + " bytes");
            }
            ByteArrayOutputStream whole = new ByteArrayOutputStream((int) manifest.getSize());
            for (int i = 0; i < manifest.getChunkCount(); i++) {
                ModelSnapshotChunk chunk = chunks.get(chunkKey(version, i));
                if (chunk == null) {
                    throw new IllegalArgumentException(
                            String.format(
                                    Locale.ROOT,
                                    "%s is incomplete: chunk %d of %d is missing",
                                    what,
                                    i,
                                    manifest.getChunkCount()));
                }
                if (!chunk.getSnapshotSha256().toString().equals(sha256)) {
                    throw new IllegalArgumentException(
                            String.format(
                                    Locale.ROOT,
                                    "%s is corrupt: chunk %d belongs to the snapshot with sha256"
                                            + " %s, its manifest to %s",
                                    what,
                                    i,
                                    chunk.getSnapshotSha256(),
                                    sha256));
                }
                ByteBuffer data = chunk.getData().duplicate();
                byte[] bytes = new byte[data.remaining()];
                data.get(bytes);
                whole.writeBytes(bytes);
            }
            byte[] bytes = whole.toByteArray();
            String actual = ModelSnapshots.sha256(bytes);
            if (bytes.length != manifest.getSize() || !actual.equals(sha256)) {
                throw new IllegalArgumentException(
                        String.format(
                                Locale.ROOT,
                                "%s is corrupt: its %d chunks make %d bytes with sha256 %s, its"
                                        + " manifest says %d bytes with sha256 %s",
                                what,
                                manifest.getChunkCount(),
                                bytes.length,
                                actual,
                                manifest.getSize(),
                                sha256));
            }
            try {
                return SNAPSHOTS.decode(bytes);
            } catch (InvalidRecordException e) {
                throw new IllegalArgumentException(what + " is corrupt: " + e.getMessage(), e);
            }
        }
    }

    /**
     * What a models topic holds.
     *
     * @param readable every version that reads whole, oldest first (each snapshot's own state
     *     checksum is checked when it is loaded, as for a single record)
     * @param refused versions whose manifest is there but whose chunks are missing or corrupt, with
     *     why, naming the version
     */
    public record Versions(List<ModelSnapshot> readable, Map<Long, String> refused) {}
}
