package io.streamlearn.state;

import java.time.Duration;
import java.util.Optional;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.configuration.StateBackendOptions;

/**
 * Where a streamlearn job keeps its state when it runs on a cluster, expressed in Flink's own keys:
 * RocksDB for keyed state (per-entity history grows with the number of entities and spills to
 * disk), incremental checkpoints on a filesystem path, retained when the job is cancelled so that a
 * new job can start from the last one. A key the user or the cluster already set always wins.
 *
 * <p>The RocksDB backend comes from Flink's {@code lib/}, so it is not on the classpath of the
 * {@code streamlearn} launcher, which also holds Kafka Streams' {@code rocksdbjni} (its {@code
 * org.rocksdb} classes clash with Flink's {@code frocksdbjni}): there, and in the embedded {@code
 * demo} and the MiniCluster tests, the job keeps Flink's heap backend.
 */
public final class DurableState {
    /** Checkpoint storage when none is configured; clusters set a shared path (S3, NFS). */
    public static final String DEFAULT_CHECKPOINT_DIR = "file:///tmp/streamlearn/checkpoints";

    /** Completed checkpoints kept, so that an operator can step back past a bad one. */
    public static final int DEFAULT_RETAINED_CHECKPOINTS = 3;

    private static final String ROCKSDB_FACTORY =
            "org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackendFactory";

    private DurableState() {}

    /**
     * The job's configuration with the durable defaults added for every key that neither it nor the
     * cluster sets.
     */
    public static Configuration withDefaults(Configuration job, ReadableConfig cluster) {
        Configuration out = new Configuration(job);
        setIfAbsent(
                out,
                cluster,
                StateBackendOptions.STATE_BACKEND,
                rocksDbAvailable(DurableState.class.getClassLoader()) ? "rocksdb" : "hashmap");
        setIfAbsent(out, cluster, CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
        setIfAbsent(out, cluster, CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        setIfAbsent(
                out, cluster, CheckpointingOptions.CHECKPOINTS_DIRECTORY, DEFAULT_CHECKPOINT_DIR);
        setIfAbsent(
                out,
                cluster,
                CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        setIfAbsent(
                out,
                cluster,
                CheckpointingOptions.MAX_RETAINED_CHECKPOINTS,
                DEFAULT_RETAINED_CHECKPOINTS);
        return out;
    }

    /**
     * Whether Flink's RocksDB backend can be loaded: always on a cluster (it ships in Flink's
     * {@code lib/}); not on the local launcher's classpath, which runs on the heap backend instead.
     */
    static boolean rocksDbAvailable(ClassLoader loader) {
        try {
            Class.forName(ROCKSDB_FACTORY, false, loader);
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    private static <T> void setIfAbsent(
            Configuration out, ReadableConfig cluster, ConfigOption<T> option, T value) {
        if (!out.contains(option) && cluster.getOptional(option).isEmpty()) {
            out.set(option, value);
        }
    }

    /**
     * Time-to-live for the state of an entity that has gone quiet: the entry expires {@code ttl}
     * after its last write and is never returned once expired. Cleaned up in full snapshots, while
     * reading the heap backend, and by RocksDB's compaction filter. Empty for a zero TTL (keep
     * forever).
     */
    public static Optional<StateTtlConfig> ttl(Duration ttl) {
        if (ttl.isZero()) {
            return Optional.empty();
        }
        return Optional.of(
                StateTtlConfig.newBuilder(ttl)
                        .updateTtlOnCreateAndWrite()
                        .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                        .cleanupFullSnapshot()
                        .build());
    }
}
