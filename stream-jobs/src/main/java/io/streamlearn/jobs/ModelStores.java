package io.streamlearn.jobs;

import io.streamlearn.models.ModelState;
import io.streamlearn.state.FileModelStore;
import io.streamlearn.state.FileModelStoreSink;
import io.streamlearn.state.KafkaModelStore;
import io.streamlearn.state.ModelStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The configured model store ({@code streamlearn.model-store.*}): where snapshots go and come from.
 */
public final class ModelStores {
    private static final Logger LOG = LoggerFactory.getLogger(ModelStores.class);

    private ModelStores() {}

    /** Reads the configured store; close it after use. */
    public static ModelStore open(JobSettings settings) {
        return settings.filesModelStore()
                ? new FileModelStore(Path.of(settings.modelStorePath()))
                : new KafkaModelStore(
                        settings.kafka().with(Map.of()),
                        settings.modelsTopic(),
                        Duration.ofSeconds(60));
    }

    /** Where the trainer's snapshots go. */
    public static ModelStoreSink sink(JobSettings settings) {
        if (settings.filesModelStore()) {
            FileModelStoreSink files =
                    new FileModelStoreSink(settings.modelStorePath(), settings.keepVersions());
            return (snapshots, uid, name) -> snapshots.sinkTo(files);
        }
        return KafkaEndpoints.models(settings);
    }

    /**
     * The model {@code streamlearn.model.warm-start} asks for, verified: the newest verified
     * version for {@code latest} (empty if the store has none), the given version, or nothing for
     * {@code none}. Resolved once, when the job is built, so every restart of the job starts from
     * the same model; a job restored from a checkpoint or savepoint ignores it.
     *
     * @throws IllegalArgumentException naming the key when the version is corrupt or missing
     */
    public static Optional<ModelState> warmStart(JobSettings settings) {
        String wanted = settings.warmStart();
        if (wanted.equals("none")) {
            return Optional.empty();
        }
        try (ModelStore store = open(settings)) {
            Optional<ModelState> model;
            if (wanted.equals("latest")) {
                try {
                    model = store.latestVerified();
                } catch (NoSuchElementException e) {
                    LOG.warn("Warm start: {}; starting fresh", e.getMessage());
                    model = Optional.empty();
                }
            } else {
                model = Optional.of(store.load(Long.parseLong(wanted)));
            }
            if (model.isEmpty()) {
                LOG.warn(
                        "Warm start: {} has no verified model yet; starting fresh",
                        store.describe());
            }
            model.ifPresent(
                    m ->
                            LOG.info(
                                    "Warm start from model version {} (step {}) of {}",
                                    m.version(),
                                    m.step(),
                                    store.describe()));
            return model;
        } catch (IllegalArgumentException | NoSuchElementException e) {
            throw new IllegalArgumentException(
                    StreamlearnOptions.WARM_START.key()
                            + "="
                            + wanted
                            + " cannot be used: "
                            + e.getMessage(),
                    e);
        }
    }
}
