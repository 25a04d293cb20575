package io.streamlearn.jobs;

import io.streamlearn.schemas.Prediction;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

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
        build(env, settings, KafkaEndpoints.predictions(settings));
    }

    /**
     * The metrics job of {@link #buildWithKafka}, its forecasts computed as there but dropped
     * instead of written to the predictions topic: for a reader of the anomaly scores alone ({@code
     * replay anomaly}). Its every other output, the anomaly scores included, is the same. A
     * forecast record cost a row about a tenth of the replay's CPU (its Avro encoding, the
     * transactional producer and the broker; docs/benchmarks.md), for a topic nobody read.
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
        build(env, settings, new DiscardingSink<>());
    }

    private static void build(
            StreamExecutionEnvironment env, JobSettings settings, Sink<Prediction> predictions) {
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
                    predictions,
                    KafkaEndpoints.anomalyScores(settings),
                    deadLetters,
                    models,
                    warmStart);
        }
    }
}
