package io.streamlearn.jobs;

import static io.streamlearn.jobs.TrainerTest.endOfInput;
import static io.streamlearn.jobs.TrainerTest.harness;
import static io.streamlearn.jobs.TrainerTest.models;
import static io.streamlearn.jobs.TrainerTest.settle;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.streamlearn.jobs.device.DeviceMode;
import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelState;
import io.streamlearn.models.OnlineLearner;
import io.streamlearn.schemas.ModelCommand;
import io.streamlearn.schemas.ModelSnapshot;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OperatorSnapshotUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The trainer's item model across checkpoints: restored bit-exact in both alignments, and from a
 * checkpoint of the build that kept the whole model in operator state.
 */
class TrainerRowsTest {

    private static final int BATCH = 4;
    private static final int PUBLISH_EVERY = 2;

    /**
     * A small untied item model with the sampled softmax, so that a step touches some rows and not
     * others; 16 rows for 30 items, so that rows change hands.
     */
    static final ModelConfig ITEMS =
            TrainerTest.SMALL_ITEMS.toBuilder()
                    .optItemOutput(ModelConfig.ItemOutput.UNTIED)
                    .optSoftmax(ModelConfig.Softmax.SAMPLED)
                    .optNegatives(4)
                    .build();

    static Trainer itemTrainer(ModelConfig config, TimeAlignment alignment) {
        return new Trainer(
                config,
                BATCH,
                PUBLISH_EVERY,
                Duration.ZERO,
                Duration.ZERO,
                20,
                1e9,
                null,
                DeviceMode.CPU,
                alignment,
                StreamlearnOptions.MAX_SNAPSHOT_SIZE.defaultValue().getBytes(),
                Duration.ZERO,
                JobSettings.Backlog.defaults());
    }

