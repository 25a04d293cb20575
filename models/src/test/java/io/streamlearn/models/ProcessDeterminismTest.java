package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.streamlearn.models.ModelConfig.Family;
import io.streamlearn.models.ModelConfig.ItemOutput;
import io.streamlearn.models.ModelConfig.Task;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Training gives the same bits in another process, also one whose garbage collector frees direct
 * buffers early ({@code -XX:+UseParallelGC -Xmn1m}). DJL's operations with a {@code Number} (such
 * as {@code mul(0.5f)}) make the constant's tensor on a direct buffer and close its array at once,
 * while autograd keeps the tensor for the backward pass: the backward pass then read freed memory,
 * which changed the gradients in about one training process in 70, and in every one with those
 * options. {@link Network#times} keeps the constant alive instead. Covers the graphs that had such
 * constants: the Gaussian head and its loss (LSTM), the attention's scale and padding mask
 * (next-item attention with successor slots), and one without (the LSTM autoencoder).
 */
class ProcessDeterminismTest {

    private static final int STEPS = 40;

    @Test
    void aFreshProcessWhoseCollectorFreesBuffersEarlyTrainsTheSameBits() throws Exception {
        String here = hashes();
        String there = inChildProcess("-XX:+UseParallelGC", "-Xmn1m");
        assertEquals(here, there);
    }

    /** One line per model: the hash of its weights and optimizer moments after the steps. */
    static String hashes() {
        StringBuilder out = new StringBuilder();
        for (ModelConfig config : configs()) {
            // Clickstream's first histories are short, so next-item windows have padding.
            SineSeries series = new SineSeries(3L, 4, 400);
            Clickstream clicks = new Clickstream(3L, 16, 40, 10);
            try (OnlineLearner learner = new OnlineLearner(config)) {
                for (int s = 0; s < STEPS; s++) {
                    learner.train(
                            switch (config.task()) {
                                case NEXT_ITEM -> clicks.batch(16);
                                case NEXT_VALUE -> series.next(16, config.window()).batch();
                                default -> series.next(16, config.window()).reconstruction();
                            });
                }
                ModelState state = learner.snapshot();
                int moments = 0;
                for (int k = 0; k < state.slotCount(); k++) {
                    moments = 31 * moments + Arrays.deepHashCode(state.slot(k));
                }
                out.append(
                        String.format(
                                Locale.ROOT,
                                "bits %s %s %08x %08x%n",
                                config.task(),
                                config.family(),
                                Arrays.deepHashCode(state.weights()),
                                moments));
            }
        }
        return out.toString();
    }

    private static List<ModelConfig> configs() {
        return List.of(
                ModelConfig.builder()
                        .setTask(Task.NEXT_VALUE)
                        .setFamily(Family.LSTM)
                        .setWindow(12)
                        .optHiddenSize(16)
                        .build(),
                ModelConfig.builder()
                        .setTask(Task.NEXT_ITEM)
                        .setFamily(Family.ATTENTION)
                        .setWindow(4)
                        .optHiddenSize(16)
                        .optItemCapacity(64)
                        .optItemOutput(ItemOutput.UNTIED)
                        .build(),
                ModelConfig.builder()
                        .setTask(Task.RECONSTRUCTION)
                        .setFamily(Family.LSTM_AUTOENCODER)
                        .setWindow(12)
                        .optHiddenSize(16)
                        .build());
    }

    /** Runs {@link #main} in a new JVM with this one's class path and the given options. */
    private static String inChildProcess(String... options)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(Arrays.asList(options));
        command.add("-Dai.djl.offline=true");
        command.add("-Dai.djl.pytorch.num_threads=1");
        command.add("-Dai.djl.pytorch.num_interop_threads=1");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(ProcessDeterminismTest.class.getName());
        Process process =
                new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(5, TimeUnit.MINUTES) || process.exitValue() != 0) {
            process.destroyForcibly();
            throw new IllegalStateException("the child process failed: " + command + "\n" + out);
        }
        // Only the hashes: the child's log lines go to standard output too.
        return out.lines()
                .filter(line -> line.startsWith("bits "))
                .map(line -> line + System.lineSeparator())
                .collect(Collectors.joining());
    }

    /** Prints {@link #hashes()}: the child process's side of the test. */
    public static void main(String[] args) {
        System.out.print(hashes());
    }
}
