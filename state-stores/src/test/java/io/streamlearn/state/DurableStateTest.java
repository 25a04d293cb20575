package io.streamlearn.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.StateBackendOptions;
import org.junit.jupiter.api.Test;

class DurableStateTest {
    @Test
    void fillsInDurableDefaultsForKeysNobodySet() {
        Configuration conf = DurableState.withDefaults(new Configuration(), new Configuration());
        assertEquals(
                DurableState.rocksDbAvailable(DurableState.class.getClassLoader())
                        ? "rocksdb"
                        : "hashmap",
                conf.get(StateBackendOptions.STATE_BACKEND));
        assertEquals(
                DurableState.DEFAULT_CHECKPOINT_DIR,
                conf.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY));
        assertEquals(
                ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION,
                conf.get(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION));
        assertEquals(3, conf.get(CheckpointingOptions.MAX_RETAINED_CHECKPOINTS));
        assertTrue(conf.get(CheckpointingOptions.INCREMENTAL_CHECKPOINTS));
    }

    @Test
    void fallsBackToTheHeapBackendWhereRocksDbIsNotOnTheClasspath() {
        assertFalse(DurableState.rocksDbAvailable(new ClassLoader(null) {}));
    }

    @Test
    void keysTheJobOrTheClusterSetWin() {
        Configuration job = new Configuration();
        job.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, "s3://bucket/checkpoints");
        Configuration cluster = new Configuration();
        cluster.set(StateBackendOptions.STATE_BACKEND, "forst");
        Configuration conf = DurableState.withDefaults(job, cluster);
        assertEquals(
                "s3://bucket/checkpoints", conf.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY));
        assertFalse(
                conf.contains(StateBackendOptions.STATE_BACKEND), "the cluster's backend stays");
    }

    @Test
    void aZeroTimeToLiveKeepsStateForever() {
        assertTrue(DurableState.ttl(Duration.ZERO).isEmpty());
        assertEquals(
                Duration.ofHours(1),
                DurableState.ttl(Duration.ofHours(1)).orElseThrow().getTimeToLive());
    }
}
