package io.streamlearn.jobs;

import io.streamlearn.schemas.AnomalyScore;
import io.streamlearn.schemas.Prediction;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * Builds the job a configuration asks for against Kafka: the one place that picks it from the
 * model's task ({@link RecommendationJob} for next-item, {@link ForecastJob} otherwise) and gives
 * it the topics its settings name, snapshots to the configured model store and, if asked, the
 * warm-start model from it. What {@code run}, a cluster, {@code demo} and {@code replay} use.
 */
public final class Jobs {
    private Jobs() {}

    /**
     * What every start against Kafka checks before it builds the job: that Kafka accepts the client
     * settings ({@link KafkaAccess}; a refused login stops here, naming the settings) and that the
     * models topic takes the largest snapshot ({@link ModelTopicCheck}). Each would otherwise fail
     * the running job again and again instead of once, plainly. Building the job graph itself
     * contacts no broker.
     *
     * @throws IllegalArgumentException when Kafka refuses the client settings
     * @throws IllegalStateException when Kafka does not answer, or the models topic is missing or
     *     too small
     */
    public static void checkKafka(JobSettings settings) {
        KafkaAccess.check(settings.kafka());
        ModelTopicCheck.check(settings);
    }

    /**
     * The job the settings ask for, its graph only (no broker is contacted): it reads its topics
     * until cancelled.
     */
    public static void buildWithKafka(StreamExecutionEnvironment env, JobSettings settings) {
        build(
                env,
                settings,
                () -> KafkaEndpoints.predictions(settings),
                () -> KafkaEndpoints.anomalyScores(settings));
    }

    /**
     * The metrics job of {@link #buildWithKafka} for a reader of its anomaly scores alone that
     * reads them as committed ({@code replay anomaly}), with two changes that leave every score as
     * it was but cost a row less CPU (docs/benchmarks.md). The forecasts are computed as there, but
     * dropped instead of written to the predictions topic: a forecast record (its Avro encoding,
     * the transactional producer, the broker) cost a row about a tenth of the replay's CPU, for a
     * topic nobody read. And the anomaly scores' producer waits up to {@link #SCORES_LINGER_MS} ms
     * to fill a batch of up to {@link #SCORES_BATCH_BYTES} bytes, instead of Kafka's 5 ms and 16
     * KiB: a committed reader sees the scores only at checkpoints (each flushes the producer), and
     * the broker's cost is per request more than per record.
     *
     * @throws IllegalArgumentException when the settings ask for the recommendation job
     */
    public static void buildAnomalyScoresWithKafka(
            StreamExecutionEnvironment env, JobSettings settings) {
        if (settings.recommends()) {
            throw new IllegalArgumentException(
                    "anomaly scores come from a metrics model, not streamlearn.model.task"
                            + " next-item");
        }
        build(
                env,
                settings,
                DiscardingSink::new,
                () ->
                        KafkaEndpoints.anomalyScores(
                                settings,
                                Map.of(
                                        ProducerConfig.LINGER_MS_CONFIG,
                                        Integer.toString(SCORES_LINGER_MS),
                                        ProducerConfig.BATCH_SIZE_CONFIG,
                                        Integer.toString(SCORES_BATCH_BYTES))));
    }

    /**
     * How long the anomaly scores' producer waits to fill a request, in {@link
     * #buildAnomalyScoresWithKafka}.
     */
    static final int SCORES_LINGER_MS = 100;

    /** The largest request of anomaly scores in {@link #buildAnomalyScoresWithKafka}: 256 KiB. */
    static final int SCORES_BATCH_BYTES = 256 * 1024;

    private static void build(
            StreamExecutionEnvironment env,
            JobSettings settings,
            Supplier<Sink<Prediction>> predictions,
            Supplier<Sink<AnomalyScore>> anomalyScores) {
        long now = System.currentTimeMillis();
        var source = KafkaEndpoints.source(settings);
        var commands = KafkaEndpoints.commands(settings, now);
        var deadLetters = KafkaEndpoints.deadLetters(settings);
        var models = ModelStores.sink(settings);
        var warmStart = ModelStores.warmStart(settings).orElse(null);
        if (settings.recommends()) {
            RecommendationJob.build(
                    env,
                    settings,
                    source,
                    commands,
                    KafkaEndpoints.recommendations(settings),
                    deadLetters,
                    models,
                    warmStart);
        } else {
            ForecastJob.build(
                    env,
                    settings,
                    source,
                    commands,
                    predictions.get(),
                    anomalyScores.get(),
                    deadLetters,
                    models,
                    warmStart);
        }
    }
}
