package io.streamlearn.jobs;

import static io.streamlearn.jobs.StreamlearnOptions.*;

import io.streamlearn.jobs.device.DeviceSettings;
import io.streamlearn.jobs.input.EventDecoder;
import io.streamlearn.jobs.input.InteractionDecoder;
import io.streamlearn.models.AnomalyDetector;
import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelConfig.Family;
import io.streamlearn.models.ModelConfig.Task;
import io.streamlearn.state.ModelStoreRecords;
import java.io.Serializable;
import java.time.Duration;
import java.util.Locale;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;

/**
 * The validated settings of one job; built once from a Flink {@link Configuration}. The model's
 * task picks the job: {@link ForecastJob} for metrics (next-value, reconstruction), {@link
 * RecommendationJob} for interactions (next-item).
 *
 * @param kafka the brokers and client settings ({@code streamlearn.kafka.properties.*}) of every
 *     Kafka client of the job
 * @param decoder how metric events are read; null for a next-item job
 * @param interactionDecoder how interactions are read; null for a metrics job
 * @param deliveryGuarantee of the output topics (never of the model store, which stays
 *     transactional): {@code EXACTLY_ONCE} or {@code AT_LEAST_ONCE}
 * @param batching how the predictors batch their queries
 * @param bufferTimeout how long records may wait in the network buffers between the job's operators
 *     ({@code streamlearn.network.buffer-timeout}); null leaves Flink's {@code
 *     execution.buffer-timeout.interval} alone
 */
