package io.streamlearn.jobs;

import io.streamlearn.schemas.AnomalyScore;
import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.DeadLetter;
import io.streamlearn.schemas.InvalidRecordException;
import io.streamlearn.schemas.ModelCommand;
import io.streamlearn.schemas.ModelSnapshot;
import io.streamlearn.schemas.Prediction;
import io.streamlearn.schemas.Recommendation;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
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
                .setDeserializer(new Commands());
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
        return sink(
                settings,
                settings.anomalyScoresTopic(),
                "anomaly-scores",
                AnomalyScore.class,
                new AnomalyScoreKey());
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
     * Snapshots, one record per version keyed by version. A large model is one large record: the
     * producer may send up to {@code streamlearn.model-store.max-snapshot-size}, and the topic
     * needs {@code max.message.bytes} at least that (the broker's default is 1 MiB). One record
     * keeps compaction, ordering and the transaction simple where chunks would need reassembly.
     */
    public static KafkaSink<ModelSnapshot> models(JobSettings settings) {
        return sink(
                settings,
                settings.modelsTopic(),
                "models",
                ModelSnapshot.class,
                new ModelKey(),
                Map.of("max.request.size", Long.toString(settings.maxSnapshotBytes())),
                DeliveryGuarantee.EXACTLY_ONCE);
    }

    private static <T extends SpecificRecord> KafkaSink<T> sink(
            JobSettings settings, String topic, String role, Class<T> type, Key<T> key) {
        return sink(settings, topic, role, type, key, Map.of(), settings.deliveryGuarantee());
    }

    private static <T extends SpecificRecord> KafkaSink<T> sink(
            JobSettings settings,
            String topic,
            String role,
            Class<T> type,
            Key<T> key,
            Map<String, String> producer,
            DeliveryGuarantee guarantee) {
        Map<String, String> own = new HashMap<>(producer);
        own.put("transaction.timeout.ms", TRANSACTION_TIMEOUT_MS);
        return KafkaSink.<T>builder()
                .setKafkaProducerConfig(settings.kafka().properties(own))
                .setDeliveryGuarantee(guarantee)
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

    private static final class ModelKey implements Key<ModelSnapshot> {
        @Override
        public String of(ModelSnapshot record) {
            return Long.toString(record.getModelVersion());
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

    /** Decodes commands; one that does not decode is logged with its coordinates and skipped. */
    static final class Commands implements KafkaRecordDeserializationSchema<ModelCommand> {
        private static final long serialVersionUID = 1L;
        private static final org.slf4j.Logger LOG =
                org.slf4j.LoggerFactory.getLogger(Commands.class);
        private final AvroSerde<ModelCommand> serde = AvroSerde.of(ModelCommand.class);

        @Override
        public void deserialize(
                ConsumerRecord<byte[], byte[]> record, Collector<ModelCommand> out) {
            try {
                out.collect(serde.decode(record.value()));
            } catch (InvalidRecordException e) {
                LOG.error(
                        "Ignoring unreadable model command {}-{}@{}: {}",
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
