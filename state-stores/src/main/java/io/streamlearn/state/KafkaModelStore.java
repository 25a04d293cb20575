package io.streamlearn.state;

import io.streamlearn.schemas.InvalidRecordException;
import io.streamlearn.schemas.ModelSnapshot;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.LongPredicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model store on Kafka, the default: the topic the job publishes {@link ModelSnapshot}s to, a
 * version as one record keyed by the version or, when larger than a chunk, as chunks and a manifest
 * ({@link ModelStoreRecords}), so a compacted topic keeps every version once. It reads as a {@code
 * read_committed} consumer, so only snapshots of completed checkpoints are seen; it reassembles
 * chunked versions and checks them against their manifest's SHA-256, and verifies each snapshot's
 * state SHA-256 before handing out a model.
 */
public final class KafkaModelStore implements ModelStore {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaModelStore.class);
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String topic;
    private final Duration timeout;
    private Map<Long, String> refused = Map.of();

    /** A store on an unsecured cluster: only the bootstrap servers. */
    public KafkaModelStore(String bootstrapServers, String topic, Duration timeout) {
        this(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers), topic, timeout);
    }

    /**
     * @param client the consumer's connection settings: bootstrap servers and whatever the cluster
     *     needs (security protocol, SASL, TLS); the store adds its own reading settings
     */
    public KafkaModelStore(Map<String, ?> client, String topic, Duration timeout) {
        this.topic = topic;
        this.timeout = timeout;
        Map<String, Object> config = new HashMap<>(client);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        config.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 64 << 20);
        consumer =
                new KafkaConsumer<>(
                        config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /**
     * Every version in the store, oldest first; where a version was written more than once the last
     * record of each key wins, as compaction would keep it. Unreadable records are skipped and
     * named; chunked versions whose chunks are missing or corrupt are left out, warned about and
     * kept in {@link #refused()}.
     */
    @Override
    public List<ModelSnapshot> versions() {
        ModelStoreRecords.Versions versions = read(version -> true, new TreeSet<>());
        refused = versions.refused();
        return versions.readable();
    }

    /**
     * One version, reading only its own records: records keyed by another version are passed over
     * undecoded, so a reader of one version holds one version in memory, not the whole topic.
     * Records without a version key (written by hand) are decoded and kept if they are of it.
     *
     * @throws IllegalArgumentException naming the version when its chunks are missing or corrupt
     * @throws NoSuchElementException naming the versions the topic has
     */
    @Override
    public ModelSnapshot snapshot(long version) {
        TreeSet<Long> others = new TreeSet<>();
        ModelStoreRecords.Versions found = read(v -> v == version, others);
        String why = found.refused().get(version);
        if (why != null) {
            throw new IllegalArgumentException(why);
        }
        for (ModelSnapshot snapshot : found.readable()) {
            if (snapshot.getModelVersion() == version) {
                return snapshot;
            }
            others.add(snapshot.getModelVersion());
        }
        others.addAll(found.refused().keySet());
        throw new NoSuchElementException(
                "model version "
                        + version
                        + " is not in "
                        + describe()
                        + "; it has "
                        + (others.isEmpty()
                                ? "no versions"
                                : "versions " + others.first() + ".." + others.last()));
    }

    /**
     * Reads the topic from its beginning to its end as it is now, decoding the records whose key
     * names a wanted version (and those with no version key) and counting the others' versions.
     */
    private ModelStoreRecords.Versions read(LongPredicate wanted, Set<Long> others) {
        List<TopicPartition> partitions = new ArrayList<>();
        consumer.partitionsFor(topic, timeout)
                .forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
        if (partitions.isEmpty()) {
            throw new NoSuchElementException("model store topic '" + topic + "' does not exist");
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
        ModelStoreRecords.Reader reader = new ModelStoreRecords.Reader();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!end.entrySet().stream()
                .allMatch(e -> consumer.position(e.getKey(), timeout) >= e.getValue())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        "timed out after "
                                + timeout
                                + " reading model store topic '"
                                + topic
                                + "'");
            }
            for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                OptionalLong keyed = ModelStoreRecords.versionOfKey(record.key());
                if (keyed.isPresent() && !wanted.test(keyed.getAsLong())) {
                    others.add(keyed.getAsLong());
                    continue;
                }
                try {
                    reader.add(record.key(), record.value());
                } catch (InvalidRecordException e) {
                    LOG.warn(
                            "Skipping unreadable record {}-{}@{} in the model store: {}",
                            record.topic(),
                            record.partition(),
                            record.offset(),
                            e.getMessage());
                }
            }
        }
        ModelStoreRecords.Versions versions = reader.versions();
        versions.refused()
                .values()
                .forEach(why -> LOG.warn("Skipping a version of {}: {}", describe(), why));
        return versions;
    }

    /** The chunked versions the last {@link #versions()} found missing chunks of, or corrupt. */
    @Override
    public Map<Long, String> refused() {
        return refused;
    }

    @Override
    public String describe() {
        return "topic '" + topic + "'";
    }

    @Override
    public void close() {
        consumer.close();
    }
}
