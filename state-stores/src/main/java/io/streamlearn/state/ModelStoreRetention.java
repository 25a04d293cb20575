package io.streamlearn.state;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Which versions a model store keeps ({@code streamlearn.model-store.keep-versions}): the newest
 * {@code keep} written, and the version serving when the newest was decided on, however old (a run
 * of rejected candidates must not delete the model the predictors use). A writer tells it each
 * version it writes and deletes what it hands back, each version whole.
 *
 * <p>It knows only the versions it was told of (a writer restores them from its checkpoint):
 * versions a store held before, from another run of the job, are not its to delete.
 */
public final class ModelStoreRetention {
    private final int keep;

    /** Each version written and kept, with the chunks it was written in (0: one record). */
    private final TreeMap<Long, Integer> kept = new TreeMap<>();

    /**
     * @param keep how many versions to keep; 0 keeps every version
     */
    public ModelStoreRetention(int keep) {
        if (keep < 0) {
            throw new IllegalArgumentException("versions to keep must be 0 or more, got " + keep);
        }
        this.keep = keep;
    }

    /**
     * Records a version written and says which to delete now.
     *
     * @param chunkCount the chunks it was written in (0: one record); a version written again keeps
     *     the larger count, so that the chunks of both writes are deleted
     * @param servingVersion the version serving once this one was decided on (0: none), kept
     * @return the versions to delete, oldest first, each with its chunk count
     */
    public SortedMap<Long, Integer> written(long version, int chunkCount, long servingVersion) {
        kept.merge(version, chunkCount, Math::max);
        TreeMap<Long, Integer> delete = new TreeMap<>();
        if (keep == 0) {
            return delete;
        }
        int over = kept.size() - keep;
        for (Map.Entry<Long, Integer> oldest : kept.entrySet()) {
            if (over <= 0 || oldest.getKey() == version) {
                break;
            }
            if (oldest.getKey() != servingVersion) {
                delete.put(oldest.getKey(), oldest.getValue());
            }
            over--;
        }
        delete.keySet().forEach(kept::remove);
        return delete;
    }

    /** The versions kept, oldest first, with their chunk counts: the writer's state. */
    public Map<Long, Integer> kept() {
        return new LinkedHashMap<>(kept);
    }

    /** Takes back versions kept before (a writer's restored state, or a store's listing). */
    public void restore(Map<Long, Integer> versions) {
        versions.forEach((version, chunks) -> kept.merge(version, chunks, Math::max));
    }
}