    /**
     * Clicks of 4 users on 30 items, each user's history its last 3 items, event time the position
     * in the stream.
     */
    static List<Example> clicks(int count, long seed) {
        Random random = new Random(seed);
        List<List<String>> histories = new ArrayList<>();
        for (int u = 0; u < 4; u++) {
            histories.add(new ArrayList<>());
        }
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int u = random.nextInt(4);
            List<String> h = histories.get(u);
            String item = "item-" + random.nextInt(30);
            out.add(Example.items("u" + u, i, h.toArray(new String[0]), item));
            h.add(item);
            if (h.size() > 3) {
                h.remove(0);
            }
        }
        return out;
    }

    private static KeyedTwoInputStreamOperatorTestHarness<
                    Integer, Example, ModelCommand, ModelUpdate>
            open(ModelConfig config, TimeAlignment alignment, OperatorSubtaskState from)
                    throws Exception {
        var harness = harness(itemTrainer(config, alignment));
        if (from != null) {
            harness.initializeState(from);
        }
        harness.open();
        if (alignment == TimeAlignment.EVENT_TIME) {
            harness.processWatermark2(new Watermark(Long.MAX_VALUE));
        }
        return harness;
    }

    private static void feed(
            KeyedTwoInputStreamOperatorTestHarness<Integer, Example, ModelCommand, ModelUpdate>
                    harness,
            List<Example> examples,
            TimeAlignment alignment)
            throws Exception {
        if (examples.isEmpty()) {
            return;
        }
        for (Example e : examples) {
            harness.processElement1(e, e.time);
        }
        if (alignment == TimeAlignment.EVENT_TIME) {
            harness.processWatermark1(new Watermark(examples.get(examples.size() - 1).time + 1));
        } else {
            settle(harness);
        }
    }

    /**
     * What a trainer published: the promoted models, and per version (model store snapshot) its
     * step, the guard's losses (the serving version's loss comes from the restored serving copy)
     * and the SHA-256 of the whole state, moments included.
     */
    record Run(List<ModelState> models, List<String> versions) {
        static Run of(
                KeyedTwoInputStreamOperatorTestHarness<Integer, Example, ModelCommand, ModelUpdate>
                        harness) {
            List<String> versions = new ArrayList<>();
            var records = harness.getSideOutput(Trainer.SNAPSHOTS);
            if (records != null) {
                for (StreamRecord<ModelSnapshot> r : records) {
                    ModelSnapshot v = r.getValue();
                    versions.add(
                            "version "
                                    + v.getModelVersion()
                                    + " step "
                                    + v.getStep()
                                    + " serving "
                                    + v.getServingVersion()
                                    + " losses "
                                    + v.getCandidateLoss()
                                    + " / "
                                    + v.getServingLoss()
                                    + " sha256 "
                                    + v.getSha256());
                }
            }
            return new Run(TrainerTest.models(harness), versions);
        }

        Run plus(Run more) {
            List<ModelState> m = new ArrayList<>(models);
            m.addAll(more.models);
            List<String> v = new ArrayList<>(versions);
            v.addAll(more.versions);
            return new Run(m, v);
        }

        /** The first n versions, each promoted. */
        Run first(int n) {
            return new Run(models.subList(0, n), versions.subList(0, n));
        }
    }

    /** Every version a trainer that never stopped publishes from the stream. */
    private static Run uninterrupted(
            ModelConfig config, TimeAlignment alignment, List<Example> stream) throws Exception {
        try (var harness = open(config, alignment, null)) {
            feed(harness, stream, alignment);
            endOfInput(harness);
            return Run.of(harness);
        }
    }

    /**
     * Checkpoints at each cut, restores a new trainer from each checkpoint, and returns every
     * version published along the way: with bit-exact restores, those of an uninterrupted trainer.
     * A cut repeated checkpoints a restored trainer that has seen no element yet.
     */
    private static Run restoredAt(
            ModelConfig config,
            TimeAlignment alignment,
            List<Example> stream,
            OperatorSubtaskState start,
            int... cuts)
            throws Exception {
        Run published = new Run(List.of(), List.of());
        OperatorSubtaskState checkpoint = start;
        int from = start == null ? 0 : cuts[0];
        int first = start == null ? 0 : 1;
        for (int c = first; c <= cuts.length; c++) {
            int to = c < cuts.length ? cuts[c] : stream.size();
            try (var harness = open(config, alignment, checkpoint)) {
                feed(harness, stream.subList(from, to), alignment);
                if (c < cuts.length) {
                    checkpoint = harness.snapshot(c + 1, c + 1);
                } else {
                    endOfInput(harness);
                }
                published = published.plus(Run.of(harness));
            }
            from = to;
        }
        return published;
    }

    @Test
    void aLiveItemTrainerRestoresBitExactFromItsRows() throws Exception {
        List<Example> stream = clicks(BATCH * PUBLISH_EVERY * 8 + 3, 1);
        assertEquals(
                uninterrupted(ITEMS, TimeAlignment.NONE, stream),
                restoredAt(ITEMS, TimeAlignment.NONE, stream, null, 13, 21, 21, 22, 47));
    }

    /**
     * Live mode's checkpoint during a step holds the state of the last version, not the learner's:
     * the rows it writes are those that differ between the previous checkpoint and that state, and
     * the rows of the step applied after it are written by a later checkpoint. Restored from it,
     * and from the next one, the trainer goes on bit-exact.
     */
    @Test
    @Timeout(120)
    void aLiveItemTrainerCheckpointedDuringAStepRestoresBitExact() throws Exception {
        List<Example> stream = clicks(BATCH * PUBLISH_EVERY * 6 + 2, 5);
        Run reference = uninterrupted(ITEMS, TimeAlignment.NONE, stream);
        // Step 1 before the first checkpoint; steps 2 (version 1) and 3 applied; step 4 held.
        int applied = 3 * BATCH;
        int fedWhileHeld = 4 * BATCH + 2;
        OperatorSubtaskState held;
        try (var harness = open(ITEMS, TimeAlignment.NONE, null)) {
            feed(harness, stream.subList(0, BATCH + 1), TimeAlignment.NONE);
            harness.snapshot(1, 1);
            feed(harness, stream.subList(BATCH + 1, applied), TimeAlignment.NONE);
            assertEquals(reference.first(1), Run.of(harness));
            held =
                    OnlineLearner.whileTrainingWaits(
                            () -> {
                                for (Example e : stream.subList(applied, fedWhileHeld)) {
                                    harness.processElement1(e, e.time);
                                }
                                while (!OnlineLearner.aStepWaits()) {
                                    Thread.onSpinWait();
                                }
                                OperatorSubtaskState taken = harness.snapshot(2, 2);
                                assertEquals(1, models(harness).size(), "step 4 is still held");
                                return taken;
                            });
        }
        int next = fedWhileHeld + 2 * BATCH + 1;
        OperatorSubtaskState later;
        Run resumed = reference.first(1);
        try (var harness = open(ITEMS, TimeAlignment.NONE, held)) {
            feed(harness, stream.subList(fedWhileHeld, next), TimeAlignment.NONE);
            later = harness.snapshot(3, 3);
            resumed = resumed.plus(Run.of(harness));
        }
        try (var harness = open(ITEMS, TimeAlignment.NONE, later)) {
            feed(harness, stream.subList(next, stream.size()), TimeAlignment.NONE);
            endOfInput(harness);
            resumed = resumed.plus(Run.of(harness));
        }
        assertEquals(reference, resumed);
    }

    @Test
    void anEventTimeItemTrainerRestoresBitExactFromItsRows() throws Exception {
        List<Example> stream = clicks(BATCH * PUBLISH_EVERY * 8 + 3, 2);
        assertEquals(
                uninterrupted(ITEMS, TimeAlignment.EVENT_TIME, stream),
                restoredAt(ITEMS, TimeAlignment.EVENT_TIME, stream, null, 13, 21, 21, 22, 47));
    }

    @Test
    void aFullSoftmaxTiedItemTrainerRestoresBitExact() throws Exception {
        ModelConfig tied = TrainerTest.SMALL_ITEMS;
        List<Example> stream = clicks(BATCH * PUBLISH_EVERY * 6 + 1, 3);
        assertEquals(
                uninterrupted(tied, TimeAlignment.NONE, stream),
                restoredAt(tied, TimeAlignment.NONE, stream, null, 9, 30));
    }

    /**
     * A checkpoint of an item trainer written by the build that kept the whole model in operator
     * state ({@code trainer-model}; committed under {@code src/test/resources/fixtures/}, written
     * with {@code -Dstreamlearn.write-fixtures=true} by that build): restored, the trainer goes on
     * bit-exact as one that never stopped, and so do trainers restored from its later checkpoints.
     * That build's model had no successor slots: restored (ModelState format 3), it keeps none,
     * though the trainer's config now has them by default, and goes on as one without them.
     */
    @Test
    void restoresAnItemCheckpointFromBeforeKeyedRows() throws Exception {
        String fixture = "src/test/resources/fixtures/trainer-items-checkpoint-v3.bin";
        List<Example> stream = clicks(BATCH * PUBLISH_EVERY * 6 + 2, 4);
        int cut = BATCH * PUBLISH_EVERY * 2 + 1;
        ModelConfig withoutSlots = ITEMS.toBuilder().optItemSuccessors(0).build();
        Run reference = uninterrupted(withoutSlots, TimeAlignment.NONE, stream);
        if (Boolean.getBoolean("streamlearn.write-fixtures")) {
            try (var harness = open(ITEMS, TimeAlignment.NONE, null)) {
                feed(harness, stream.subList(0, cut), TimeAlignment.NONE);
                OperatorSnapshotUtil.writeStateHandle(harness.snapshot(1, 1), fixture);
            }
        }
        Run after =
                restoredAt(
                        ITEMS,
                        TimeAlignment.NONE,
                        stream,
                        OperatorSnapshotUtil.readStateHandle(fixture),
                        cut,
                        cut + 7,
                        cut + 20);
        assertEquals(reference, reference.first(2).plus(after));
    }
}