public record JobSettings(
        KafkaClientProperties kafka,
        String eventsTopic,
        String predictionsTopic,
        String deadLettersTopic,
        String modelsTopic,
        String groupId,
        String transactionalIdPrefix,
        ModelConfig model,
        int normalizerHorizon,
        int normalizerWarmUp,
        int recomputeEvery,
        boolean recomputeOnNewModel,
        int batchSize,
        int publishEverySteps,
        Backlog backlog,
        Duration maxOutOfOrderness,
        Duration checkpointInterval,
        EventDecoder decoder,
        DeviceSettings devices,
        Duration stateTtl,
        Duration publishInterval,
        Duration minPublishInterval,
        String modelCommandsTopic,
        double promotionMaxLossIncrease,
        int promotionWindow,
        String modelStore,
        String modelStorePath,
        long maxSnapshotBytes,
        int snapshotChunkBytes,
        Duration storeInterval,
        int keepVersions,
        String warmStart,
        TimeAlignment timeAlignment,
        Duration idleness,
        String interactionsTopic,
        String recommendationsTopic,
        String anomalyScoresTopic,
        InteractionDecoder interactionDecoder,
        Recommend recommend,
        Anomaly anomaly,
        DeliveryGuarantee deliveryGuarantee,
        ModelServing.Batching batching,
        Duration bufferTimeout)
        implements Serializable {

    /**
     * How recommendations are made.
     *
     * @param k items per recommendation
     * @param excludeSeen whether a user's seen items are left out
     * @param seenCapacity most recent distinct items remembered per user
     */
    public record Recommend(int k, boolean excludeSeen, int seenCapacity) implements Serializable {}

    /**
     * How the trainer keeps up in live mode ({@link Trainer}): when the newest example of a
     * mini-batch waited longer than {@code maxLag}, the next batch is twice as large, up to {@code
     * maxBatchSize}; past that it learns from a sample of the examples.
     */
    public record Backlog(int maxBatchSize, Duration maxLag) implements Serializable {
        /** The defaults of {@link StreamlearnOptions}. */
        public static Backlog defaults() {
            return new Backlog(
                    StreamlearnOptions.MAX_BATCH_SIZE.defaultValue(),
                    StreamlearnOptions.MAX_LAG.defaultValue());
        }
    }

    /** How raw anomaly scores become alert scores ({@link AnomalyDetector}). */
    public record Anomaly(AnomalyDetector.Settings detector) implements Serializable {
        /** The defaults of {@link StreamlearnOptions}. */
        public static Anomaly defaults() {
            return anomaly(new Configuration());
        }

        /** A fresh detector for one series. */
        public AnomalyDetector newDetector() {
            return new AnomalyDetector(detector);
        }
    }

    /**
     * Reads and validates every {@link StreamlearnOptions} key, and the input mapping of {@link
     * io.streamlearn.jobs.input.InputOptions} (checked against the user's schema here, at start-up)
     * and the devices of {@link io.streamlearn.jobs.device.DeviceOptions}.
     *
     * @throws IllegalArgumentException naming the key and the bad value
     */
    public static JobSettings from(Configuration conf) {
        KafkaClientProperties kafka = KafkaClientProperties.from(conf);
        ModelConfig model = model(conf);
        boolean items = model.task() == Task.NEXT_ITEM;
        return new JobSettings(
                kafka,
                nonBlank(conf, EVENTS_TOPIC),
                nonBlank(conf, PREDICTIONS_TOPIC),
                nonBlank(conf, DEAD_LETTERS_TOPIC),
                nonBlank(conf, MODELS_TOPIC),
                nonBlank(conf, GROUP_ID),
                nonBlank(conf, TRANSACTIONAL_ID_PREFIX),
                model,
                atLeast(conf, NORMALIZER_HORIZON, 1),
                atLeast(conf, NORMALIZER_WARM_UP, 0),
                atLeast(conf, RECOMPUTE_EVERY, 0),
                conf.get(RECOMPUTE_ON_NEW_MODEL),
                atLeast(conf, BATCH_SIZE, 1),
                atLeast(conf, PUBLISH_EVERY_STEPS, 1),
                new Backlog(
                        atLeast(conf, MAX_BATCH_SIZE, conf.get(BATCH_SIZE)),
                        positiveDuration(conf, MAX_LAG)),
                nonNegative(conf, MAX_OUT_OF_ORDERNESS),
                positiveDuration(conf, CHECKPOINT_INTERVAL),
                items ? null : EventDecoder.from(conf),
                DeviceSettings.from(conf),
                nonNegative(conf, STATE_TTL),
                nonNegative(conf, PUBLISH_INTERVAL),
                nonNegative(conf, MIN_PUBLISH_INTERVAL),
                nonBlank(conf, MODEL_COMMANDS_TOPIC),
                nonNegativeNumber(conf, PROMOTION_MAX_LOSS_INCREASE),
                atLeast(conf, PROMOTION_WINDOW, 1),
                oneOf(conf, MODEL_STORE, "kafka", "files"),
                modelStorePath(conf),
                conf.get(MAX_SNAPSHOT_SIZE).getBytes(),
                snapshotChunkBytes(conf),
                nonNegative(conf, STORE_INTERVAL),
                atLeast(conf, KEEP_VERSIONS, 0),
                warmStart(conf),
                TimeAlignment.parse(conf.get(TIME_ALIGNMENT)),
                nonNegative(conf, IDLENESS),
                nonBlank(conf, INTERACTIONS_TOPIC),
                nonBlank(conf, StreamlearnOptions.RECOMMENDATIONS_TOPIC),
                nonBlank(conf, StreamlearnOptions.ANOMALY_SCORES_TOPIC),
                items ? InteractionDecoder.from(conf) : null,
                new Recommend(
                        atLeast(conf, RECOMMEND_K, 1),
                        conf.get(EXCLUDE_SEEN),
                        atLeast(conf, SEEN_CAPACITY, 1)),
                anomaly(conf),
                deliveryGuarantee(conf),
                batching(conf),
                conf.getOptional(BUFFER_TIMEOUT).isPresent()
                        ? nonNegative(conf, BUFFER_TIMEOUT)
                        : null);
    }

    /** The brokers every client of the job connects to. */
    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    /** Whether this is a recommendation job (task next-item). */
    public boolean recommends() {
        return model.task() == Task.NEXT_ITEM;
    }

    /** How the predictors batch their queries. */
    static ModelServing.Batching batching(Configuration conf) {
        return new ModelServing.Batching(
                atLeast(conf, PREDICTOR_BATCH_SIZE, 1),
                nonNegative(conf, PREDICTOR_MAX_DELAY).toMillis());
    }

    private static Anomaly anomaly(Configuration conf) {
        double tolerance = conf.get(ANOMALY_RANGE_TOLERANCE);
        if (!Double.isFinite(tolerance)) {
            throw new IllegalArgumentException(
                    ANOMALY_RANGE_TOLERANCE.key() + " must be a number, got " + tolerance);
        }
        double level = conf.get(ANOMALY_LEVEL);
        if (!(level > 0 && level <= 1)) {
            throw new IllegalArgumentException(
                    ANOMALY_LEVEL.key() + " must be in (0, 1], got " + level);
        }
        int history = atLeast(conf, ANOMALY_HISTORY, 2);
        int recent = atLeast(conf, ANOMALY_RECENT, 1);
        if (recent > history) {
            throw new IllegalArgumentException(
                    ANOMALY_RECENT.key()
                            + " must be at most "
                            + ANOMALY_HISTORY.key()
                            + " ("
                            + history
                            + "), got "
                            + recent);
        }
        return new Anomaly(
                new AnomalyDetector.Settings(
                        recent,
                        history,
                        atLeast(conf, ANOMALY_MIN_HISTORY, 2),
                        atLeast(conf, ANOMALY_WARM_UP, 0),
                        atLeast(conf, ANOMALY_SUPPRESSION, 0),
                        tolerance,
                        level));
    }

    private static DeliveryGuarantee deliveryGuarantee(Configuration conf) {
        return switch (oneOf(conf, DELIVERY_GUARANTEE, "exactly-once", "at-least-once")) {
            case "at-least-once" -> DeliveryGuarantee.AT_LEAST_ONCE;
            default -> DeliveryGuarantee.EXACTLY_ONCE;
        };
    }

    /** Whether the job publishes snapshots to a directory instead of the models topic. */
    public boolean filesModelStore() {
        return modelStore.equals("files");
    }

    private static String modelStorePath(Configuration conf) {
        String path = conf.get(MODEL_STORE_PATH);
        if (conf.get(MODEL_STORE).equals("files") && (path == null || path.isBlank())) {
            throw new IllegalArgumentException(
                    MODEL_STORE_PATH.key() + " is required when " + MODEL_STORE.key() + "=files");
        }
        return path;
    }

    private static int snapshotChunkBytes(Configuration conf) {
        long bytes = conf.get(SNAPSHOT_CHUNK_SIZE).getBytes();
        long most = Integer.MAX_VALUE - ModelStoreRecords.CHUNK_OVERHEAD_BYTES;
        if (bytes < 1024 || bytes > most) {
            throw new IllegalArgumentException(
                    SNAPSHOT_CHUNK_SIZE.key()
                            + " must be between 1 kb and "
                            + most
                            + " bytes, got "
                            + conf.get(SNAPSHOT_CHUNK_SIZE).toHumanReadableString());
        }
        return (int) bytes;
    }

    private static String warmStart(Configuration conf) {
        String value = conf.get(WARM_START).trim();
        if (!value.equals("none") && !value.equals("latest") && !value.matches("\\d+")) {
            throw new IllegalArgumentException(
                    WARM_START.key()
                            + " must be 'none', 'latest' or a version number, got '"
                            + value
                            + "'");
        }
        return value;
    }

    private static String oneOf(
            Configuration conf, ConfigOption<String> option, String... allowed) {
        String value = conf.get(option);
        for (String a : allowed) {
            if (a.equals(value)) {
                return value;
            }
        }
        throw new IllegalArgumentException(
                option.key()
                        + " must be one of "
                        + String.join(", ", allowed)
                        + ", got '"
                        + value
                        + "'");
    }

    private static double nonNegativeNumber(Configuration conf, ConfigOption<Double> option) {
        double value = conf.get(option);
        if (!(value >= 0)) {
            throw new IllegalArgumentException(
                    option.key() + " must be a number at least 0, got " + value);
        }
        return value;
    }

    /**
     * The model the keys describe; the builder's own checks (heads dividing the hidden size, ranges
     * of rates) are reported with the key of the field involved.
     */
    private static ModelConfig model(Configuration conf) {
        Family family;
        try {
            family = ModelConfig.parseFamily(conf.get(FAMILY));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(FAMILY.key() + ": " + e.getMessage(), e);
        }
        Task task = task(conf, family);
        if (!family.supports(task)) {
            throw new IllegalArgumentException(
                    FAMILY.key()
                            + " '"
                            + conf.get(FAMILY)
                            + "' cannot do "
                            + TASK.key()
                            + " "
                            + task.name().toLowerCase(Locale.ROOT).replace('_', '-')
                            + (task == Task.RECONSTRUCTION
                                    ? ": use lstm_autoencoder"
                                    : ": use rnn, gru, lstm, attention or mlp"));
        }
        ModelConfig.Optimizer optimizer;
        try {
            optimizer = ModelConfig.parseOptimizer(conf.get(OPTIMIZER));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(OPTIMIZER.key() + ": " + e.getMessage(), e);
        }
        ModelConfig.ItemOutput itemOutput;
        ModelConfig.Softmax softmax;
        try {
            itemOutput = ModelConfig.parseItemOutput(conf.get(ITEM_OUTPUT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(ITEM_OUTPUT.key() + ": " + e.getMessage(), e);
        }
        try {
            softmax = ModelConfig.parseSoftmax(conf.get(SOFTMAX));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(SOFTMAX.key() + ": " + e.getMessage(), e);
        }
        // The range checks on the way in name their keys; the builder's own, in build(), name
        // their fields.
        ModelConfig.Builder builder =
                ModelConfig.builder()
                        .setTask(task)
                        .setFamily(family)
                        .setWindow(atLeast(conf, WINDOW, 2))
                        .optFeatures(atLeast(conf, FEATURES, 1))
                        .optHiddenSize(atLeast(conf, HIDDEN_SIZE, 1))
                        .optLayers(atLeast(conf, LAYERS, 1))
                        .optDropout((float) (double) conf.get(DROPOUT))
                        .optHeads(atLeast(conf, HEADS, 1))
                        .optOptimizer(optimizer)
                        .optLearningRate((float) positive(conf, LEARNING_RATE))
                        .optMomentum((float) (double) conf.get(MOMENTUM))
                        .optWeightDecay((float) (double) conf.get(WEIGHT_DECAY))
                        .optWarmupSteps(atLeast(conf, WARMUP_STEPS, 0))
                        .optGradientClip((float) positive(conf, GRADIENT_CLIP))
                        .optItemCapacity(atLeast(conf, ITEM_CAPACITY, 2))
                        .optItemOutput(itemOutput)
                        .optSoftmax(softmax)
                        .optNegatives(atLeast(conf, NEGATIVES, 1))
                        .optItemSuccessors(atLeast(conf, ITEM_SUCCESSORS, 0))
                        .optSuccessorLearningRate((float) positive(conf, SUCCESSOR_LEARNING_RATE))
                        .optSeed(conf.get(SEED));
        try {
            return builder.build();
        } catch (IllegalArgumentException e) {
            // The builder's messages start with the field: hiddenSize ->
            // streamlearn.model.hidden-size.
            String field = e.getMessage().split(" ", 2)[0];
            String key =
                    "streamlearn.model."
                            + field.replaceAll("([a-z])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
            throw new IllegalArgumentException(key + ": " + e.getMessage(), e);
        }
    }

    /** The configured task, or the family's natural one when unset. */
    private static Task task(Configuration conf, Family family) {
        String value = conf.get(TASK);
        if (value == null || value.isBlank()) {
            return family == Family.LSTM_AUTOENCODER ? Task.RECONSTRUCTION : Task.NEXT_VALUE;
        }
        return switch (value.trim().toLowerCase(Locale.ROOT).replace('_', '-')) {
            case "next-value" -> Task.NEXT_VALUE;
            case "next-item" -> Task.NEXT_ITEM;
            case "reconstruction" -> Task.RECONSTRUCTION;
            default ->
                    throw new IllegalArgumentException(
                            TASK.key()
                                    + " must be next-value, next-item or reconstruction, got '"
                                    + value
                                    + "'");
        };
    }

    private static int atLeast(Configuration conf, ConfigOption<Integer> option, int min) {
        int value = conf.get(option);
        if (value < min) {
            throw new IllegalArgumentException(
                    option.key() + " must be at least " + min + ", got " + value);
        }
        return value;
    }

    private static double positive(Configuration conf, ConfigOption<Double> option) {
        double value = conf.get(option);
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(
                    option.key() + " must be a positive number, got " + value);
        }
        return value;
    }

    private static Duration positiveDuration(Configuration conf, ConfigOption<Duration> option) {
        Duration value = conf.get(option);
        if (value.isZero() || value.isNegative()) {
            throw new IllegalArgumentException(option.key() + " must be positive, got " + value);
        }
        return value;
    }

    private static Duration nonNegative(Configuration conf, ConfigOption<Duration> option) {
        Duration value = conf.get(option);
        if (value.isNegative()) {
            throw new IllegalArgumentException(
                    option.key() + " must not be negative, got " + value);
        }
        return value;
    }

    private static String nonBlank(Configuration conf, ConfigOption<String> option) {
        String value = conf.get(option);
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(option.key() + " must not be empty");
        }
        return value;
    }
}
