package io.streamlearn.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.models.ModelState;
import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.ModelSnapshot;
import io.streamlearn.schemas.Prediction;
import io.streamlearn.state.ModelSnapshots;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Scenarios 5 and 6, through the model store a first job filled: a fresh job warm-starts from it
 * and continues the version sequence; a corrupted snapshot is refused (by {@code streamlearn models
 * rollback} and by a warm start that names it); a rollback makes the running job serve the chosen
 * version at once.
 */
@ExtendWith(E2eEnvironment.class)
class ModelStoreITCase {
    private static final int PER_SERIES = 120;
    private static final long FIRST_JOB_VERSIONS = JobRun.finalVersion(PER_SERIES);

    @Test
    void aFreshJobWarmStartsAndContinuesTheVersionSequence() throws Exception {
        JobRun first = new JobRun("store-first", Map.of());
        List<ModelSnapshot> firstModels;
        try {
            firstModels = fill(first, JobRun.input(PER_SERIES, 55L));
        } finally {
            first.cancelJobs();
        }
        ModelSnapshot last = firstModels.get(firstModels.size() - 1);

        // A new job on new input, sharing the model store with the first one.
        JobRun second =
                new JobRun(
                        "store-warm",
                        Map.of(
                                "streamlearn.topic.models",
                                first.topic("models"),
                                "streamlearn.model.warm-start",
                                "latest"));
        try {
            second.submit(1, null);
            List<byte[]> input = JobRun.input(PER_SERIES, 56L);
            second.produce(input);
            second.awaitPredictions(input.size(), Duration.ofMinutes(2));
            List<Prediction> predictions = second.predictions();
            assertEquals(
                    last.getModelVersion(),
                    predictions.get(0).getModelVersion(),
                    "the first event is answered by the warm-start model, without waiting");
            List<ModelSnapshot> store =
                    Await.until(
                            () -> {
                                List<ModelSnapshot> m = first.models();
                                return m.size() > firstModels.size() ? m : null;
                            },
                            Duration.ofMinutes(2),
                            () -> "a version from the warm-started job");
            ModelSnapshot next = store.get(firstModels.size());
            assertEquals(last.getModelVersion() + 1, next.getModelVersion(), "sequence continues");
            assertEquals(
                    last.getStep() + JobRun.PUBLISH_EVERY,
                    next.getStep(),
                    "and so does the optimizer's step");
        } finally {
            second.cancelJobs();
        }
    }

    @Test
    void aCorruptSnapshotIsRefusedAndRollbackServesTheChosenVersion() throws Exception {
        JobRun run = new JobRun("store-rollback", Map.of());
        try {
            List<ModelSnapshot> models = fill(run, JobRun.input(PER_SERIES, 57L));
            long latest = models.get(models.size() - 1).getModelVersion();
            long corruptVersion = latest + 100;
            writeCorrupt(run, models.get(models.size() - 1), corruptVersion);

            Cli refused = Cli.run(modelsCommand(run, "rollback", corruptVersion));
            assertEquals(2, refused.exitCode(), refused.output());
            assertTrue(
                    refused.output().contains("version " + corruptVersion + " is corrupt"),
                    refused.output());

            String warmStartError =
                    E2eEnvironment.flink()
                            .rest()
                            .runError(
                                    E2eEnvironment.jarId(),
                                    new JobRun(
                                                    "store-corrupt-start",
                                                    Map.of(
                                                            "streamlearn.topic.models",
                                                            run.topic("models"),
                                                            "streamlearn.model.warm-start",
                                                            Long.toString(corruptVersion)))
                                            .argList());
            assertTrue(
                    warmStartError.contains("is corrupt"),
                    "a warm start from a corrupt version is refused: " + warmStartError);

            long chosen = 2;
            Cli rollback = Cli.run(modelsCommand(run, "rollback", chosen));
            assertEquals(0, rollback.exitCode(), rollback.output());
            ModelSnapshot rolledBack =
                    Await.until(
                            () ->
                                    run.models().stream()
                                            .filter(
                                                    s ->
                                                            s.getNote()
                                                                    .equals(
                                                                            "rollback to version "
                                                                                    + chosen))
                                            .findFirst()
                                            .orElse(null),
                            Duration.ofMinutes(2),
                            () -> "the rollback's snapshot");
            assertEquals(latest + 1, rolledBack.getModelVersion(), "served as the next version");
            ModelState chosenState = ModelSnapshots.fromSnapshot(models.get((int) chosen - 1));
            ModelState served = ModelSnapshots.fromSnapshot(rolledBack);
            assertArrayEquals(chosenState.weights()[0], served.weights()[0], "version 2's weights");
            assertNotEquals(
                    ModelSnapshots.fromSnapshot(models.get(models.size() - 1)).weights()[0][0],
                    served.weights()[0][0]);

            // One batch of new events: a step, but no new version, so every one of them is
            // answered by the rolled-back version.
            long before = run.committedPredictions();
            List<byte[]> more = JobRun.input(PER_SERIES, 58L).subList(0, JobRun.BATCH);
            run.produce(more);
            run.awaitPredictions(before + more.size(), Duration.ofMinutes(2));
            List<Prediction> after =
                    run.predictions().subList((int) before, (int) before + more.size());
            assertTrue(
                    after.stream().allMatch(p -> p.getModelVersion() == latest + 1),
                    "serving switched to the rolled-back version at once: " + after);
        } finally {
            run.cancelJobs();
        }
    }

