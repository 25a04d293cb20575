package io.streamlearn.state;

import io.streamlearn.models.ModelState;
import io.streamlearn.schemas.ModelSnapshot;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where published model versions live outside Flink: for warm starts of new jobs, rollback, and
 * consumers that are not the job. One snapshot per version; a version written twice (a replay after
 * a failure) keeps its last record. Every model handed out is verified against its SHA-256: a
 * corrupted snapshot is refused, never served or started from.
 */
public interface ModelStore extends AutoCloseable {

    /** Every version in the store that reads whole, oldest first. */
    List<ModelSnapshot> versions();

    /**
     * Versions the store holds but cannot hand out, as the last {@link #versions()} found them,
     * each with why (naming the version): a chunked snapshot with a chunk missing or corrupt.
     */
    default Map<Long, String> refused() {
        return Map.of();
    }

    default Optional<ModelSnapshot> latest() {
        List<ModelSnapshot> all = versions();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    /**
     * The snapshot of one version, its state unverified (to show it, or to say that it is corrupt).
     *
     * @throws IllegalArgumentException naming the version when its chunks are missing or corrupt
     * @throws NoSuchElementException naming the versions the store has
     */
    default ModelSnapshot snapshot(long version) {
        List<ModelSnapshot> all = versions();
        String why = refused().get(version);
        if (why != null) {
            throw new IllegalArgumentException(why);
        }
        return all.stream()
                .filter(s -> s.getModelVersion() == version)
                .findFirst()
                .orElseThrow(
                        () ->
                                new NoSuchElementException(
                                        "model version "
                                                + version
                                                + " is not in "
                                                + describe()
                                                + "; it has "
                                                + (all.isEmpty()
                                                        ? "no versions"
                                                        : "versions "
                                                                + all.get(0).getModelVersion()
                                                                + ".."
                                                                + all.get(all.size() - 1)
                                                                        .getModelVersion())));
    }

    /**
     * The verified model state of one version.
     *
     * @throws IllegalArgumentException when its checksum does not match, or its chunks are missing
     *     or corrupt
     * @throws NoSuchElementException when the store does not have it
     */
    default ModelState load(long version) {
        return ModelSnapshots.fromSnapshot(snapshot(version));
    }

    /**
     * The newest version whose checksum verifies; newer corrupt ones are skipped with a warning
     * naming them.
     */
    default Optional<ModelState> latestVerified() {
        Logger log = LoggerFactory.getLogger(ModelStore.class);
        List<ModelSnapshot> all = versions();
        for (int i = all.size() - 1; i >= 0; i--) {
            try {
                return Optional.of(ModelSnapshots.fromSnapshot(all.get(i)));
            } catch (IllegalArgumentException e) {
                log.warn(
                        "Skipping model version {}: {}",
                        all.get(i).getModelVersion(),
                        e.getMessage());
            }
        }
        return Optional.empty();
    }

    /** The store in words, for messages: the topic or the directory. */
    String describe();

    @Override
    void close();
}
