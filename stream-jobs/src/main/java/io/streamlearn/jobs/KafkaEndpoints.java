package io.streamlearn.jobs;

import io.streamlearn.schemas.AnomalyScore;
import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.DeadLetter;
import io.streamlearn.schemas.InvalidRecordException;
import io.streamlearn.schemas.ModelCommand;
import io.streamlearn.schemas.ModelSnapshot;
import io.streamlearn.schemas.Prediction;
import io.streamlearn.schemas.Recommendation;
import io.streamlearn.state.ModelStore;
import io.streamlearn.state.ModelStoreRecords;
import io.streamlearn.state.ModelStoreRetention;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The job's Kafka source and sinks, each given the job's client settings ({@link
 * KafkaClientProperties}: bootstrap servers and {@code streamlearn.kafka.properties.*}). The output
 * sinks (predictions, anomaly scores, recommendations, dead letters) follow {@code
 * streamlearn.delivery.guarantee}: transactional by default (exactly once: records become visible
 * to {@code read_committed} consumers when the checkpoint that covers them completes), or at least
 * once (visible as soon as they are sent). The model store's sink is transactional either way: a
 * snapshot repeated after a failure would be a second copy of a version, and warm start and
 * rollback read the store.
 */
public final class KafkaEndpoints {
    /**
     * Below the broker's default transaction.max.timeout.ms (15 min), above any sane checkpoint.
     */
    private static final String TRANSACTION_TIMEOUT_MS = "600000";

    private KafkaEndpoints() {}