    /** Runs a job over the input until every version is in its model store. */
    private static List<ModelSnapshot> fill(JobRun run, List<byte[]> input) {
        run.submit(1, null);
        run.produce(input);
        run.awaitPredictions(input.size(), Duration.ofMinutes(2));
        return run.awaitModels(FIRST_JOB_VERSIONS);
    }

    /** A snapshot whose state no longer matches its checksum, as a bad disk or copy leaves it. */
    private static void writeCorrupt(JobRun run, ModelSnapshot good, long version)
            throws Exception {
        byte[] state = good.getState().array().clone();
        state[state.length / 2] ^= 1;
        ModelSnapshot corrupt =
                ModelSnapshot.newBuilder(good)
                        .setModelVersion(version)
                        .setState(ByteBuffer.wrap(state))
                        .build();
        try (var producer =
                new KafkaProducer<>(
                        Map.<String, Object>of(
                                "bootstrap.servers", E2eEnvironment.kafka().bootstrapServers()),
                        new ByteArraySerializer(),
                        new ByteArraySerializer())) {
            producer.send(
                            new ProducerRecord<>(
                                    run.topic("models"),
                                    Long.toString(version).getBytes(StandardCharsets.UTF_8),
                                    AvroSerde.of(ModelSnapshot.class).encode(corrupt)))
                    .get();
        }
    }

    private static List<String> modelsCommand(JobRun run, String action, long version) {
        return List.of(
                "models",
                action,
                "--bootstrap-servers",
                E2eEnvironment.kafka().bootstrapServers(),
                "--topic",
                run.topic("models"),
                "--commands-topic",
                run.topic("model-commands"),
                "--version",
                Long.toString(version));
    }

    /** The {@code streamlearn} command as a process of its own, as a user runs it. */
    record Cli(int exitCode, String output) {
        static Cli run(List<String> args) throws Exception {
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.add("-cp");
            command.add(System.getProperty("java.class.path"));
            command.add("io.streamlearn.jobs.cli.Streamlearn");
            command.addAll(args);
            Path log = Files.createTempFile(E2eEnvironment.work(), "cli-", ".out");
            Process process =
                    new ProcessBuilder(command)
                            .redirectErrorStream(true)
                            .redirectOutput(log.toFile())
                            .start();
            if (!process.waitFor(2, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new AssertionError("streamlearn " + args + " did not finish; see " + log);
            }
            return new Cli(process.exitValue(), Files.readString(log));
        }
    }
}
