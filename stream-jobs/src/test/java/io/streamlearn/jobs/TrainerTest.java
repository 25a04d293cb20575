package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.device.DeviceMode;
import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelState;
import io.streamlearn.models.OnlineLearner;
import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.ModelAction;
import io.streamlearn.schemas.ModelCommand;
import io.streamlearn.schemas.ModelSnapshot;
import io.streamlearn.state.ModelSnapshots;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.AbstractUdfStreamOperator;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OperatorSnapshotUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class TrainerTest {
    private static final ModelConfig CONFIG =
            ModelConfig.builder().setWindow(4).optHiddenSize(8).build();
    private static final int BATCH = 4;
    private static final int PUBLISH_EVERY = 2;
    private static final long MAX_SNAPSHOT =
            StreamlearnOptions.MAX_SNAPSHOT_SIZE.defaultValue().getBytes();

    /** The trainer's harness: keyed, as the job keys it, by the one constant key. */
    static KeyedTwoInputStreamOperatorTestHarness<Integer, Example, ModelCommand, ModelUpdate>
            harness(Trainer trainer) throws Exception {
        return new KeyedTwoInputStreamOperatorTestHarness<>(
                new KeyedCoProcessOperator<>(trainer),
                e -> Trainer.KEY,
                c -> Trainer.KEY,
                Types.INT);
    }

    /** The test's trainer: promotes every finite version, publishes on steps only. */
    private static KeyedTwoInputStreamOperatorTestHarness<
                    Integer, Example, ModelCommand, ModelUpdate>
            harness(ModelState warmStart, TimeAlignment alignment) throws Exception {
        return harness(
                new Trainer(
                        CONFIG,
                        BATCH,
                        PUBLISH_EVERY,
                        Duration.ZERO,
                        Duration.ZERO,
                        20,
                        1e9,
                        warmStart,
                        DeviceMode.AUTO,
                        alignment,
                        MAX_SNAPSHOT,
                        Duration.ZERO,
                        JobSettings.Backlog.defaults()));
    }

    private static KeyedTwoInputStreamOperatorTestHarness<
                    Integer, Example, ModelCommand, ModelUpdate>
            harness(ModelState warmStart) throws Exception {
        return harness(warmStart, TimeAlignment.NONE);
    }

    private static KeyedTwoInputStreamOperatorTestHarness<
                    Integer, Example, ModelCommand, ModelUpdate>
            harness() throws Exception {
        return harness((ModelState) null);
    }

    /** The promoted models the harness emitted so far. */
    static List<ModelState> models(
            KeyedTwoInputStreamOperatorTestHarness<Integer, Example, ModelCommand, ModelUpdate>
                    harness) {
        return harness.extractOutputValues().stream().map(ModelUpdate::model).toList();
    }

    /**
     * The end of both inputs: a live trainer applies its step in flight and takes (and applies) the
     * steps its waiting examples make, as it does when a bounded input ends.
     */
    static void endOfInput(
            KeyedTwoInputStreamOperatorTestHarness<Integer, Example, ModelCommand, ModelUpdate>
                    harness)
            throws Exception {
        harness.processWatermark2(new Watermark(Long.MAX_VALUE));
        harness.processWatermark1(new Watermark(Long.MAX_VALUE));
    }

    /** The harness's trainer. */
    static Trainer trainer(
            KeyedTwoInputStreamOperatorTestHarness<Integer, Example, ModelCommand, ModelUpdate>
                    harness) {
        return (Trainer)
                ((AbstractUdfStreamOperator<?, ?>) harness.getOperator()).getUserFunction();
    }

    /**
     * Live mode: waits for each step the trainer takes and advances the processing time by 1 ms to
     * the poll that applies it (which may start the next), until no step runs and no poll is due.
     */
    static void settle(
            KeyedTwoInputStreamOperatorTestHarness<Integer, Example, ModelCommand, ModelUpdate>
                    harness)
            throws Exception {
        Trainer trainer = trainer(harness);
        while (true) {
            Future<?> step = trainer.stepInFlight();
            if (step != null) {
                step.get(1, TimeUnit.MINUTES);
            } else if (harness.numProcessingTimeTimers() == 0) {
                return;
            }
            harness.setProcessingTime(harness.getProcessingTime() + 1);
        }
    }

    private static List<Example> examples(int count, long seed) {
        Random random = new Random(seed);
        return IntStream.range(0, count)
                .mapToObj(
                        i -> {
                            float start = random.nextFloat() * 10;
                            float[] window = {start, start + 1, start + 2, start + 3};
                            return new Example(window, new float[] {start + 4});
                        })
                .toList();
    }

    /**
     * Feeds examples stamped as made at {@code madeAt} (processing time), one at a time, each once
     * the steps before it are applied; returns how many were fed between consecutive steps (one
     * version per step here).
     */
    private static List<Integer> examplesPerStep(
            KeyedTwoInputStreamOperatorTestHarness<Integer, Example, ModelCommand, ModelUpdate>
                    harness,
            List<Example> examples,
            long madeAt)
            throws Exception {
        List<Integer> gaps = new ArrayList<>();
        int fed = 0;
        int steps = snapshots(harness).size();
        for (Example e : examples) {
            harness.processElement1(e.madeAt(madeAt), 0);
            settle(harness);
            fed++;
            if (snapshots(harness).size() > steps) {
                steps = snapshots(harness).size();
                gaps.add(fed);
                fed = 0;
            }
        }
        return gaps;
    }

    /** A live trainer with the default backlog that promotes every finite version. */
    private static Trainer liveTrainer(
            int publishEvery, Duration publishInterval, long maxSnapshot) {
        return new Trainer(
                CONFIG,
                BATCH,
                publishEvery,
                publishInterval,
                Duration.ZERO,
                20,
                1e9,
                null,
                DeviceMode.AUTO,
                TimeAlignment.NONE,
                maxSnapshot,
                Duration.ZERO,
                JobSettings.Backlog.defaults());
    }

    /** One version per step, the largest batch 4 x BATCH, a max lag of 1 s. */
    private static Trainer publishingEveryStep(TimeAlignment alignment) {
        return publishingEveryStep(alignment, Duration.ZERO, Duration.ZERO);
    }

    /**
     * In live mode no sooner than {@code minPublish} after the last version; to the model store at
     * most once per {@code storeInterval}.
     */
    private static Trainer publishingEveryStep(
            TimeAlignment alignment, Duration minPublish, Duration storeInterval) {
        return new Trainer(
                CONFIG,
                BATCH,
                1,
                Duration.ZERO,
                minPublish,
                20,
                1e9,
                null,
                DeviceMode.AUTO,
                alignment,
                MAX_SNAPSHOT,
                storeInterval,
                new JobSettings.Backlog(4 * BATCH, Duration.ofSeconds(1)));
    }

    /** The examples with event times {@code first}, {@code first + 1}, ... (the order fed). */
    private static List<Example> numbered(List<Example> examples, long first) {
        for (int i = 0; i < examples.size(); i++) {
            examples.get(i).time = first + i;
        }
        return examples;
    }

    /** The newest event time each promoted version had learned. */
    private static List<Long> trainedUntil(
            KeyedTwoInputStreamOperatorTestHarness<Integer, Example, ModelCommand, ModelUpdate>
                    harness) {
        return harness.extractOutputValues().stream().map(ModelUpdate::trainedUntil).toList();
    }

    /**
     * Live mode, behind: while a step is held (the test holds the training lock) the task keeps
     * taking examples; with as many waiting as the largest batch, it keeps every second one. The
     * next step takes what waits, up to the batch grown from how long its examples waited. Still
     * behind at the largest batch, one example in 2, 4, ... is learned (the others counted as
     * skipped). Caught up, the stride and then the batch come back down to the configured batch
     * size.
     */
    @Test
    @Timeout(120)
    void aLaggingLiveTrainerSamplesGrowsItsBatchThenStridesAndComesBackWhenCaughtUp()
            throws Exception {
        try (var harness = harness(publishingEveryStep(TimeAlignment.NONE))) {
            harness.open();
            long start = 1_000_000;
            harness.setProcessingTime(start);
            List<Example> held = numbered(examples(28, 1), 0);
            OnlineLearner.whileTrainingWaits(
                    () -> {
                        for (Example e : held) {
                            harness.processElement1(e.madeAt(start - 5_000), 0);
                        }
                        return null;
                    });
            settle(harness);
            // Step 1 took 0-3 and was held; 4-27 came meanwhile. At 16 waiting (4-19) it kept
            // 5, 7, ..., 19; at 16 again (those and 20-27) 7, 11, 15, 19, 21, 23, 25, 27. Step 2
            // took those 8, the batch having grown to 8 from step 1's lag.
            assertEquals(List.of(3L, 27L), trainedUntil(harness));
            assertEquals(2, snapshots(harness).size(), "two steps");

            // Step 2's lag grew the batch to the largest: the stride grows from here.
            List<Integer> behind =
                    examplesPerStep(harness, examples(28, 2), harness.getProcessingTime() - 5_000);
            assertEquals(List.of(4, 8, 16), behind);

            List<Integer> caughtUp =
                    examplesPerStep(harness, examples(400, 3), harness.getProcessingTime());
            // Stride 8, 4, 2, 1; then 4 at a time (what waits, each step right after its 4th).
            assertEquals(List.of(32, 16, 8, 4), caughtUp.subList(0, 4));
            assertTrue(caughtUp.subList(4, caughtUp.size()).stream().allMatch(n -> n == 4));

            // Back at the configured batch: what waits behind a held step goes 4 at a time (3
            // steps; 2 if the 8 waiting behind the held one went together).
            int steps = snapshots(harness).size();
            long now = harness.getProcessingTime();
            OnlineLearner.whileTrainingWaits(
                    () -> {
                        for (Example e : examples(12, 4)) {
                            harness.processElement1(e.madeAt(now), 0);
                        }
                        return null;
                    });
            settle(harness);
            assertEquals(steps + 3, snapshots(harness).size());
        }
    }

    /**
     * Live mode: a slow first step (a fresh JVM's, or a held one) does not keep the first version
     * back when no more input comes. Its examples waited long, so the batch grows, but a step takes
     * what waits rather than waiting for a full grown batch: 16 batches' worth make the 5 steps of
     * a first version (4, 8, 16, 32 and the 4 left). Waiting for full batches (4, 8, 16, 32, then
     * 64 of the 4 left) it would publish nothing, and predictors serve nothing before a first
     * version.
     */
    @Test
    @Timeout(120)
    void aSlowFirstStepDoesNotKeepTheFirstVersionBack() throws Exception {
        Trainer trainer = liveTrainer(5, Duration.ZERO, MAX_SNAPSHOT);
        try (var harness = harness(trainer)) {
            harness.open();
            long start = 1_000_000;
            harness.setProcessingTime(start);
            OnlineLearner.whileTrainingWaits(
                    () -> {
                        for (Example e : examples(16 * BATCH, 13)) {
                            harness.processElement1(e.madeAt(start - 5_000), 0);
                        }
                        return null;
                    });
            settle(harness);
            List<ModelSnapshot> versions = snapshots(harness);
            assertEquals(1, versions.size(), "a first version");
            assertEquals(5L, versions.get(0).getStep());
        }
    }

    /**
     * Live mode as the job runs it: while a step is held (the test holds the training lock), the
     * trainer keeps taking examples and checkpoints without waiting for the step. The checkpoint
     * holds the state as of the last version, the batch learned since (taken again on restore) and,
     * as not learned, the held step's examples and those after them. Running on, or restored from
     * that checkpoint, it ends bit-exact where an uninterrupted trainer ends: no example waited
     * long, so every batch is the same {@code BATCH} examples.
     */
    @Test
    @Timeout(120)
    void aLiveTrainerTakesExamplesAndCheckpointsWhileItsStepIsHeld() throws Exception {
        List<Example> stream = examples(BATCH * PUBLISH_EVERY * 5 + 2, 12);
        List<ModelState> reference;
        try (var harness = harness()) {
            harness.open();
            for (Example e : stream) {
                harness.processElement1(e, 0);
            }
            endOfInput(harness);
            reference = models(harness);
        }
        assertEquals(5, reference.size());

        // Steps 1 and 2 make version 1; step 3 is applied without one; step 4 is held.
        int applied = 3 * BATCH;
        int fedWhileHeld = 4 * BATCH + 2;
        OperatorSubtaskState checkpoint;
        try (var harness = harness()) {
            harness.open();
            for (Example e : stream.subList(0, applied)) {
                harness.processElement1(e, 0);
            }
            settle(harness);
            assertEquals(reference.subList(0, 1), models(harness));
            checkpoint =
                    OnlineLearner.whileTrainingWaits(
                            () -> {
                                for (Example e : stream.subList(applied, fedWhileHeld)) {
                                    harness.processElement1(e, 0);
                                }
                                while (!OnlineLearner.aStepWaits()) {
                                    Thread.onSpinWait();
                                }
                                OperatorSubtaskState taken = harness.snapshot(1, 1);
                                assertEquals(1, models(harness).size(), "step 4 is still held");
                                return taken;
                            });
            for (Example e : stream.subList(fedWhileHeld, stream.size())) {
                harness.processElement1(e, 0);
            }
            endOfInput(harness);
            assertEquals(reference, models(harness), "the same batches, bit-exact");
        }

        try (var restored = harness()) {
            restored.initializeState(checkpoint);
            restored.open();
            for (Example e : stream.subList(fedWhileHeld, stream.size())) {
                restored.processElement1(e, 0);
            }
            endOfInput(restored);
            assertEquals(
                    reference.subList(1, reference.size()),
                    models(restored),
                    "from version 1's state, step 3 taken again, the held step and the rest");
        }
    }

    /** Event-time alignment learns every example in fixed batches, however late they are. */
    @Test
    void anEventTimeTrainerKeepsItsBatchWhateverTheLag() throws Exception {
        try (var harness = harness(publishingEveryStep(TimeAlignment.EVENT_TIME))) {
            harness.open();
            harness.setProcessingTime(1_000_000);
            List<Example> stream = examples(40, 3);
            for (int i = 0; i < stream.size(); i++) {
                Example e = stream.get(i);
                e.time = i;
                harness.processElement1(e.madeAt(1), i);
            }
            harness.processWatermark2(new Watermark(Long.MAX_VALUE));
            harness.processWatermark1(new Watermark(stream.size() + 1));
            List<ModelSnapshot> steps = snapshots(harness);
            assertEquals(stream.size() / BATCH, steps.size());
            for (int i = 0; i < steps.size(); i++) {
                assertEquals(i + 1L, steps.get(i).getStep());
            }
        }
    }

    private static List<ModelSnapshot> snapshots(
            KeyedTwoInputStreamOperatorTestHarness<Integer, Example, ModelCommand, ModelUpdate>
                    harness) {
        List<ModelSnapshot> out = new ArrayList<>();
        var records = harness.getSideOutput(Trainer.SNAPSHOTS);
        if (records != null) {
            for (StreamRecord<ModelSnapshot> r : records) {
                out.add(r.getValue());
            }
        }
        return out;
    }

    @Test
    void publishesANewVersionEveryKStepsWithItsPromotionMetrics() throws Exception {
        try (var harness = harness()) {
            harness.open();
            for (Example e : examples(BATCH * PUBLISH_EVERY * 3, 1)) {
                harness.processElement1(e, 0);
            }
            endOfInput(harness);
            List<ModelState> published = models(harness);
            assertEquals(List.of(1L, 2L, 3L), published.stream().map(ModelState::version).toList());
            assertEquals(List.of(2L, 4L, 6L), published.stream().map(ModelState::step).toList());

            List<ModelSnapshot> snapshots = snapshots(harness);
            assertEquals(3, snapshots.size(), "every version goes to the model store");
            assertTrue(snapshots.get(0).getNote().contains("first version"));
            assertEquals(null, snapshots.get(0).getCandidateLoss());
            ModelSnapshot second = snapshots.get(1);
            assertTrue(second.getPromoted());
            assertEquals(2L, second.getServingVersion());
            assertTrue(
                    second.getCandidateLoss() != null && second.getServingLoss() != null,
                    "compared with version 1 on the batches since: " + second);
            // The store gets the whole state (to resume learning from); the predictors the
            // weights.
            ModelState stored = ModelSnapshots.fromSnapshot(second);
            assertTrue(stored.resumable());
            assertFalse(published.get(1).resumable(), "the predictors get a serving copy");
            assertEquals(published.get(1), stored.forServing());
        }
    }

    /**
     * A version whose snapshot record would be larger than the model store takes fails the trainer
     * before it is sent, naming the setting: the sink would refuse it with a less telling error.
     */
    @Test
    void refusesToSendASnapshotLargerThanTheSettingAllows() throws Exception {
        ModelSnapshot first;
        try (var harness = harness()) {
            harness.open();
            for (Example e : examples(BATCH * PUBLISH_EVERY, 1)) {
                harness.processElement1(e, 0);
            }
            endOfInput(harness);
            first = snapshots(harness).get(0);
        }
        long bound = ModelSnapshots.encodedSizeBound(first);
        assertTrue(
                bound >= AvroSerde.of(ModelSnapshot.class).encode(first).length,
                "the bound holds the encoding");
        Trainer small = liveTrainer(PUBLISH_EVERY, Duration.ZERO, bound);
        try (var harness = harness(small)) {
            harness.open();
            for (Example e : examples(BATCH * PUBLISH_EVERY, 1)) {
                harness.processElement1(e, 0);
            }
            // The version is due when the last step is applied.
            IllegalStateException e =
                    assertThrows(IllegalStateException.class, () -> endOfInput(harness));
            assertTrue(
                    e.getMessage().contains("streamlearn.model-store.max-snapshot-size=" + bound),
                    e.getMessage());
            assertEquals(List.of(), snapshots(harness), "nothing sent");
        }
    }

    @Test
    void alsoPublishesWhenThePublishIntervalHasPassed() throws Exception {
        Trainer trainer = liveTrainer(1000, Duration.ofSeconds(1), MAX_SNAPSHOT);
        try (var harness = harness(trainer)) {
            harness.open();
            harness.setProcessingTime(0);
            List<Example> stream = examples(BATCH * 3, 9);
            for (Example e : stream.subList(0, BATCH)) {
                harness.processElement1(e, 0);
            }
            settle(harness);
            assertTrue(models(harness).isEmpty(), "step 1 at 0 s: not yet");
            harness.setProcessingTime(500);
            for (Example e : stream.subList(BATCH, 2 * BATCH)) {
                harness.processElement1(e, 0);
            }
            settle(harness);
            assertTrue(models(harness).isEmpty(), "step 2 at 0.5 s: not yet");
            harness.setProcessingTime(1000);
            for (Example e : stream.subList(2 * BATCH, 3 * BATCH)) {
                harness.processElement1(e, 0);
            }
            settle(harness);
            List<ModelState> out = models(harness);
            assertEquals(1, out.size(), "step 3 at 1 s: the interval has passed");
            assertEquals(3L, out.get(0).step());
        }
    }

    /**
     * Every version goes to the predictors; the model store gets the first, then one once the store
     * interval has passed since the last it got, and the newest at the end of the input.
     */
    @Test
    void storesAVersionOncePerStoreIntervalAndTheNewestAtTheEnd() throws Exception {
        try (var harness =
                harness(
                        publishingEveryStep(
                                TimeAlignment.NONE, Duration.ZERO, Duration.ofSeconds(1)))) {
            harness.open();
            List<Example> stream = examples(BATCH * 5, 4);
            long[] times = {0, 500, 700, 1000, 1200};
            for (int i = 0; i < times.length; i++) {
                harness.setProcessingTime(times[i]);
                for (Example e : stream.subList(i * BATCH, (i + 1) * BATCH)) {
                    harness.processElement1(e, 0);
                }
                settle(harness);
            }
            endOfInput(harness);
            assertEquals(
                    List.of(1L, 2L, 3L, 4L, 5L),
                    models(harness).stream().map(ModelState::version).toList());
            assertEquals(List.of(1L, 4L, 5L), storedVersions(harness));
        }
    }

    @Test
    void inEventTimeTheStoreGetsTheNewestVersionAtTheEndOfTheInput() throws Exception {
        try (var harness =
                harness(
                        publishingEveryStep(
                                TimeAlignment.EVENT_TIME, Duration.ZERO, Duration.ofSeconds(1)))) {
            harness.open();
            harness.setProcessingTime(0);
            List<Example> stream = numbered(examples(BATCH * 3, 5), 100);
            for (Example e : stream) {
                harness.processElement1(e, e.time);
            }
            harness.processWatermark2(new Watermark(Long.MAX_VALUE));
            harness.processWatermark1(new Watermark(100 + BATCH));
            harness.setProcessingTime(500);
            harness.processWatermark1(new Watermark(100 + 2 * BATCH));
            assertEquals(List.of(1L), storedVersions(harness));
            endOfInput(harness);
            assertEquals(3, models(harness).size());
            assertEquals(List.of(1L, 3L), storedVersions(harness));
        }
    }

    private static List<Long> storedVersions(
            KeyedTwoInputStreamOperatorTestHarness<Integer, Example, ModelCommand, ModelUpdate>
                    harness) {
        return snapshots(harness).stream().map(ModelSnapshot::getModelVersion).toList();
    }

    /**
     * Live mode spaces versions at least the min publish interval apart (after the first, which the
     * predictors wait for); event-time alignment publishes on steps alone, whatever the clock.
     */
    @Test
    void liveVersionsAreAtLeastTheMinPublishIntervalApartEventTimeOnesOnSteps() throws Exception {
        for (TimeAlignment alignment : List.of(TimeAlignment.NONE, TimeAlignment.EVENT_TIME)) {
            Trainer trainer = publishingEveryStep(alignment, Duration.ofSeconds(1), Duration.ZERO);
            try (var harness = harness(trainer)) {
                harness.open();
                harness.processWatermark2(new Watermark(Long.MAX_VALUE));
                List<Example> stream = numbered(examples(BATCH * 5, 6), 0);
                long[] times = {0, 300, 600, 1000, 1100};
                for (int i = 0; i < times.length; i++) {
                    harness.setProcessingTime(times[i]);
                    for (Example e : stream.subList(i * BATCH, (i + 1) * BATCH)) {
                        harness.processElement1(e, e.time);
                    }
                    if (alignment == TimeAlignment.NONE) {
                        settle(harness);
                    } else {
                        harness.processWatermark1(new Watermark((i + 1L) * BATCH));
                    }
                }
                List<Long> steps = models(harness).stream().map(ModelState::step).toList();
                assertEquals(
                        alignment == TimeAlignment.NONE
                                ? List.of(1L, 4L)
                                : List.of(1L, 2L, 3L, 4L, 5L),
                        steps,
                        alignment.toString());
            }
        }
    }

    @Test
    void aRestoredTrainerContinuesExactlyAsOneThatNeverStopped() throws Exception {
        List<Example> stream = examples(BATCH * PUBLISH_EVERY * 4 + 2, 2);
        // Mid-batch: the pending examples must be restored too.
        int cut = BATCH * PUBLISH_EVERY * 2 + 3;

        List<ModelState> uninterrupted;
        List<ModelSnapshot> uninterruptedSnapshots;
        try (var harness = harness()) {
            harness.open();
            for (Example e : stream) {
                harness.processElement1(e, 0);
            }
            endOfInput(harness);
            uninterrupted = models(harness);
            uninterruptedSnapshots = snapshots(harness);
        }

        OperatorSubtaskState snapshot;
        List<ModelState> before;
        try (var harness = harness()) {
            harness.open();
            for (Example e : stream.subList(0, cut)) {
                harness.processElement1(e, 0);
            }
            // Every step taken so far applied (a checkpoint during a step has a test of its own).
            settle(harness);
            before = models(harness);
            snapshot = harness.snapshot(1, 1);
        }
        List<ModelState> after;
        List<ModelSnapshot> afterSnapshots;
        long servingAfterRestore;
        try (var restored = harness()) {
            restored.initializeState(snapshot);
            restored.open();
            servingAfterRestore = trainer(restored).servingVersion();
            for (Example e : stream.subList(cut, stream.size())) {
                restored.processElement1(e, 0);
            }
            endOfInput(restored);
            after = models(restored);
            afterSnapshots = snapshots(restored);
        }

        assertTrue(!after.isEmpty());
        assertEquals(
                before.get(before.size() - 1).version(),
                servingAfterRestore,
                "the servingVersion gauge shows the restored version before the first element");
        assertEquals(
                before.get(before.size() - 1).version() + 1,
                after.get(0).version(),
                "the version sequence continues");
        List<ModelState> resumed = new ArrayList<>(before);
        resumed.addAll(after);
        assertEquals(uninterrupted, resumed, "weights, moments, steps and versions are bit-exact");
        ModelSnapshot last = afterSnapshots.get(afterSnapshots.size() - 1);
        ModelSnapshot expected = uninterruptedSnapshots.get(uninterruptedSnapshots.size() - 1);
        assertEquals(
                expected.getCandidateLoss(),
                last.getCandidateLoss(),
                "the guard's recent losses were restored too");
        assertEquals(expected.getServingLoss(), last.getServingLoss());
    }

    @Test
    void rollbackServesTheChosenStateAsTheNextVersionAndRefusesACorruptOne() throws Exception {
        ModelState old;
        try (OnlineLearner learner = new OnlineLearner(CONFIG)) {
            learner.nextVersion();
            old = learner.snapshot();
        }
        try (var harness = harness()) {
            harness.open();
            for (Example e : examples(BATCH * PUBLISH_EVERY * 2, 3)) {
                harness.processElement1(e, 0);
            }
            settle(harness);
            assertEquals(2, models(harness).size());

            ModelCommand corrupt = rollback(old);
            corrupt.getState().put(5, (byte) (corrupt.getState().get(5) ^ 1));
            harness.processElement2(corrupt, 0);
            assertEquals(2, models(harness).size(), "a corrupt command is refused");

            harness.processElement2(rollback(old), 0);
            List<ModelState> out = models(harness);
            ModelState rolledBack = out.get(out.size() - 1);
            assertEquals(3L, rolledBack.version(), "published as the next version");
            assertEquals(old.step(), rolledBack.step());
            assertArrayEquals(
                    old.weights()[0], rolledBack.weights()[0], "with version 1's weights");
            ModelSnapshot note = snapshots(harness).get(snapshots(harness).size() - 1);
            assertEquals("rollback to version 1", note.getNote());

            for (Example e : examples(BATCH * PUBLISH_EVERY, 4)) {
                harness.processElement1(e, 0);
            }
            endOfInput(harness);
            out = models(harness);
            assertEquals(4L, out.get(out.size() - 1).version(), "learning goes on from it");
            assertEquals(old.step() + PUBLISH_EVERY, out.get(out.size() - 1).step());
        }
    }

    @Test
    void aWarmStartedTrainerContinuesTheVersionSequence() throws Exception {
        ModelState start;
        try (var harness = harness()) {
            harness.open();
            for (Example e : examples(BATCH * PUBLISH_EVERY * 3, 5)) {
                harness.processElement1(e, 0);
            }
            endOfInput(harness);
            // A warm start comes from the model store, which holds whole states.
            List<ModelSnapshot> stored = snapshots(harness);
            start = ModelSnapshots.fromSnapshot(stored.get(stored.size() - 1));
        }
        try (var harness = harness(start)) {
            harness.open();
            for (Example e : examples(BATCH * PUBLISH_EVERY, 6)) {
                harness.processElement1(e, 0);
            }
            endOfInput(harness);
            ModelState next = models(harness).get(0);
            assertEquals(start.version() + 1, next.version());
            assertEquals(start.step() + PUBLISH_EVERY, next.step());
        }
    }

    /**
     * A checkpoint of the trainer written by an earlier build (committed under {@code
     * src/test/resources/fixtures/}; regenerate with {@code -Dstreamlearn.write-fixtures=true} only
     * when the state layout changes on purpose, keeping the old file as another fixture): today's
     * trainer must restore it, pending examples and serving version included, and continue the
     * version sequence. This is what keeps checkpoints and savepoints of running jobs usable across
     * upgrades (ModelState codec, Example's POJO serializer, the guard's losses).
     */
    @Test
    void restoresACheckpointWrittenByTheFirstDurableRelease() throws Exception {
        String fixture = "src/test/resources/fixtures/trainer-checkpoint-v2.bin";
        List<Example> stream = examples(BATCH * PUBLISH_EVERY * 3 + 3, 7);
        if (Boolean.getBoolean("streamlearn.write-fixtures")) {
            try (var harness = harness()) {
                harness.open();
                for (Example e : stream) {
                    harness.processElement1(e, 0);
                }
                settle(harness);
                OperatorSnapshotUtil.writeStateHandle(harness.snapshot(1, 1), fixture);
            }
        }
        try (var restored = harness()) {
            restored.initializeState(OperatorSnapshotUtil.readStateHandle(fixture));
            restored.open();
            // 3 examples were pending: 1 more makes a batch, and a full round of batches publishes.
            for (Example e : examples(1 + BATCH * (PUBLISH_EVERY - 1), 8)) {
                restored.processElement1(e, 0);
            }
            endOfInput(restored);
            List<ModelSnapshot> published = snapshots(restored);
            assertEquals(1, published.size());
            ModelSnapshot next = published.get(0);
            assertEquals(4L, next.getModelVersion(), "the sequence continues after version 3");
            assertEquals(8L, next.getStep());
            assertEquals(4L, next.getServingVersion(), "promoted over the restored version 3");
            assertTrue(
                    next.getCandidateLoss() != null,
                    "the serving version and the guard's losses came back: " + next);
        }
    }

    /** The examples with entities and event times: two series, one step of time per pair. */
    private static List<Example> timed(List<Example> examples) {
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < examples.size(); i++) {
            Example e = examples.get(i);
            out.add(Example.values(i % 2 == 0 ? "a" : "b", 1000 + i / 2, e.window, e.target));
        }
        return out;
    }

    private static KeyedTwoInputStreamOperatorTestHarness<
                    Integer, Example, ModelCommand, ModelUpdate>
            aligned() throws Exception {
        return harness(null, TimeAlignment.EVENT_TIME);
    }

    @Test
    void inEventTimeItLearnsWhatTheWatermarkPassedInTimeOrderBeforeForwardingIt() throws Exception {
        List<Example> stream = timed(examples(BATCH * PUBLISH_EVERY * 3, 10));
        // Arrival order scrambled in blocks, as parallel upstream subtasks would interleave them.
        List<Example> arrivals = new ArrayList<>(stream);
        Collections.shuffle(arrivals, new Random(3));

        List<ModelState> inOrder;
        try (var reference = harness()) {
            reference.open();
            for (Example e : stream) {
                reference.processElement1(e, 0);
            }
            endOfInput(reference);
            inOrder = models(reference);
        }

        try (var harness = aligned()) {
            harness.open();
            harness.processWatermark2(
                    new Watermark(Long.MAX_VALUE)); // commands carry no event time
            for (Example e : arrivals) {
                harness.processElement1(e, e.time);
            }
            assertTrue(models(harness).isEmpty(), "nothing is learned before the watermark");

            long cut = stream.get(BATCH * PUBLISH_EVERY * 2).time; // two versions' worth before it
            harness.processWatermark1(new Watermark(cut));
            List<Object> output = new ArrayList<>(harness.getOutput());
            assertEquals(3, output.size(), "two versions, then the watermark: " + output);
            for (Object o : output.subList(0, 2)) {
                @SuppressWarnings("unchecked")
                ModelUpdate update = ((StreamRecord<ModelUpdate>) o).getValue();
                assertTrue(update.trainedUntil() < cut, "trained only before the watermark");
            }
            assertEquals(
                    new Watermark(cut),
                    output.get(2),
                    "the watermark goes on after the versions trained below it");

            harness.processWatermark1(new Watermark(Long.MAX_VALUE));
            assertEquals(
                    inOrder,
                    models(harness),
                    "the same model as learning the examples in time order");
        }
    }

    @Test
    void inEventTimeARestoredTrainerKeepsItsWaitingExamples() throws Exception {
        List<Example> stream = timed(examples(BATCH * PUBLISH_EVERY * 2, 11));
        OperatorSubtaskState snapshot;
        try (var harness = aligned()) {
            harness.open();
            harness.processWatermark2(new Watermark(Long.MAX_VALUE));
            for (Example e : stream.subList(0, stream.size() / 2 + 1)) {
                harness.processElement1(e, e.time);
            }
            snapshot = harness.snapshot(1, 1);
        }
        List<ModelState> restoredModels;
        try (var restored = aligned()) {
            restored.initializeState(snapshot);
            restored.open();
            restored.processWatermark2(new Watermark(Long.MAX_VALUE));
            for (Example e : stream.subList(stream.size() / 2 + 1, stream.size())) {
                restored.processElement1(e, e.time);
            }
            restored.processWatermark1(new Watermark(Long.MAX_VALUE));
            restoredModels = models(restored);
        }
        try (var uninterrupted = aligned()) {
            uninterrupted.open();
            uninterrupted.processWatermark2(new Watermark(Long.MAX_VALUE));
            for (Example e : stream) {
                uninterrupted.processElement1(e, e.time);
            }
            uninterrupted.processWatermark1(new Watermark(Long.MAX_VALUE));
            assertEquals(models(uninterrupted), restoredModels);
            assertEquals(2, restoredModels.size());
        }
    }

    /** A small next-item model with the full softmax over a tied head. */
    static final ModelConfig SMALL_ITEMS =
            ModelConfig.builder()
                    .setTask(ModelConfig.Task.NEXT_ITEM)
                    .setFamily(ModelConfig.Family.GRU)
                    .setWindow(3)
                    .optHiddenSize(8)
                    .optItemCapacity(16)
                    .build();

    @Test
    void learnsNextItemsFromItemExamples() throws Exception {
        try (var harness = harness(new Trainer(SMALL_ITEMS, 2, 1, DeviceMode.CPU))) {
            harness.open();
            harness.processElement1(Example.items("u", 1, new String[] {"a"}, "b"), 1);
            harness.processElement1(Example.items("u", 2, new String[] {"a", "b"}, "c"), 2);
            endOfInput(harness);
            List<ModelState> out = models(harness);
            assertEquals(1, out.size());
            assertEquals(3, out.get(0).vocabulary().size(), "a, b and c have rows");
        }
    }

    private static ModelCommand rollback(ModelState state) {
        ModelSnapshot snapshot = ModelSnapshots.toSnapshot(state, Instant.EPOCH);
        return ModelCommand.newBuilder()
                .setAction(ModelAction.ROLLBACK)
                .setTargetVersion(state.version())
                .setState(ByteBuffer.wrap(snapshot.getState().array().clone()))
                .setSha256(snapshot.getSha256())
                .setRequestedAt(Instant.EPOCH)
                .build();
    }
}
