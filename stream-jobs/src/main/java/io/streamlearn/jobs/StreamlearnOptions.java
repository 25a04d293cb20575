package io.streamlearn.jobs;

import java.time.Duration;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.MemorySize;

/**
 * Every setting of the job, declared once: key, type, default and description. {@link
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
                            "Topic the job writes Prediction records to (transactionally unless"
                                    + " streamlearn.delivery.guarantee is at-least-once).");

    public static final ConfigOption<String> RECOMMENDATIONS_TOPIC =
            ConfigOptions.key("streamlearn.topic.recommendations")
                    .stringType()
                    .defaultValue("recommendations")
                    .withDescription(
                            "Topic the recommendation job writes Recommendation records to, keyed"
                                    + " by user id; the recommendation feed reads it.");

    public static final ConfigOption<String> ANOMALY_SCORES_TOPIC =
            ConfigOptions.key("streamlearn.topic.anomaly-scores")
                    .stringType()
                    .defaultValue("anomaly-scores")
                    .withDescription(
                            "Topic the metrics job writes AnomalyScore records to, keyed by series"
                                    + " id; the alert feed reads it.");

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

    public static final ConfigOption<String> INTERACTIONS_TOPIC =
            ConfigOptions.key("streamlearn.topic.interactions")
                    .stringType()
                    .defaultValue("interactions")
                    .withDescription(
                            "Topic of InteractionEvent records the recommendation job reads (task"
                                    + " next-item).");

    public static final ConfigOption<String> TASK =
            ConfigOptions.key("streamlearn.model.task")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "What the job learns: next-value (metrics: forecasts and anomaly"
                                    + " scores), reconstruction (metrics: anomaly scores of an"
                                    + " autoencoder) or next-item (interactions: recommendations)."
                                    + " Unset: reconstruction for the lstm_autoencoder family,"
                                    + " next-value otherwise.");

    public static final ConfigOption<Integer> ITEM_CAPACITY =
            ConfigOptions.key("streamlearn.model.item-capacity")
                    .intType()
                    .defaultValue(10_000)
                    .withDescription(
                            "Next-item models: rows of the item vocabulary, row 0 included,"
                                    + " which is reserved (padding, unknown items): capacity - 1"
                                    + " items fit at once; beyond them the least recently seen"
                                    + " item gives its row to a new one.");

    public static final ConfigOption<String> ITEM_OUTPUT =
            ConfigOptions.key("streamlearn.model.item-output")
                    .stringType()
                    .defaultValue("untied")
                    .withDescription(
                            "Next-item models: the output layer. untied (default): an output table,"
                                + " a per-item bias and the last item's embedding in the query;"
                                + " tied: scores against the input embeddings, no bias (the head of"
                                + " models saved before it; docs/models/).");

    public static final ConfigOption<String> SOFTMAX =
            ConfigOptions.key("streamlearn.model.softmax")
                    .stringType()
                    .defaultValue("auto")
                    .withDescription(
                            "Next-item training: full (every item in the softmax), sampled"
                                    + " (the target and streamlearn.model.negatives items drawn by"
                                    + " popularity, log-Q corrected) or auto (full up to 50,000"
                                    + " rows of item-capacity, sampled beyond). Serving always"
                                    + " ranks every item.");

    public static final ConfigOption<Integer> NEGATIVES =
            ConfigOptions.key("streamlearn.model.negatives")
                    .intType()
                    .defaultValue(256)
                    .withDescription(
                            "Next-item training with the sampled softmax: items drawn per step.");

    public static final ConfigOption<Integer> ITEM_SUCCESSORS =
            ConfigOptions.key("streamlearn.model.item-successors")
                    .intType()
                    .defaultValue(16)
                    .withDescription(
                            "Next-item models with the untied head: successor slots per item, each"
                                    + " a candidate next item with a learned score added to its"
                                    + " logit (a sparse transition term beside the factorised"
                                    + " one); 0 turns them off. A restored or warm-started model"
                                    + " keeps the slots it was saved with (none before model"
                                    + " format 4).");

    public static final ConfigOption<Double> SUCCESSOR_LEARNING_RATE =
            ConfigOptions.key("streamlearn.model.successor-learning-rate")
                    .doubleType()
                    .defaultValue(2.0)
                    .withDescription(
                            "Next-item models with successor slots: the plain SGD rate of the"
                                    + " slots' scores (not divided by the batch size).");

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

    public static final ConfigOption<String> FAMILY =
            ConfigOptions.key("streamlearn.model.family")
                    .stringType()
                    .defaultValue("lstm")
                    .withDescription(
                            "Network of the model: rnn, gru, lstm, attention or mlp, or"
                                    + " lstm_autoencoder for task reconstruction"
                                    + " (docs/models/).");

    public static final ConfigOption<Integer> HIDDEN_SIZE =
            ConfigOptions.key("streamlearn.model.hidden-size")
                    .intType()
                    .defaultValue(32)
                    .withDescription("Width of every hidden layer (recurrent state, attention).");

    public static final ConfigOption<Integer> LAYERS =
            ConfigOptions.key("streamlearn.model.layers")
                    .intType()
                    .defaultValue(1)
                    .withDescription("Stacked recurrent, attention or hidden MLP layers.");

    public static final ConfigOption<Double> DROPOUT =
            ConfigOptions.key("streamlearn.model.dropout")
                    .doubleType()
                    .defaultValue(0.0)
                    .withDescription("Dropout rate between layers during training, in [0, 1).");

    public static final ConfigOption<Integer> HEADS =
            ConfigOptions.key("streamlearn.model.heads")
                    .intType()
                    .defaultValue(2)
                    .withDescription("Attention heads (attention only); must divide hidden-size.");

    public static final ConfigOption<String> OPTIMIZER =
            ConfigOptions.key("streamlearn.model.optimizer")
                    .stringType()
                    .defaultValue("adam")
                    .withDescription("adam (AdamW) or sgd_momentum.");

    public static final ConfigOption<Double> LEARNING_RATE =
            ConfigOptions.key("streamlearn.model.learning-rate")
                    .doubleType()
                    .defaultValue(0.005)
                    .withDescription("Peak learning rate of the optimizer.");

    public static final ConfigOption<Double> MOMENTUM =
            ConfigOptions.key("streamlearn.model.momentum")
                    .doubleType()
                    .defaultValue(0.9)
                    .withDescription("Momentum of sgd_momentum, in [0, 1).");

    public static final ConfigOption<Double> WEIGHT_DECAY =
            ConfigOptions.key("streamlearn.model.weight-decay")
                    .doubleType()
                    .defaultValue(0.0)
                    .withDescription("Weight decay of weight matrices (decoupled for adam).");

    public static final ConfigOption<Integer> WARMUP_STEPS =
            ConfigOptions.key("streamlearn.model.warmup-steps")
                    .intType()
                    .defaultValue(0)
                    .withDescription("Steps over which the learning rate ramps up from 0.");

    public static final ConfigOption<Double> GRADIENT_CLIP =
            ConfigOptions.key("streamlearn.model.gradient-clip")
                    .doubleType()
                    .defaultValue(1.0)
                    .withDescription(
                            "Largest global L2 norm of a gradient; larger ones are scaled.");

    public static final ConfigOption<Integer> NORMALIZER_HORIZON =
            ConfigOptions.key("streamlearn.normalizer.horizon")
                    .intType()
                    .defaultValue(1000)
                    .withDescription(
                            "Memory, in events, of each series' online mean and scale; the first"
                                    + " this many events are averaged equally.");

    public static final ConfigOption<Integer> NORMALIZER_WARM_UP =
            ConfigOptions.key("streamlearn.normalizer.warm-up")
                    .intType()
                    .defaultValue(20)
                    .withDescription(
                            "Events a series must have had before its windows train the model.");

    public static final ConfigOption<Integer> RECOMPUTE_EVERY =
            ConfigOptions.key("streamlearn.predictor.recompute-every")
                    .intType()
                    .defaultValue(0)
                    .withDescription(
                            "Metrics job, recurrent families: one-step updates of a series'"
                                    + " hidden state between recomputations from its window; 0"
                                    + " recomputes at every event (docs/recurrent-state.md: worth"
                                    + " raising for windows of 50 and more). The recommendation"
                                    + " job does not read it: it recomputes each user's state"
                                    + " from the window at every event.");

    public static final ConfigOption<Boolean> RECOMPUTE_ON_NEW_MODEL =
            ConfigOptions.key("streamlearn.predictor.recompute-on-new-model")
                    .booleanType()
                    .defaultValue(false)
                    .withDescription(
                            "Metrics job, recurrent families: also recompute a series' hidden"
                                    + " state when the model version changes. The recommendation"
                                    + " job does not read it.");

    public static final ConfigOption<Integer> PREDICTOR_BATCH_SIZE =
            ConfigOptions.key("streamlearn.predictor.batch-size")
                    .intType()
                    .defaultValue(32)
                    .withDescription(
                            "The most queries (events) a predictor answers with one forward pass; 1"
                                    + " answers each event alone (docs/time-alignment.md).");

    public static final ConfigOption<Duration> PREDICTOR_MAX_DELAY =
            ConfigOptions.key("streamlearn.predictor.max-delay")
                    .durationType()
                    .defaultValue(Duration.ofMillis(5))
                    .withDescription(
                            "How long a predictor's batch waits for more queries after its first"
                                    + " one, at most; batches are also answered at every"
                                    + " watermark, before every checkpoint and when full"
                                    + " (docs/time-alignment.md).");

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

    public static final ConfigOption<Integer> MAX_BATCH_SIZE =
            ConfigOptions.key("streamlearn.trainer.max-batch-size")
                    .intType()
                    .defaultValue(1024)
                    .withDescription(
                            "Live mode: the largest mini-batch the trainer grows to while it lags"
                                    + " behind, and the most examples that wait while a step runs;"
                                    + " past it, it learns from a sample of the examples.");

    public static final ConfigOption<Duration> MAX_LAG =
            ConfigOptions.key("streamlearn.trainer.max-lag")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(1))
                    .withDescription(
                            "Live mode: how long examples may wait for a step before the"
                                    + " trainer takes larger mini-batches (and then samples) to"
                                    + " keep up, and the longest the trainer holds its input back"
                                    + " while a step runs.");

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
                            "Checkpoint interval; with exactly-once delivery, predictions become"
                                    + " visible to read_committed consumers at each checkpoint.");

    public static final ConfigOption<String> DELIVERY_GUARANTEE =
            ConfigOptions.key("streamlearn.delivery.guarantee")
                    .stringType()
                    .defaultValue("exactly-once")
                    .withDescription(
                            "Of the output topics (predictions, anomaly scores, recommendations,"
                                    + " dead letters): exactly-once (transactional: visible to"
                                    + " read_committed consumers when the checkpoint commits) or"
                                    + " at-least-once (visible at once; a failure may repeat the"
                                    + " records since the last checkpoint). Model snapshots stay"
                                    + " transactional either way.");

    /** Applied by {@link JobSettings#bufferTimeout()}; see docs/guarantees.md. */
    public static final ConfigOption<Duration> BUFFER_TIMEOUT =
            ConfigOptions.key("streamlearn.network.buffer-timeout")
                    .durationType()
                    .noDefaultValue()
                    .withDescription(
                            "How long a record may wait in a network buffer between the job's"
                                    + " operators before the buffer is sent unfilled (Flink's"
                                    + " execution.buffer-timeout.interval, for this job); unset,"
                                    + " Flink's own setting (100 ms by default). With"
                                    + " at-least-once delivery, 10 ms cuts an answer's median"
                                    + " latency by about 100 ms but lowers the rate the job keeps"
                                    + " up with (docs/guarantees.md). 0 sends every record at"
                                    + " once.");

    public static final ConfigOption<Duration> STATE_TTL =
            ConfigOptions.key("streamlearn.state.ttl")
                    .durationType()
                    .defaultValue(Duration.ofDays(7))
                    .withDescription(
                            "How long the per-series state (history, last prediction) of a series"
                                    + " that has gone quiet is kept; 0 keeps it forever.");

    public static final ConfigOption<Duration> PUBLISH_INTERVAL =
            ConfigOptions.key("streamlearn.trainer.publish-interval")
                    .durationType()
                    .defaultValue(Duration.ZERO)
                    .withDescription(
                            "Also publish a new model version when this much processing time has"
                                    + " passed since the last one (and a step was taken); 0 turns"
                                    + " it off, which keeps runs deterministic.");

    public static final ConfigOption<Duration> MIN_PUBLISH_INTERVAL =
            ConfigOptions.key("streamlearn.trainer.min-publish-interval")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(1))
                    .withDescription(
                            "Live mode (time-alignment none): the least processing time between"
                                    + " two published versions after the first; a version due by"
                                    + " publish-every-steps sooner waits for the first step after"
                                    + " it. Event-time alignment publishes on steps only. 0"
                                    + " publishes on steps only.");

    public static final ConfigOption<String> MODEL_COMMANDS_TOPIC =
            ConfigOptions.key("streamlearn.topic.model-commands")
                    .stringType()
                    .defaultValue("model-commands")
                    .withDescription(
                            "Topic of ModelCommand records (rollback) that the trainer follows.");

    public static final ConfigOption<Double> PROMOTION_MAX_LOSS_INCREASE =
            ConfigOptions.key("streamlearn.promotion.max-loss-increase")
                    .doubleType()
                    .defaultValue(0.05)
                    .withDescription(
                            "A new version serves only if its prequential loss over the recent"
                                + " batches is at most (1 + this) times the serving version's.");

    public static final ConfigOption<Integer> PROMOTION_WINDOW =
            ConfigOptions.key("streamlearn.promotion.window")
                    .intType()
                    .defaultValue(20)
                    .withDescription(
                            "Number of most recent batches over which candidate and serving"
                                    + " versions are compared.");

    public static final ConfigOption<String> MODEL_STORE =
            ConfigOptions.key("streamlearn.model-store.type")
                    .stringType()
                    .defaultValue("kafka")
                    .withDescription(
                            "Where snapshots go: 'kafka' (the models topic) or 'files' (a"
                                    + " directory, streamlearn.model-store.path).");

    public static final ConfigOption<String> MODEL_STORE_PATH =
            ConfigOptions.key("streamlearn.model-store.path")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Directory of the 'files' model store; shared by every task manager.");

    public static final ConfigOption<MemorySize> MAX_SNAPSHOT_SIZE =
            ConfigOptions.key("streamlearn.model-store.max-snapshot-size")
                    .memoryType()
                    .defaultValue(MemorySize.parse("1gb"))
                    .withDescription(
                            "Largest snapshot (one model version) the job may write; the trainer"
                                    + " fails on a larger one, naming this key. A snapshot is"
                                    + " built whole in memory by the trainer and by every reader,"
                                    + " so this bounds the heap one version takes. The models"
                                    + " topic does not need records this large: larger snapshots"
                                    + " go as chunks.");

    public static final ConfigOption<MemorySize> SNAPSHOT_CHUNK_SIZE =
            ConfigOptions.key("streamlearn.model-store.chunk-size")
                    .memoryType()
                    .defaultValue(MemorySize.parse("512kb"))
                    .withDescription(
                            "Most snapshot bytes in one record of the models topic: a larger"
                                    + " snapshot is written as chunks of this size and a manifest,"
                                    + " in one transaction. The models topic's max.message.bytes"
                                    + " must take a chunk and its framing (256 bytes), which the"
                                    + " job checks before it starts; the default fits a broker's"
                                    + " default of 1 MiB.");

    public static final ConfigOption<Duration> STORE_INTERVAL =
            ConfigOptions.key("streamlearn.model-store.interval")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(10))
                    .withDescription(
                            "The trainer writes a published version to the model store when this"
                                    + " much processing time has passed since the last version"
                                    + " it wrote; the versions between go to the predictors only."
                                    + " The first version, rollbacks and the last version at the"
                                    + " end of a bounded input are always written. 0 writes every"
                                    + " version.");

    public static final ConfigOption<Integer> KEEP_VERSIONS =
            ConfigOptions.key("streamlearn.model-store.keep-versions")
                    .intType()
                    .defaultValue(20)
                    .withDescription(
                            "How many of the versions it wrote the job keeps in the model store:"
                                    + " older ones are deleted (tombstones in the models topic,"
                                    + " files in a directory), except the version serving. 0"
                                    + " keeps every version.");

    public static final ConfigOption<String> WARM_START =
            ConfigOptions.key("streamlearn.model.warm-start")
                    .stringType()
                    .defaultValue("none")
                    .withDescription(
                            "A job that starts without a checkpoint or savepoint begins from the"
                                    + " model store's 'latest' verified version, from a version"
                                    + " number, or from fresh weights ('none').");

    public static final ConfigOption<String> TIME_ALIGNMENT =
            ConfigOptions.key("streamlearn.time-alignment")
                    .stringType()
                    .defaultValue("none")
                    .withDescription(
                            "none: predictors serve the newest model at once and the trainer learns"
                                + " in arrival order (live). event-time: the trainer learns in"
                                + " event-time order once the watermark has passed an example, and"
                                + " each event is answered once the watermark passes it, by a model"
                                + " trained only on earlier events (causal and deterministic:"
                                + " replay; docs/time-alignment.md).");

    public static final ConfigOption<Duration> IDLENESS =
            ConfigOptions.key("streamlearn.events.idleness")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(10))
                    .withDescription(
                            "An input subtask that has seen no event for this long stops holding"
                                    + " back the watermark; 0 turns it off.");

    public static final ConfigOption<Integer> RECOMMEND_K =
            ConfigOptions.key("streamlearn.recommend.k")
                    .intType()
                    .defaultValue(10)
                    .withDescription("Items per recommendation (top-K).");

    public static final ConfigOption<Boolean> EXCLUDE_SEEN =
            ConfigOptions.key("streamlearn.recommend.exclude-seen")
                    .booleanType()
                    .defaultValue(false)
                    .withDescription(
                            "Leave out of a user's recommendations the items the user has already"
                                    + " interacted with (the most recent seen-capacity of them).");

    public static final ConfigOption<Integer> SEEN_CAPACITY =
            ConfigOptions.key("streamlearn.recommend.seen-capacity")
                    .intType()
                    .defaultValue(200)
                    .withDescription(
                            "Most recent distinct items remembered per user for exclude-seen.");

    public static final ConfigOption<Integer> ANOMALY_HISTORY =
            ConfigOptions.key("streamlearn.anomaly.history")
                    .intType()
                    .defaultValue(8640)
                    .withDescription(
                            "Events the running mean and variance of a series' raw scores weigh"
                                    + " (the long window of AnomalyDetector; a month of 5-minute"
                                    + " events).");

    public static final ConfigOption<Integer> ANOMALY_RECENT =
            ConfigOptions.key("streamlearn.anomaly.recent")
                    .intType()
                    .defaultValue(3)
                    .withDescription(
                            "Most recent raw scores averaged before the comparison (the short"
                                    + " window); 1 judges each event alone.");

    public static final ConfigOption<Integer> ANOMALY_MIN_HISTORY =
            ConfigOptions.key("streamlearn.anomaly.min-history")
                    .intType()
                    .defaultValue(100)
                    .withDescription(
                            "Raw scores a series must have before its likelihood leaves 0.");

    public static final ConfigOption<Integer> ANOMALY_WARM_UP =
            ConfigOptions.key("streamlearn.anomaly.warm-up")
                    .intType()
                    .defaultValue(300)
                    .withDescription("A series' first events, which score 0 and never alert.");

    public static final ConfigOption<Integer> ANOMALY_SUPPRESSION =
            ConfigOptions.key("streamlearn.anomaly.suppression")
                    .intType()
                    .defaultValue(300)
                    .withDescription(
                            "Events after a series' alert during which its score stays below"
                                    + " streamlearn.anomaly.level.");

    public static final ConfigOption<Double> ANOMALY_RANGE_TOLERANCE =
            ConfigOptions.key("streamlearn.anomaly.range-tolerance")
                    .doubleType()
                    .defaultValue(0.01)
                    .withDescription(
                            "A value beyond the range its series has shown, by more than this"
                                    + " fraction of the range, scores 1; negative turns the check"
                                    + " off.");

    public static final ConfigOption<Double> ANOMALY_LEVEL =
            ConfigOptions.key("streamlearn.anomaly.level")
                    .doubleType()
                    .defaultValue(0.65)
                    .withDescription(
                            "Score at and above which the detector alerts (then suppresses), in"
                                    + " (0, 1]; 0.6 is a one-in-a-million surprise.");
}
