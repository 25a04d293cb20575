package io.streamlearn.state;

import io.streamlearn.models.ModelState;
import io.streamlearn.schemas.ModelSnapshot;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;

/**
 * Converts between the trainer's {@link ModelState} and the {@link ModelSnapshot} records that the
 * model store keeps. A snapshot carries the SHA-256 of its state bytes; one whose bytes do not
 * match is refused, so a corrupted snapshot can never be served or warm-started from.
 */
public final class ModelSnapshots {
    private ModelSnapshots() {}

    public static ModelSnapshot toSnapshot(ModelState state, Instant createdAt) {
        byte[] bytes = state.encode();
        return ModelSnapshot.newBuilder()
                .setModelVersion(state.version())
                .setStep(state.step())
                .setState(ByteBuffer.wrap(bytes))
                .setSha256(sha256(bytes))
                .setCreatedAt(createdAt)
                .build();
    }

    /**
     * Decodes a snapshot after checking its checksum.
     *
     * @throws IllegalArgumentException naming the version when the checksum does not match
     */
    public static ModelState fromSnapshot(ModelSnapshot snapshot) {
        ByteBuffer buffer = snapshot.getState().duplicate();
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        String actual = sha256(bytes);
        if (!actual.equals(snapshot.getSha256())) {
            throw new IllegalArgumentException(
                    "model snapshot version "
                            + snapshot.getModelVersion()
                            + " is corrupt: sha256 is "
                            + actual
                            + " but the snapshot says "
                            + snapshot.getSha256());
        }
        return ModelState.decode(bytes);
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }
}
