package io.streamlearn.jobs;

import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Builds the job a configuration asks for against Kafka: the one place that picks it from the
 * model's task ({@link RecommendationJob} for next-item, {@link ForecastJob} otherwise) and gives
 * it the topics its settings name, snapshots to the configured model store and, if asked, the
 * warm-start model from it. What {@code run}, a cluster, {@code demo} and {@code replay} use.
 */
public final class Jobs {
    private Jobs() {}

    /** The live job: reads its topics until cancelled. */
    public static void buildWithKafka(StreamExecutionEnvironment env, JobSettings settings) {
        buildWithKafka(env, settings, false);
    }

    /**
     * @param bounded read the input up to where it is when the job starts, then finish. (Replays do
     *     not: in Flink 2.2 the job's last transactions could go uncommitted as its tasks finished;
     *     see ReplayRun.)
     */
    public static void buildWithKafka(
            StreamExecutionEnvironment env, JobSettings settings, boolean bounded) {
        long now = System.currentTimeMillis();
        var source = KafkaEndpoints.source(settings, bounded);
        var commands = KafkaEndpoints.commands(settings, now, bounded);
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
                    KafkaEndpoints.predictions(settings),
                    KafkaEndpoints.anomalyScores(settings),
                    deadLetters,
                    models,
                    warmStart);
        }
    }
}
