package io.streamlearn.jobs.runtime;

import io.streamlearn.jobs.JobSettings;
import io.streamlearn.jobs.replay.ListsInOrder;
import io.streamlearn.jobs.replay.RankingEvaluation;
import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.InteractionEvent;
import io.streamlearn.schemas.InvalidRecordException;
import io.streamlearn.schemas.ModelSnapshot;
import io.streamlearn.schemas.Prediction;
import io.streamlearn.schemas.Recommendation;
import io.streamlearn.schemas.ScoredItem;
import io.streamlearn.state.ModelStoreRecords;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads the demo's topics as any consumer would ({@code read_committed}) and keeps the figures it
 * prints. Metrics: predictions, the newest model version that answered and the newest in the model
 * store, the online MAE of the model next to the naive last-value forecast over the most recent
 * scored predictions, and the alerts the alert feed raised. Clicks: recommendations, the same two
 * versions of the item model, and HR@10 of the recommendations next to the popularity baseline on
 * the same clicks ({@link RankingEvaluation}, over the last 1000 scored clicks), each list scored
 * against the user's next click from the interactions topic. Dead letters of both.
 */
public final class Progress implements AutoCloseable {
    private static final int RECENT = 2000;

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final JobSettings metrics;
    private final JobSettings clicks;
    private final String alertsTopic;
    private final AvroSerde<Prediction> predictions = AvroSerde.of(Prediction.class);
    private final AvroSerde<ModelSnapshot> models = AvroSerde.of(ModelSnapshot.class);
    private final AvroSerde<InteractionEvent> interactions = AvroSerde.of(InteractionEvent.class);
    private final AvroSerde<Recommendation> recommendations = AvroSerde.of(Recommendation.class);
    private final ArrayDeque<double[]> recent = new ArrayDeque<>();
    private final ListsInOrder lists;
    private double recentModel;
    private double recentNaive;
    private long predictionCount;
    private long recommendationCount;
    private final long[] deadLetterCount = new long[2];
    private long alertCount;
    private final long[] serving = new long[2];
    private final long[] stored = new long[2];

    /**
     * @param metrics the metrics job's settings (its topics)
     * @param clicks the recommendation job's settings
     * @param alertsTopic where the alert feed writes
     */
    public Progress(
            String bootstrapServers, JobSettings metrics, JobSettings clicks, String alertsTopic) {
        this.metrics = metrics;
        this.clicks = clicks;
        this.alertsTopic = alertsTopic;
        this.lists = new ListsInOrder(new RankingEvaluation(clicks.recommend().k(), false));
        consumer =
                new KafkaConsumer<>(
                        Map.of(
                                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                                ConsumerConfig.GROUP_ID_CONFIG, "streamlearn-progress",
                                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false"),
                        new ByteArrayDeserializer(),
                        new ByteArrayDeserializer());
        Set<String> topics = new LinkedHashSet<>();
        topics.addAll(
                List.of(
                        metrics.predictionsTopic(),
                        metrics.deadLettersTopic(),
                        metrics.modelsTopic(),
                        alertsTopic,
                        clicks.interactionsTopic(),
                        clicks.recommendationsTopic(),
                        clicks.deadLettersTopic(),
                        clicks.modelsTopic()));
        consumer.subscribe(topics);
    }

    /** Reads what has been committed since the last call, waiting at most {@code timeout}. */
    public void poll(Duration timeout) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(timeout)) {
            String topic = record.topic();
            try {
                if (topic.equals(metrics.predictionsTopic())) {
                    add(predictions.decode(record.value()));
                } else if (topic.equals(alertsTopic)) {
                    alertCount++;
                } else if (topic.equals(clicks.interactionsTopic())) {
                    InteractionEvent click = interactions.decode(record.value());
                    lists.interaction(click.getUserId(), click.getItemId(), click.getEventTime());
                } else if (topic.equals(clicks.recommendationsTopic())) {
                    Recommendation r = recommendations.decode(record.value());
                    recommendationCount++;
                    serving[1] = Math.max(serving[1], r.getModelVersion());
                    lists.list(
                            r.getUserId(),
                            r.getItems().stream().map(ScoredItem::getItemId).toList());
                } else if (topic.equals(metrics.deadLettersTopic())) {
                    deadLetterCount[0]++;
                } else if (topic.equals(clicks.deadLettersTopic())) {
                    deadLetterCount[1]++;
                } else if (topic.equals(metrics.modelsTopic())) {
                    model(0, record);
                } else if (topic.equals(clicks.modelsTopic())) {
                    model(1, record);
                }
            } catch (InvalidRecordException e) {
                // The demo's generators slip in malformed clicks on purpose; the job dead-letters
                // them, and so does this reader.
                if (!topic.equals(clicks.interactionsTopic())) {
                    System.err.println(
                            "progress: skipping an unreadable record on "
                                    + topic
                                    + ": "
                                    + e.getMessage());
                }
            }
        }
    }

    /**
     * A models topic's record: a snapshot or a chunked version's manifest gives its version; chunks
     * and tombstones are passed over.
     */
    private void model(int job, ConsumerRecord<byte[], byte[]> record) {
        if (record.value() == null) {
            return; // a deleted version's tombstone
        }
        OptionalLong manifest = ModelStoreRecords.manifestVersion(record.value());
        if (manifest.isPresent()) {
            stored[job] = Math.max(stored[job], manifest.getAsLong());
            return;
        }
        if (record.key() != null
                && new String(record.key(), StandardCharsets.UTF_8).contains("/chunk/")) {
            return;
        }
        stored[job] = Math.max(stored[job], models.decode(record.value()).getModelVersion());
    }

    private void add(Prediction prediction) {
        predictionCount++;
        serving[0] = Math.max(serving[0], prediction.getModelVersion());
        if (prediction.getError() == null || prediction.getBaselineError() == null) {
            return;
        }
        double[] pair = {prediction.getError(), prediction.getBaselineError()};
        recent.addLast(pair);
        recentModel += pair[0];
        recentNaive += pair[1];
        if (recent.size() > RECENT) {
            double[] old = recent.removeFirst();
            recentModel -= old[0];
            recentNaive -= old[1];
        }
    }

    public long predictions() {
        return predictionCount;
    }

    public long recommendations() {
        return recommendationCount;
    }

    /** Dead letters of both jobs. */
    public long deadLetters() {
        return deadLetterCount[0] + deadLetterCount[1];
    }

    /**
     * Dead letters of the metrics job (0) or the recommendation job (1): the records it answered
     * with a dead letter instead of a prediction or a recommendation.
     */
    public long deadLetters(int job) {
        return deadLetterCount[job];
    }

    public long alerts() {
        return alertCount;
    }

    /** The newest version of the metrics model (0) or the item model (1) that answered. */
    public long servingVersion(int job) {
        return serving[job];
    }

    /**
     * The newest version of that model in the model store, which gets one version in {@code
     * streamlearn.model-store.interval}.
     */
    public long storedVersion(int job) {
        return stored[job];
    }

    /** Online MAE of the model over the most recent scored predictions; NaN before any. */
    public double modelMae() {
        return recent.isEmpty() ? Double.NaN : recentModel / recent.size();
    }

    /** Same, for the naive last-value forecast of the same events. */
    public double naiveMae() {
        return recent.isEmpty() ? Double.NaN : recentNaive / recent.size();
    }

    /** HR@K and more of the recommendations and the baselines over the last scored clicks. */
    public RankingEvaluation.Figures ranking() {
        return lists.evaluation().recent();
    }

    @Override
    public void close() {
        consumer.close();
    }
}