    /**
     * An admin client of the job's cluster, for the checks the job makes before it starts ({@link
     * ModelTopicCheck}). Every admin client the job creates comes from here, so that client
     * settings the job's other Kafka clients get (e.g. security) reach it too: add them here.
     */
    public static Admin admin(JobSettings settings) {
        return Admin.create(
                settings.kafka()
                        .with(
                                Map.of(
                                        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000",
                                        AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000")));
    }

    /**
     * The job's input: the interactions topic for a next-item job, else the events topic, read
     * until the job is cancelled. (A replay does not end its source either: with Flink 2.2 the last
     * transactions could go uncommitted as the tasks finished; see ReplayRun.)
     */
    public static KafkaSource<RawRecord> source(JobSettings settings) {
        return sourceBuilder(settings).build();
    }

    private static KafkaSourceBuilder<RawRecord> sourceBuilder(JobSettings settings) {
        return KafkaSource.<RawRecord>builder()
                .setProperties(
                        settings.kafka().properties(Map.of("isolation.level", "read_committed")))
                .setTopics(
                        settings.recommends()
                                ? settings.interactionsTopic()
                                : settings.eventsTopic())
                .setGroupId(settings.groupId())
                .setStartingOffsets(
                        OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                .setDeserializer(new RawRecords());
    }

    /**
     * Operators' model commands. A job without state reads the commands written from {@code
     * startMillis} on (when it was built), so an old rollback is never replayed into a new job; a
     * restored job continues from the offset in its checkpoint.
     */
    public static KafkaSource<ModelCommand> commands(JobSettings settings, long startMillis) {
        return commandsBuilder(settings, startMillis).build();
    }

    private static KafkaSourceBuilder<ModelCommand> commandsBuilder(
            JobSettings settings, long startMillis) {
        return KafkaSource.<ModelCommand>builder()
                .setProperties(
                        settings.kafka()
                                .properties(
                                        Map.of(
                                                "isolation.level",
                                                "read_committed",
                                                "partition.discovery.interval.ms",
                                                "10000")))
                .setTopics(settings.modelCommandsTopic())
                .setGroupId(settings.groupId() + "-commands")
                .setStartingOffsets(OffsetsInitializer.timestamp(startMillis))
                .setDeserializer(new Commands(settings));
    }

    public static KafkaSink<Prediction> predictions(JobSettings settings) {
        return sink(
                settings,
                settings.predictionsTopic(),
                "predictions",
                Prediction.class,
                new PredictionKey());
    }

    /** Each user's next items, keyed by user id. */
    public static KafkaSink<Recommendation> recommendations(JobSettings settings) {
        return sink(
                settings,
                settings.recommendationsTopic(),
                "recommendations",
                Recommendation.class,
                new RecommendationKey());
    }

    /** One anomaly score per metric event, keyed by series id (what the alert feed reads). */
    public static KafkaSink<AnomalyScore> anomalyScores(JobSettings settings) {
        return anomalyScores(settings, Map.of());
    }

    /** The same, its producer also given these client settings (over the pass-through ones). */
    public static KafkaSink<AnomalyScore> anomalyScores(
            JobSettings settings, Map<String, String> producer) {
        return sink(
                settings,
                settings.anomalyScoresTopic(),
                "anomaly-scores",
                AnomalyScore.class,
                new AnomalyScoreKey(),
                producer);
    }

    public static KafkaSink<DeadLetter> deadLetters(JobSettings settings) {
        return sink(
                settings,
                settings.deadLettersTopic(),
                "dead-letters",
                DeadLetter.class,
                new DeadLetterKey());
    }

    /**
     * Snapshots to the models topic in the layout of {@link ModelStoreRecords}: a snapshot that
     * fits in one chunk ({@code streamlearn.model-store.chunk-size}) as one record keyed by its
     * version, a larger one as its chunks and then its manifest. The splitting operator emits a
     * snapshot's records in one call, so they reach the sink between the same two checkpoint
     * barriers and go in one transaction: a {@code read_committed} reader sees all of them or none.
     */
    public static ModelStoreSink models(JobSettings settings) {
        int recordBytes = settings.snapshotChunkBytes() + ModelStoreRecords.CHUNK_OVERHEAD_BYTES;
        Map<String, String> producer =
                Map.of(
                        "max.request.size",
                        Integer.toString(Math.max(1 << 20, recordBytes)),
                        "transaction.timeout.ms",
                        TRANSACTION_TIMEOUT_MS);
        KafkaSink<Tuple2<byte[], byte[]>> sink =
                KafkaSink.<Tuple2<byte[], byte[]>>builder()
                        .setKafkaProducerConfig(settings.kafka().properties(producer))
                        .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                        .setTransactionalIdPrefix(settings.transactionalIdPrefix() + "-models")
                        .setRecordSerializer(new KeyValueRecords(settings.modelsTopic()))
                        .build();
        SnapshotRecords split =
                new SnapshotRecords(settings.snapshotChunkBytes(), settings.keepVersions());
        return (snapshots, uid, name) ->
                snapshots
                        .flatMap(split)
                        .returns(SnapshotRecords.TYPE)
                        .uid(uid.apply("models-chunks"))
                        .name(name.apply("model store records"))
                        .setParallelism(1)
                        .setMaxParallelism(1)
                        .sinkTo(sink)
                        // One writer: a snapshot's records stay in order in one transaction.
                        // With the job's parallelism the records were spread round-robin over
                        // writers, out of order and over transactions.
                        .setParallelism(1);
    }

    /**
     * A snapshot's records for the models topic, in the order they are written, then the tombstones
     * of the versions {@link ModelStoreRetention} no longer keeps, in the same call (so in the same
     * transaction). The versions kept, with their chunk counts, are operator state, so a restored
     * writer deletes exactly what it wrote; a tombstone is an empty value here (Flink's tuples take
     * no nulls) and a record without a value in the topic.
     */
    static final class SnapshotRecords
            implements FlatMapFunction<ModelSnapshot, Tuple2<byte[], byte[]>>,
                    CheckpointedFunction {
        private static final long serialVersionUID = 2L;

        /** Key and value of a Kafka record; Flink's own serializers, no Kryo. */
        static final TypeInformation<Tuple2<byte[], byte[]>> TYPE =
                Types.TUPLE(Types.PRIMITIVE_ARRAY(Types.BYTE), Types.PRIMITIVE_ARRAY(Types.BYTE));

        private static final byte[] TOMBSTONE = new byte[0];

        private final int chunkBytes;
        private final int keepVersions;
        private transient ModelStoreRetention retention;
        private transient ListState<Tuple2<Long, Integer>> keptState;

        SnapshotRecords(int chunkBytes, int keepVersions) {
            this.chunkBytes = chunkBytes;
            this.keepVersions = keepVersions;
        }

        @Override
        public void initializeState(FunctionInitializationContext context) throws Exception {
            keptState =
                    context.getOperatorStateStore()
                            .getListState(
                                    new ListStateDescriptor<>(
                                            "model-store-kept",
                                            Types.TUPLE(Types.LONG, Types.INT)));
            retention = new ModelStoreRetention(keepVersions);
            for (Tuple2<Long, Integer> version : keptState.get()) {
                retention.restore(Map.of(version.f0, version.f1));
            }
        }

        @Override
        public void snapshotState(FunctionSnapshotContext context) throws Exception {
            List<Tuple2<Long, Integer>> kept = new ArrayList<>();
            retention.kept().forEach((version, chunks) -> kept.add(Tuple2.of(version, chunks)));
            keptState.update(kept);
        }

        @Override
        public void flatMap(ModelSnapshot snapshot, Collector<Tuple2<byte[], byte[]>> out) {
            List<ModelStoreRecords.KeyValue> records =
                    ModelStoreRecords.records(snapshot, chunkBytes);
            for (ModelStoreRecords.KeyValue record : records) {
                out.collect(Tuple2.of(record.key(), record.value()));
            }
            retention
                    .written(
                            snapshot.getModelVersion(),
                            ModelStoreRecords.chunkCount(records),
                            snapshot.getServingVersion())
                    .forEach(
                            (version, chunks) -> {
                                for (ModelStoreRecords.KeyValue tombstone :
                                        ModelStoreRecords.tombstones(version, chunks)) {
                                    out.collect(Tuple2.of(tombstone.key(), TOMBSTONE));
                                }
                            });
        }
    }

    /** Writes records whose key and value are made already. */
    private static final class KeyValueRecords
            implements KafkaRecordSerializationSchema<Tuple2<byte[], byte[]>> {
        private static final long serialVersionUID = 1L;
        private final String topic;

        KeyValueRecords(String topic) {
            this.topic = topic;
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(
                Tuple2<byte[], byte[]> record, KafkaSinkContext context, Long timestamp) {
            byte[] value = record.f1.length == 0 ? null : record.f1;
            // The time of writing, not the element's: a version stored at the end of the input
            // carries the end of time, which the broker refuses.
            return new ProducerRecord<>(topic, record.f0, value);
        }
    }

    private static <T extends SpecificRecord> KafkaSink<T> sink(
            JobSettings settings, String topic, String role, Class<T> type, Key<T> key) {
        return sink(settings, topic, role, type, key, Map.of());
    }

    private static <T extends SpecificRecord> KafkaSink<T> sink(
            JobSettings settings,
            String topic,
            String role,
            Class<T> type,
            Key<T> key,
            Map<String, String> producer) {
        Map<String, String> own = new HashMap<>(producer);
        own.put("transaction.timeout.ms", TRANSACTION_TIMEOUT_MS);
        return KafkaSink.<T>builder()
                .setKafkaProducerConfig(settings.kafka().properties(own))
                .setDeliveryGuarantee(settings.deliveryGuarantee())
                .setTransactionalIdPrefix(settings.transactionalIdPrefix() + "-" + role)
                .setRecordSerializer(new AvroRecords<>(topic, AvroSerde.of(type), key))
                .build();
    }

    /** The record key of an output type; serializable so the sink can ship it. */
    interface Key<T> extends java.io.Serializable {
        String of(T record);
    }

    private static final class PredictionKey implements Key<Prediction> {
        @Override
        public String of(Prediction record) {
            return record.getEntityId();
        }
    }

    private static final class RecommendationKey implements Key<Recommendation> {
        @Override
        public String of(Recommendation record) {
            return record.getUserId();
        }
    }

    private static final class AnomalyScoreKey implements Key<AnomalyScore> {
        @Override
        public String of(AnomalyScore record) {
            return record.getSeriesId();
        }
    }

    private static final class DeadLetterKey implements Key<DeadLetter> {
        @Override
        public String of(DeadLetter record) {
            return record.getSourceTopic() + "/" + record.getPartition() + "/" + record.getOffset();
        }
    }

    private static final class AvroRecords<T extends SpecificRecord>
            implements KafkaRecordSerializationSchema<T> {
        private static final long serialVersionUID = 1L;
        private final String topic;
        private final AvroSerde<T> serde;
        private final Key<T> key;

        AvroRecords(String topic, AvroSerde<T> serde, Key<T> key) {
            this.topic = topic;
            this.serde = serde;
            this.key = key;
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(
                T element, KafkaSinkContext context, Long timestamp) {
            return new ProducerRecord<>(
                    topic,
                    null,
                    timestamp,
                    key.of(element).getBytes(StandardCharsets.UTF_8),
                    serde.encode(element));
        }
    }

    /**
     * Decodes commands; one that does not decode is logged with its coordinates and skipped. A
     * rollback without state names a version too large for a command record ({@code streamlearn
     * models rollback} sends those so): its state is read here from the job's own model store, as
     * every reader reads it (chunks reassembled and checked), and must have the checksum the
     * command names; the trainer verifies it once more. One that cannot be resolved is logged with
     * why and skipped, as an unreadable command is.
     */
    static final class Commands implements KafkaRecordDeserializationSchema<ModelCommand> {
        private static final long serialVersionUID = 1L;
        private static final org.slf4j.Logger LOG =
                org.slf4j.LoggerFactory.getLogger(Commands.class);
        private final AvroSerde<ModelCommand> serde = AvroSerde.of(ModelCommand.class);
        private final JobSettings settings;

        Commands(JobSettings settings) {
            this.settings = settings;
        }

        @Override
        public void deserialize(
                ConsumerRecord<byte[], byte[]> record, Collector<ModelCommand> out) {
            ModelCommand command;
            try {
                command = serde.decode(record.value());
            } catch (InvalidRecordException e) {
                LOG.error(
                        "Ignoring unreadable model command {}-{}@{}: {}",
                        record.topic(),
                        record.partition(),
                        record.offset(),
                        e.getMessage());
                return;
            }
            if (command.getState().hasRemaining()) {
                out.collect(command);
                return;
            }
            try (ModelStore store = ModelStores.open(settings)) {
                ModelSnapshot snapshot = store.snapshot(command.getTargetVersion());
                if (!snapshot.getSha256().toString().equals(command.getSha256().toString())) {
                    throw new IllegalArgumentException(
                            "its sha256 in "
                                    + store.describe()
                                    + " is "
                                    + snapshot.getSha256()
                                    + ", the command names "
                                    + command.getSha256());
                }
                command.setState(snapshot.getState());
                out.collect(command);
            } catch (IllegalArgumentException | NoSuchElementException e) {
                LOG.error(
                        "Ignoring the rollback to model version {} of {}-{}@{}: {}",
                        command.getTargetVersion(),
                        record.topic(),
                        record.partition(),
                        record.offset(),
                        e.getMessage());
            }
        }

        @Override
        public TypeInformation<ModelCommand> getProducedType() {
            return new AvroTypeInfo<>(ModelCommand.class);
        }
    }

    /**
     * Keeps each record whole; decoding happens in {@link DecodeAndValidate} so failures are dead
     * letters.
     */
    static final class RawRecords implements KafkaRecordDeserializationSchema<RawRecord> {
        private static final long serialVersionUID = 1L;

        @Override
        public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RawRecord> out) {
            out.collect(
                    new RawRecord(
                            record.topic(),
                            record.partition(),
                            record.offset(),
                            record.timestamp(),
                            record.key(),
                            record.value()));
        }

        @Override
        public TypeInformation<RawRecord> getProducedType() {
            return TypeInformation.of(RawRecord.class);
        }
    }
}
