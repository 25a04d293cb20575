package io.streamlearn.jobs;

import java.time.Duration;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/**
 * Every setting of the forecasting job, declared once: key, type, default and description. {@link
 * JobSettings#from} validates them and names the key in every error.
 */
public final class StreamlearnOptions {
    private StreamlearnOptions() {}

    public static final ConfigOption<String> BOOTSTRAP_SERVERS =
            ConfigOptions.key("streamlearn.kafka.bootstrap-servers")
                    .stringType()
                    .noDefaultValue()
                    .withDescription("Kafka bootstrap servers, host:port[,host:port].");

    public static final ConfigOption<String> EVENTS_TOPIC =
            ConfigOptions.key("streamlearn.topic.events")
                    .stringType()
                    .defaultValue("metrics")
                    .withDescription("Topic of MetricEvent records (Avro single-object encoding).");

    public static final ConfigOption<String> PREDICTIONS_TOPIC =
            ConfigOptions.key("streamlearn.topic.predictions")
                    .stringType()
                    .defaultValue("predictions")
                    .withDescription(
                            "Topic the job writes Prediction records to, transactionally.");

    public static final ConfigOption<String> DEAD_LETTERS_TOPIC =
            ConfigOptions.key("streamlearn.topic.dead-letters")
                    .stringType()
                    .defaultValue("dead-letters")
                    .withDescription(
                            "Topic of records the job could not use, with the reason and the"
                                    + " original bytes.");

    public static final ConfigOption<String> MODELS_TOPIC =
            ConfigOptions.key("streamlearn.topic.models")
                    .stringType()
                    .defaultValue("models")
                    .withDescription("Topic of published model snapshots (ideally compacted).");

    public static final ConfigOption<String> GROUP_ID =
            ConfigOptions.key("streamlearn.kafka.group-id")
                    .stringType()
                    .defaultValue("streamlearn")
                    .withDescription(
                            "Consumer group id; offsets live in Flink checkpoints, the group only"
                                    + " shows progress.");

    public static final ConfigOption<String> TRANSACTIONAL_ID_PREFIX =
            ConfigOptions.key("streamlearn.kafka.transactional-id-prefix")
                    .stringType()
                    .defaultValue("streamlearn")
                    .withDescription(
                            "Prefix of the sinks' transactional ids; unique per job on a cluster.");

    public static final ConfigOption<Integer> FEATURES =
            ConfigOptions.key("streamlearn.model.features")
                    .intType()
                    .defaultValue(1)
                    .withDescription(
                            "Number of values in every event; events with another number are dead"
                                    + " letters.");

    public static final ConfigOption<Integer> WINDOW =
            ConfigOptions.key("streamlearn.model.window")
                    .intType()
                    .defaultValue(16)
                    .withDescription("Events of history per series the model sees.");

    public static final ConfigOption<Integer> HIDDEN_SIZE =
            ConfigOptions.key("streamlearn.model.hidden-size")
                    .intType()
                    .defaultValue(32)
                    .withDescription("LSTM state size.");

    public static final ConfigOption<Double> LEARNING_RATE =
            ConfigOptions.key("streamlearn.model.learning-rate")
                    .doubleType()
                    .defaultValue(0.005)
                    .withDescription("Adam learning rate.");

    public static final ConfigOption<Long> SEED =
            ConfigOptions.key("streamlearn.model.seed")
                    .longType()
                    .defaultValue(42L)
                    .withDescription(
                            "Seed of the initial weights; same seed and same input give the same"
                                    + " model.");

    public static final ConfigOption<Integer> BATCH_SIZE =
            ConfigOptions.key("streamlearn.trainer.batch-size")
                    .intType()
                    .defaultValue(32)
                    .withDescription("Examples per optimizer step.");

    public static final ConfigOption<Integer> PUBLISH_EVERY_STEPS =
            ConfigOptions.key("streamlearn.trainer.publish-every-steps")
                    .intType()
                    .defaultValue(5)
                    .withDescription(
                            "The trainer publishes a new model version every this many steps.");

    public static final ConfigOption<Duration> MAX_OUT_OF_ORDERNESS =
            ConfigOptions.key("streamlearn.events.max-out-of-orderness")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(5))
                    .withDescription(
                            "Bound of the event-time watermark; events behind it are counted as"
                                    + " late.");

    public static final ConfigOption<Duration> CHECKPOINT_INTERVAL =
            ConfigOptions.key("streamlearn.checkpoint-interval")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(2))
                    .withDescription(
                            "Checkpoint interval; predictions become visible to read_committed"
                                    + " consumers at each checkpoint.");
}
