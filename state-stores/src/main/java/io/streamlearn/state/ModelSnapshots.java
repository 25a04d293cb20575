package io.streamlearn.state;

import io.streamlearn.models.ModelState;
import io.streamlearn.schemas.ModelSnapshot;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;

/**
 * Converts between the trainer's {@link ModelState} and the {@link ModelSnapshot} records that the
 * model store keeps. A snapshot carries the SHA-256 of its state bytes; one whose bytes do not
 * match is refused, so a corrupted snapshot can never be served or warm-started from.
 */
public final class ModelSnapshots {
    private ModelSnapshots() {}

    /** A snapshot of a version that serves, with no promotion metrics. */
    public static ModelSnapshot toSnapshot(ModelState state, Instant createdAt) {
        return builder(state, createdAt).setServingVersion(state.version()).build();
    }

    /**
     * A builder with the state, its checksum, step, version and configuration filled in; the
     * trainer adds the promotion decision and its metrics.
     */
    public static ModelSnapshot.Builder builder(ModelState state, Instant createdAt) {
        byte[] bytes = state.encode();
        return ModelSnapshot.newBuilder()
                .setModelVersion(state.version())
                .setStep(state.step())
                .setState(ByteBuffer.wrap(bytes))
                .setSha256(sha256(bytes))
                .setCreatedAt(createdAt)
                .setConfig(state.config().toString());
    }

    /**
     * Decodes a snapshot after checking its checksum.
     *
     * @throws IllegalArgumentException naming the version when the checksum does not match
     */
    public static ModelState fromSnapshot(ModelSnapshot snapshot) {
        return verified(
                snapshot.getState(),
                snapshot.getSha256(),
                "model snapshot version " + snapshot.getModelVersion());
    }

    /**
     * Decodes state bytes after checking them against their SHA-256.
     *
     * @param what names the snapshot or command in the error
     * @throws IllegalArgumentException "{what} is corrupt: ..." when the checksum does not match,
     *     or the bytes do not decode
     */
    public static ModelState verified(ByteBuffer state, String sha256, String what) {
        ByteBuffer buffer = state.duplicate();
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        String actual = sha256(bytes);
        if (!actual.equals(sha256)) {
            throw new IllegalArgumentException(
                    what + " is corrupt: sha256 is " + actual + " but it says " + sha256);
        }
        try {
            return ModelState.decode(bytes);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + " is corrupt: " + e.getMessage(), e);
        }
    }

    /**
     * At most the bytes of a snapshot's single-object encoding (what the model store writes),
     * without encoding it: the variable fields' lengths plus the most every fixed field and length
     * prefix may take. Cheap enough to check every version against the store's limit before it is
     * sent.
     */
    public static long encodedSizeBound(ModelSnapshot snapshot) {
        long bytes = 10; // single-object header: marker and schema fingerprint
        bytes += 4 * 10 + 1 + 2 * (1 + 8); // longs as varints, the boolean, two nullable doubles
        bytes += 5 + snapshot.getState().remaining();
        for (CharSequence text :
                List.of(snapshot.getSha256(), snapshot.getConfig(), snapshot.getNote())) {
            bytes += 5 + (long) text.toString().getBytes(StandardCharsets.UTF_8).length;
        }
        return bytes;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }
}
