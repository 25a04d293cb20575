package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.streamlearn.models.ModelConfig.Family;
import io.streamlearn.models.ModelConfig.Optimizer;
import io.streamlearn.models.ModelConfig.Softmax;
import io.streamlearn.models.ModelConfig.Task;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class OnlineLearnerTest {

    private static final int BATCH = 16;
    private static final int WINDOW = 8;

    private static final ModelConfig LSTM =
            ModelConfig.builder().setWindow(WINDOW).optHiddenSize(16).build();

    /** Configs that exercise every path that must restore bit-exact. */
    static Stream<Arguments> configs() {
        ModelConfig.Builder values = ModelConfig.builder().setWindow(WINDOW).optHiddenSize(12);
        ModelConfig.Builder items =
                ModelConfig.builder()
                        .setTask(Task.NEXT_ITEM)
                        .setWindow(WINDOW)
                        .optHiddenSize(12)
                        // Fewer rows than items: rows are evicted and reassigned as it learns.
                        .optItemCapacity(40);
        return Stream.of(
                Arguments.of(
                        "LSTM, 2 layers, dropout",
                        values.setFamily(Family.LSTM).optLayers(2).optDropout(0.2f).build()),
                Arguments.of(
                        "ATTENTION, dropout, AdamW, warm-up",
                        values.setFamily(Family.ATTENTION)
                                .optLayers(1)
                                .optDropout(0.1f)
                                .optWeightDecay(0.01f)
                                .optWarmupSteps(5)
                                .build()),
                Arguments.of(
                        "GRU items, sampled softmax, SGD with momentum",
                        items.setFamily(Family.GRU)
                                .optSoftmax(Softmax.SAMPLED)
                                .optNegatives(8)
                                .optOptimizer(Optimizer.SGD_MOMENTUM)
                                .optLearningRate(0.05f)
                                .optWeightDecay(1e-4f)
                                .build()),
                Arguments.of(
                        "ATTENTION items, full softmax",
                        items.setFamily(Family.ATTENTION).optSoftmax(Softmax.FULL).build()),
                Arguments.of(
                        "LSTM autoencoder",
                        ModelConfig.builder()
                                .setTask(Task.RECONSTRUCTION)
                                .setFamily(Family.LSTM_AUTOENCODER)
                                .setWindow(WINDOW)
                                .optHiddenSize(8)
                                .build()),
                Arguments.of(
                        "GRU items, untied head with successor slots, full softmax",
                        items.setFamily(Family.GRU)
                                .optOptimizer(Optimizer.ADAM)
                                .optLearningRate(0.01f)
                                .optWeightDecay(0f)
                                .optSoftmax(Softmax.FULL)
                                .optItemOutput(ModelConfig.ItemOutput.UNTIED)
                                .optItemSuccessors(4)
                                .build()),
                Arguments.of(
                        "ATTENTION items, untied head with successor slots, sampled softmax",
                        items.setFamily(Family.ATTENTION)
                                .optSoftmax(Softmax.SAMPLED)
                                .optNegatives(8)
                                .optItemOutput(ModelConfig.ItemOutput.UNTIED)
                                .optItemSuccessors(4)
                                .build()));
    }

    static ModelConfig config(int index) {
        return (ModelConfig) configs().toList().get(index).get()[1];
    }

    /** Deterministic batches for any task. */
    static List<Batch> batches(ModelConfig config, long seed, int count) {
        List<Batch> out = new ArrayList<>();
        if (config.task() == Task.NEXT_ITEM) {
            Clickstream stream = new Clickstream(seed, 20, 60, WINDOW + 2);
            for (int i = 0; i < count; i++) {
                out.add(stream.batch(BATCH));
            }
            return out;
        }
        SineSeries series = new SineSeries(seed, 6, 200);
        for (int i = 0; i < count; i++) {
            SineSeries.Examples e = series.next(BATCH, config.window());
            out.add(config.task() == Task.RECONSTRUCTION ? e.reconstruction() : e.batch());
        }
        return out;
    }

    static ModelState trainAll(ModelConfig config, List<Batch> batches) {
        try (OnlineLearner learner = new OnlineLearner(config)) {
            for (Batch b : batches) {
                assertTrue(Float.isFinite(learner.train(b)));
            }
            return learner.snapshot();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void restoredMidStreamEndsWithTheSameStateAsNeverStopped(String name, ModelConfig config) {
        List<Batch> batches = batches(config, 3L, 12);
        ModelState straight = trainAll(config, batches);
        byte[] saved;
        try (OnlineLearner first = new OnlineLearner(config)) {
            for (Batch b : batches.subList(0, 6)) {
                first.train(b);
            }
            first.nextVersion();
            saved = first.snapshot().encode();
        }
        ModelState resumed;
        try (OnlineLearner second = OnlineLearner.restore(ModelState.decode(saved))) {
            assertEquals(6, second.step());
            assertEquals(1, second.version());
            for (Batch b : batches.subList(6, 12)) {
                second.train(b);
            }
            resumed = second.snapshot();
        }
        assertEquals(12, straight.step());
        assertEquals(straight.withVersion(1), resumed, name);
        if (config.task() == Task.NEXT_ITEM) {
            assertEquals(
                    config.itemCapacity() - 1,
                    resumed.vocabulary().size(),
                    "the vocabulary filled up and evicted");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void sameSeedAndBatchesGiveTheSameStateAndAnotherSeedDoesNot(String name, ModelConfig config) {
        List<Batch> batches = batches(config, 4L, 6);
        ModelState first = trainAll(config, batches);
        assertEquals(first, trainAll(config, batches), name);
        assertNotEquals(first, trainAll(config.toBuilder().optSeed(99L).build(), batches), name);
    }

    @Test
    void learnersOnTwoThreadsTrainSafelyAndDeterministically() throws Exception {
        ModelConfig config = config(0);
        List<Batch> batches = batches(config, 5L, 8);
        ModelState expected = trainAll(config, batches);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Callable<ModelState> job = () -> trainAll(config, batches);
            Future<ModelState> one = pool.submit(job);
            Future<ModelState> two = pool.submit(job);
            assertEquals(expected, one.get());
            assertEquals(expected, two.get());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aStepWaitsWhileTrainingIsHeldAndTakesPlaceAfter() throws Exception {
        List<Batch> batches = batches(LSTM, 8L, 1);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (OnlineLearner learner = new OnlineLearner(LSTM)) {
            Future<Float> step =
                    OnlineLearner.whileTrainingWaits(
                            () -> {
                                Future<Float> held =
                                        pool.submit(() -> learner.train(batches.get(0)));
                                while (!OnlineLearner.aStepWaits()) {
                                    assertFalse(held.isDone(), "the step ran while held");
                                    Thread.onSpinWait();
                                }
                                return held;
                            });
            assertTrue(Float.isFinite(step.get()));
            assertEquals(1, learner.step());
            assertFalse(OnlineLearner.aStepWaits());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void nonFiniteBatchIsSkippedCountedAndLeavesTheLastGoodState() {
        SineSeries series = new SineSeries(6L, 4, 200);
        try (OnlineLearner learner = new OnlineLearner(LSTM)) {
            learner.train(series.next(BATCH, WINDOW).batch());
            ModelState before = learner.snapshot();

            SineSeries.Examples nanWindow = series.next(BATCH, WINDOW);
            nanWindow.windows[5][3] = Float.NaN;
            assertTrue(Float.isNaN(learner.train(nanWindow.batch())));

            SineSeries.Examples infTarget = series.next(BATCH, WINDOW);
            infTarget.targets[0][0] = Float.POSITIVE_INFINITY;
            assertTrue(!Float.isFinite(learner.train(infTarget.batch())));

            assertEquals(before, learner.snapshot());
            assertEquals(1, learner.step());
            assertEquals(2, learner.skippedSteps());

            assertTrue(Float.isFinite(learner.train(series.next(BATCH, WINDOW).batch())));
            assertEquals(2, learner.step());
        }
    }

    @Test
    void evaluateScoresWithoutLearning() {
        List<Batch> batches = batches(LSTM, 7L, 4);
        try (OnlineLearner learner = new OnlineLearner(LSTM)) {
            learner.train(batches.get(0));
            ModelState before = learner.snapshot();
            float evaluated = learner.evaluate(batches.get(1));
            assertEquals(before, learner.snapshot(), "evaluate changes nothing");
            // Evaluate runs the inference kernels and train the training ones: where the CPU's
            // inference kernel is right (InferenceKernels) they still differ by rounding.
            assertEquals(
                    evaluated,
                    learner.train(batches.get(1)),
                    1e-5f * Math.abs(evaluated),
                    "train's loss is before its step");
            assertTrue(learner.evaluate(batches.get(1)) < evaluated, "the step lowered the loss");
        }
    }

    @Test
    void evaluateOnItemsLeavesTheVocabularyAloneAndSkipsUnknownTargets() {
        ModelConfig config = config(2);
        try (OnlineLearner learner = new OnlineLearner(config)) {
            learner.train(Batch.items(new String[][] {{"a", "b"}}, new String[] {"c"}));
            ModelState before = learner.snapshot();
            float known =
                    learner.evaluate(
                            Batch.items(
                                    new String[][] {{"a", "new"}, {"b"}},
                                    new String[] {"c", "unknown"}));
            assertTrue(Float.isFinite(known));
            assertTrue(
                    Float.isNaN(
                            learner.evaluate(
                                    Batch.items(new String[][] {{"a"}}, new String[] {"x"}))),
                    "no example whose next item is known: nothing to score");
            assertEquals(before, learner.snapshot());
            assertEquals(3, learner.vocabularySize());
        }
    }

    @Test
    void versionsAdvanceOnlyWhenPublished() {
        try (OnlineLearner learner = new OnlineLearner(LSTM)) {
            assertEquals(0, learner.version());
            assertEquals(1, learner.nextVersion());
            assertEquals(2, learner.nextVersion());
            assertEquals(2, learner.snapshot().version());
            assertEquals(0, learner.step());
        }
    }

    @Test
    void rejectsMalformedBatchesNamingTheRow() {
        try (OnlineLearner learner = new OnlineLearner(LSTM)) {
            float[][] windows = new float[4][WINDOW];
            windows[2] = new float[WINDOW - 1];
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> learner.train(windows, new float[4][1]));
            assertTrue(e.getMessage().contains("windows[2]"), e.getMessage());

            float[][] targets = new float[4][1];
            targets[1] = new float[2];
            e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> learner.train(new float[4][WINDOW], targets));
            assertTrue(e.getMessage().contains("targets[1]"), e.getMessage());

            e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> learner.train(new float[4][WINDOW], new float[3][1]));
            assertTrue(e.getMessage().contains("targets"), e.getMessage());

            e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> learner.train(Batch.windows(new float[1][WINDOW])));
            assertTrue(e.getMessage().contains("RECONSTRUCTION batch"), e.getMessage());
            assertEquals(0, learner.step());
        }
    }

    @Test
    void closedLearnerFails() {
        OnlineLearner learner = new OnlineLearner(LSTM);
        learner.close();
        learner.close();
        assertThrows(IllegalStateException.class, learner::snapshot);
        assertThrows(
                IllegalStateException.class,
                () -> learner.train(new float[1][WINDOW], new float[1][1]));
    }

    @Test
    void anUnusableGpuIsRefusedClearly() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> new OnlineLearner(LSTM, Device.gpu(7)));
        assertTrue(
                e.getMessage().contains("gpu(7)") && e.getMessage().contains("not usable"),
                e.getMessage());
    }
}
