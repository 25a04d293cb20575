package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.device.DeviceMode;
import io.streamlearn.models.ForecasterConfig;
import io.streamlearn.models.ModelState;
import io.streamlearn.models.OnlineLearner;
import io.streamlearn.schemas.Prediction;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.co.CoBroadcastWithKeyedOperator;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PredictorTest {
    private static final ForecasterConfig CONFIG =
            ForecasterConfig.builder().setWindow(3).optHiddenSize(8).build();
    private static ModelState version1;
    private static ModelState version2;

    @BeforeAll
    static void models() {
        try (OnlineLearner learner = new OnlineLearner(CONFIG)) {
            learner.nextVersion();
            version1 = learner.snapshot();
            learner.nextVersion();
            version2 = learner.snapshot();
        }
    }

    private static KeyedBroadcastOperatorTestHarness<String, Window, ModelState, Prediction>
            harness() throws Exception {
        return ProcessFunctionTestHarnesses.forKeyedBroadcastProcessFunction(
                new Predictor(1, 100, DeviceMode.CPU),
                w -> w.seriesId,
                Types.STRING,
                Predictor.MODEL);
    }

    private static Window window(String series, long time, float... values) {
        return new Window(series, time, values, values.length);
    }

    @Test
    void buffersWindowsUntilTheFirstModelThenFlushesThemInOrder() throws Exception {
        try (var harness = harness()) {
            harness.setProcessingTime(0);
            harness.processElement(window("a", 1, 1, 1, 1), 1);
            harness.processElement(window("a", 2, 1, 1, 2), 2);
            harness.processElement(window("b", 3, 5, 5, 5), 3);
            assertTrue(
                    harness.extractOutputValues().isEmpty(),
                    "nothing is predicted without a model");

            harness.setProcessingTime(100);
            assertTrue(
                    harness.extractOutputValues().isEmpty(),
                    "still no model: the windows stay buffered");

            harness.processBroadcastElement(version1, 4);
            harness.setProcessingTime(200);

            List<Prediction> out = harness.extractOutputValues();
            assertEquals(3, out.size(), "every buffered window is answered once");
            assertEquals(
                    List.of("a", "a", "b"),
                    out.stream().map(Prediction::getEntityId).sorted().toList());
            Prediction firstA =
                    out.stream().filter(p -> p.getEntityId().equals("a")).findFirst().orElseThrow();
            Prediction secondA =
                    out.stream()
                            .filter(p -> p.getEntityId().equals("a"))
                            .skip(1)
                            .findFirst()
                            .orElseThrow();
            assertEquals(
                    1L, firstA.getEventTime().toEpochMilli(), "a series' windows keep their order");
            assertNull(firstA.getError(), "the first prediction has nothing to be scored against");
            assertNotNull(secondA.getError(), "the second one scores the first");
            assertEquals(
                    1.0,
                    secondA.getBaselineError(),
                    1e-6,
                    "naive forecast 1 against the observed 2");
            assertEquals(1L, secondA.getModelVersion());

            harness.setProcessingTime(1000);
            assertEquals(
                    3,
                    harness.extractOutputValues().size(),
                    "a flushed window is not answered twice");
        }
    }

    @Test
    void servesTheNewestModelAndNeverGoesBack() throws Exception {
        try (var harness = harness()) {
            harness.processBroadcastElement(version2, 1);
            harness.processBroadcastElement(version1, 2);
            harness.processElement(window("a", 1, 1, 2, 3), 3);
            assertEquals(2L, harness.extractOutputValues().get(0).getModelVersion());
        }
    }

    @Test
    void pendingWindowsAndTheModelSurviveARestore() throws Exception {
        OperatorSubtaskState snapshot;
        try (var harness = harness()) {
            harness.processElement(window("a", 1, 1, 1, 1), 1);
            snapshot = harness.snapshot(1, 1);
        }
        var operator =
                new CoBroadcastWithKeyedOperator<>(
                        new Predictor(1, 100, DeviceMode.CPU), List.of(Predictor.MODEL));
        try (var restored =
                new KeyedBroadcastOperatorTestHarness<>(
                        operator, (Window w) -> w.seriesId, Types.STRING, 1, 1, 0)) {
            restored.setup();
            restored.initializeState(snapshot);
            restored.open();
            restored.processBroadcastElement(version1, 2);
            restored.setProcessingTime(1_000);
            assertEquals(
                    1,
                    restored.extractOutputValues().size(),
                    "the window buffered before the snapshot is answered");
        }
    }
}
