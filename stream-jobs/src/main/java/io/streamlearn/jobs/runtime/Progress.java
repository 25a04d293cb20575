package io.streamlearn.jobs.runtime;

import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.InvalidRecordException;
import io.streamlearn.schemas.ModelSnapshot;
import io.streamlearn.schemas.Prediction;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads the job's output topics as any consumer would ({@code read_committed}) and keeps the
 * figures the demo prints: predictions, dead letters, the newest model version, and the online MAE
 * of the model next to the naive last-value forecast over the most recent scored predictions.
 */
public final class Progress implements AutoCloseable {
    private static final int RECENT = 2000;

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String predictionsTopic;
    private final String deadLettersTopic;
    private final String modelsTopic;
    private final AvroSerde<Prediction> predictions = AvroSerde.of(Prediction.class);
    private final AvroSerde<ModelSnapshot> models = AvroSerde.of(ModelSnapshot.class);
    private final ArrayDeque<double[]> recent = new ArrayDeque<>();
    private double recentModel;
    private double recentNaive;
    private long predictionCount;
    private long deadLetterCount;
    private long modelVersion;
    private long modelStep;

    public Progress(
            String bootstrapServers,
            String predictionsTopic,
            String deadLettersTopic,
            String modelsTopic) {
        this.predictionsTopic = predictionsTopic;
        this.deadLettersTopic = deadLettersTopic;
        this.modelsTopic = modelsTopic;
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
        consumer.subscribe(List.of(predictionsTopic, deadLettersTopic, modelsTopic));
    }

    /** Reads what has been committed since the last call, waiting at most {@code timeout}. */
    public void poll(Duration timeout) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(timeout)) {
            try {
                if (record.topic().equals(predictionsTopic)) {
                    add(predictions.decode(record.value()));
                } else if (record.topic().equals(deadLettersTopic)) {
                    deadLetterCount++;
                } else if (record.topic().equals(modelsTopic)) {
                    ModelSnapshot snapshot = models.decode(record.value());
                    if (snapshot.getModelVersion() > modelVersion) {
                        modelVersion = snapshot.getModelVersion();
                        modelStep = snapshot.getStep();
                    }
                }
            } catch (InvalidRecordException e) {
                System.err.println(
                        "progress: skipping an unreadable record on "
                                + record.topic()
                                + ": "
                                + e.getMessage());
            }
        }
    }

    private void add(Prediction prediction) {
        predictionCount++;
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

    public long deadLetters() {
        return deadLetterCount;
    }

    public long modelVersion() {
        return modelVersion;
    }

    public long modelStep() {
        return modelStep;
    }

    /** Online MAE of the model over the most recent scored predictions; NaN before any. */
    public double modelMae() {
        return recent.isEmpty() ? Double.NaN : recentModel / recent.size();
    }

    /** Same, for the naive last-value forecast of the same events. */
    public double naiveMae() {
        return recent.isEmpty() ? Double.NaN : recentNaive / recent.size();
    }

    @Override
    public void close() {
        consumer.close();
    }
}
