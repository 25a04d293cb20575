package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.device.DeviceMode;
import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelState;
import java.util.List;
import java.util.Random;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

class TrainerTest {
    private static final ModelConfig CONFIG =
            ModelConfig.builder().setWindow(4).optHiddenSize(8).build();
    private static final int BATCH = 4;
    private static final int PUBLISH_EVERY = 2;

    private static OneInputStreamOperatorTestHarness<Example, ModelState> harness()
            throws Exception {
        return new OneInputStreamOperatorTestHarness<>(
                new ProcessOperator<>(new Trainer(CONFIG, BATCH, PUBLISH_EVERY, DeviceMode.AUTO)));
    }

    private static List<Example> examples(int count, long seed) {
        Random random = new Random(seed);
        return java.util.stream.IntStream.range(0, count)
                .mapToObj(
                        i -> {
                            float start = random.nextFloat() * 10;
                            float[] window = {start, start + 1, start + 2, start + 3};
                            return new Example(window, new float[] {start + 4});
                        })
                .toList();
    }

    @Test
    void publishesANewVersionEveryKSteps() throws Exception {
        try (var harness = harness()) {
            harness.open();
            for (Example e : examples(BATCH * PUBLISH_EVERY * 3, 1)) {
                harness.processElement(e, 0);
            }
            List<ModelState> published = harness.extractOutputValues();
            assertEquals(List.of(1L, 2L, 3L), published.stream().map(ModelState::version).toList());
            assertEquals(List.of(2L, 4L, 6L), published.stream().map(ModelState::step).toList());
        }
    }

    @Test
    void aRestoredTrainerContinuesExactlyAsOneThatNeverStopped() throws Exception {
        List<Example> stream = examples(BATCH * PUBLISH_EVERY * 4 + 2, 2);
        int cut =
                BATCH * PUBLISH_EVERY * 2
                        + 3; // mid-batch: the pending examples must be restored too

        List<ModelState> uninterrupted;
        try (var harness = harness()) {
            harness.open();
            for (Example e : stream) {
                harness.processElement(e, 0);
            }
            uninterrupted = harness.extractOutputValues();
        }

        OperatorSubtaskState snapshot;
        List<ModelState> before;
        try (var harness = harness()) {
            harness.open();
            for (Example e : stream.subList(0, cut)) {
                harness.processElement(e, 0);
            }
            before = harness.extractOutputValues();
            snapshot = harness.snapshot(1, 1);
        }
        List<ModelState> after;
        try (var restored = harness()) {
            restored.initializeState(snapshot);
            restored.open();
            for (Example e : stream.subList(cut, stream.size())) {
                restored.processElement(e, 0);
            }
            after = restored.extractOutputValues();
        }

        assertTrue(!after.isEmpty());
        assertEquals(
                before.get(before.size() - 1).version() + 1,
                after.get(0).version(),
                "the version sequence continues");
        List<ModelState> resumed = new java.util.ArrayList<>(before);
        resumed.addAll(after);
        assertEquals(uninterrupted, resumed, "weights, moments, steps and versions are bit-exact");
    }
}
