package io.streamlearn.jobs;

import static io.streamlearn.jobs.StreamlearnOptions.*;

import io.streamlearn.jobs.device.DeviceSettings;
import io.streamlearn.jobs.input.EventDecoder;
import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelConfig.Family;
import java.io.Serializable;
import java.time.Duration;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;

/** The validated settings of one forecasting job; built once from a Flink {@link Configuration}. */
public record JobSettings(
        String bootstrapServers,
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
        Duration maxOutOfOrderness,
        Duration checkpointInterval,
        EventDecoder decoder,
        DeviceSettings devices,
        Duration stateTtl,
        Duration publishInterval,
        String modelCommandsTopic,
        double promotionMaxLossIncrease,
        int promotionWindow,
        String modelStore,
        String modelStorePath,
        long maxSnapshotBytes,
        String warmStart)
        implements Serializable {

    /**
     * Reads and validates every {@link StreamlearnOptions} key, and the input mapping of {@link
     * io.streamlearn.jobs.input.InputOptions} (checked against the user's schema here, at start-up)
     * and the devices of {@link io.streamlearn.jobs.device.DeviceOptions}.
     *
     * @throws IllegalArgumentException naming the key and the bad value
     */
    public static JobSettings from(Configuration conf) {
        String servers = conf.get(BOOTSTRAP_SERVERS);
        if (servers == null || servers.isBlank()) {
            throw new IllegalArgumentException(
                    BOOTSTRAP_SERVERS.key() + " is required (host:port of your Kafka brokers)");
        }
        ModelConfig model = model(conf);
        return new JobSettings(
                servers,
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
                nonNegative(conf, MAX_OUT_OF_ORDERNESS),
                positiveDuration(conf, CHECKPOINT_INTERVAL),
                EventDecoder.from(conf),
                DeviceSettings.from(conf),
                nonNegative(conf, STATE_TTL),
                nonNegative(conf, PUBLISH_INTERVAL),
                nonBlank(conf, MODEL_COMMANDS_TOPIC),
                nonNegativeNumber(conf, PROMOTION_MAX_LOSS_INCREASE),
                atLeast(conf, PROMOTION_WINDOW, 1),
                oneOf(conf, MODEL_STORE, "kafka", "files"),
                modelStorePath(conf),
                conf.get(MAX_SNAPSHOT_SIZE).getBytes(),
                warmStart(conf));
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
     * The next-value model the keys describe; the builder's own checks (heads dividing the hidden
     * size, ranges of rates) are reported with the key of the field involved.
     */
    private static ModelConfig model(Configuration conf) {
        Family family;
        try {
            family = ModelConfig.parseFamily(conf.get(FAMILY));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(FAMILY.key() + ": " + e.getMessage(), e);
        }
        if (!family.supports(ModelConfig.Task.NEXT_VALUE)) {
            throw new IllegalArgumentException(
                    FAMILY.key()
                            + " must be a next-value family (rnn, gru, lstm, attention, mlp) but"
                            + " was '"
                            + conf.get(FAMILY)
                            + "'");
        }
        ModelConfig.Optimizer optimizer;
        try {
            optimizer = ModelConfig.parseOptimizer(conf.get(OPTIMIZER));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(OPTIMIZER.key() + ": " + e.getMessage(), e);
        }
        try {
            return ModelConfig.builder()
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
                    .optSeed(conf.get(SEED))
                    .build();
        } catch (IllegalArgumentException e) {
            // The builder's messages start with the field: hiddenSize ->
            // streamlearn.model.hidden-size.
            String field = e.getMessage().split(" ", 2)[0];
            String key =
                    "streamlearn.model."
                            + field.replaceAll("([a-z])([A-Z])", "$1-$2")
                                    .toLowerCase(java.util.Locale.ROOT);
            throw new IllegalArgumentException(key + ": " + e.getMessage(), e);
        }
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
