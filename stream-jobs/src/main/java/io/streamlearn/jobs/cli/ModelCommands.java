package io.streamlearn.jobs.cli;

import io.streamlearn.jobs.KafkaClientProperties;
import io.streamlearn.models.ModelState;
import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.ModelAction;
import io.streamlearn.schemas.ModelCommand;
import io.streamlearn.schemas.ModelSnapshot;
import io.streamlearn.state.ModelSnapshots;
import io.streamlearn.state.ModelStore;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** {@code streamlearn models list|show|rollback}: what the model store holds, verified. */
final class ModelCommands {
    /**
     * Largest state a rollback command carries itself: a command record this size fits a broker's
     * default limit (1 MiB). A larger one names its version, and the job reads it from its store.
     */
    static final int INLINE_STATE_BYTES = 512 * 1024;

    private ModelCommands() {}

    static void list(ModelStore store, PrintStream out) {
        List<ModelSnapshot> versions = store.versions();
        if (versions.isEmpty() && store.refused().isEmpty()) {
            out.println("no model versions yet");
            return;
        }
        out.println(
                "version    step  created                   bytes  sha256            served  note");
        for (ModelSnapshot s : versions) {
            out.printf(
                    Locale.ROOT,
                    "%7d %7d  %-24s %7d  %-16s  %-6s  %s%n",
                    s.getModelVersion(),
                    s.getStep(),
                    s.getCreatedAt(),
                    s.getState().remaining(),
                    s.getSha256().substring(0, Math.min(16, s.getSha256().length())),
                    s.getPromoted() ? "yes" : "no",
                    s.getNote());
        }
        store.refused()
                .forEach(
                        (version, why) ->
                                out.printf(Locale.ROOT, "%7d  refused: %s%n", version, why));
    }

    static void show(ModelStore store, long version, PrintStream out) {
        ModelSnapshot snapshot = store.snapshot(version);
        ModelState state = ModelSnapshots.fromSnapshot(snapshot);
        long weights = 0;
        for (float[] w : state.weights()) {
            weights += w.length;
        }
        out.printf(
                Locale.ROOT,
                "version %d%nstep %d%ncreated %s%nsha256 %s (verified)%nconfig %s%nweights %d%n"
                        + "served %s%nnote %s%ncandidate loss %s%nserving loss %s (version %d)%n",
                state.version(),
                state.step(),
                snapshot.getCreatedAt(),
                snapshot.getSha256(),
                state.config(),
                weights,
                snapshot.getPromoted() ? "yes" : "no",
                snapshot.getNote(),
                snapshot.getCandidateLoss(),
                snapshot.getServingLoss(),
                snapshot.getServingVersion());
    }

    /**
     * Asks the running job to serve {@code version} again: the snapshot is verified here (a corrupt
     * one is refused before anything is sent), then a ROLLBACK command goes to the commands topic,
     * carrying its state, or for a state over {@link #INLINE_STATE_BYTES} only its version and
     * checksum (the job then reads the state from its model store, the one read here). The trainer
     * verifies it again and publishes it as its next version.
     */
    static void rollback(
            ModelStore store,
            long version,
            KafkaClientProperties kafka,
            String commandsTopic,
            PrintStream out) {
        ModelSnapshot snapshot = store.snapshot(version);
        ModelSnapshots.fromSnapshot(snapshot);
        boolean inline = snapshot.getState().remaining() <= INLINE_STATE_BYTES;
        ModelCommand command =
                ModelCommand.newBuilder()
                        .setAction(ModelAction.ROLLBACK)
                        .setTargetVersion(version)
                        .setState(inline ? snapshot.getState() : ByteBuffer.allocate(0))
                        .setSha256(snapshot.getSha256())
                        .setRequestedAt(Instant.now())
                        .build();
        Map<String, Object> config =
                kafka.with(
                        Map.of(
                                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                                true,
                                ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
                                Math.max(1 << 20, 2 * command.getState().remaining())));
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(
                            new ProducerRecord<>(
                                    commandsTopic,
                                    "rollback".getBytes(StandardCharsets.UTF_8),
                                    AvroSerde.of(ModelCommand.class).encode(command)))
                    .get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted sending the rollback", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(
                    "could not write the rollback to '" + commandsTopic + "': " + e.getCause(), e);
        }
        out.printf(
                Locale.ROOT,
                "rollback to version %d (sha256 %s verified) sent to '%s'%s; the job serves it"
                        + " as its next version%n",
                version,
                snapshot.getSha256().substring(0, 16),
                commandsTopic,
                inline ? "" : " by reference (the job reads it from its model store)");
    }
}
