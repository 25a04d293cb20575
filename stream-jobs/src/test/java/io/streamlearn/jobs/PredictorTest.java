package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.device.DeviceMode;
import io.streamlearn.models.Forecaster;
import io.streamlearn.models.Forecasts;
import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelState;
import io.streamlearn.models.OnlineLearner;
import io.streamlearn.models.RecurrentState;
import io.streamlearn.schemas.Prediction;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.co.CoBroadcastWithKeyedOperator;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PredictorTest {
    private static final ModelConfig CONFIG =
            ModelConfig.builder().setWindow(3).optHiddenSize(8).build();
    private static ModelState version1;
    private static ModelState version2;

    @BeforeAll
    static void models() {
        float[][] windows = {{0.5f, -0.2f, 0.1f}, {-1f, 0f, 1f}};
        float[][] targets = {{0.3f}, {1.5f}};
        try (OnlineLearner learner = new OnlineLearner(CONFIG)) {
            for (int i = 0; i < 5; i++) {
                learner.train(windows, targets);
            }
            learner.nextVersion();
            version1 = learner.snapshot();
            for (int i = 0; i < 5; i++) {
                learner.train(windows, targets);
            }
            learner.nextVersion();
            version2 = learner.snapshot();
        }
    }

    private static KeyedBroadcastOperatorTestHarness<String, Window, ModelState, Prediction>
            harness() throws Exception {
        return ProcessFunctionTestHarnesses.forKeyedBroadcastProcessFunction(
                new Predictor(1, 100, 0, false, DeviceMode.CPU),
                w -> w.seriesId,
                Types.STRING,
                Predictor.MODEL);
    }

    /** A window whose normalised values equal the raw ones (mean 0, scale 1). */
    private static Window window(String series, long time, float... values) {
        return new Window(
                series,
                time,
                values,
                values.length,
                new float[] {values[values.length - 1]},
                new float[] {0f},
                new float[] {1f});
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
    void predictionsCarryTheirSpreadAndScoreThePreviousForecast() throws Exception {
        try (var harness = harness()) {
            harness.processBroadcastElement(version1, 1);
            harness.processElement(window("a", 1, 1, 1, 1), 2);
            harness.processElement(window("a", 2, 1, 1, 2), 3);
            List<Prediction> out = harness.extractOutputValues();
            Prediction first = out.get(0);
            assertNull(first.getLoss());
            Forecasts expected;
            try (Forecaster forecaster = Forecaster.create(version1)) {
                expected = forecaster.forecast(new float[][] {{1, 1, 1}});
            }
            assertEquals(expected.mean(0)[0], first.getPredicted().get(0), 1e-6);
            assertEquals(expected.stdDev(0)[0], first.getPredictedStdDev().get(0), 1e-6);
            assertEquals(
                    Forecasts.surprise(expected.mean(0), expected.logVariance(0), new float[] {2}),
                    out.get(1).getLoss(),
                    1e-6,
                    "the second prediction scores the first forecast's Gaussian");
            assertEquals(Math.abs(2 - expected.mean(0)[0]), out.get(1).getError(), 1e-6);
        }
    }

    @Test
    void recurrentSeriesStepTheirStateUntilItIsRecomputed() throws Exception {
        float[][] windows = {{1, 1, 1}, {1, 1, 2}, {1, 2, 3}, {2, 3, 5}, {3, 5, 8}};
        List<Double> expected = new ArrayList<>();
        try (Forecaster forecaster = Forecaster.create(version1)) {
            Forecasts f = forecaster.forecast(new float[][] {windows[0]});
            expected.add((double) f.mean(0)[0]);
            for (int i = 1; i < 3; i++) {
                f =
                        forecaster.step(
                                new RecurrentState[] {f.state(0)}, new float[][] {{windows[i][2]}});
                expected.add((double) f.mean(0)[0]);
            }
            f = forecaster.forecast(new float[][] {windows[3]});
            expected.add((double) f.mean(0)[0]);
            f = forecaster.step(new RecurrentState[] {f.state(0)}, new float[][] {{windows[4][2]}});
            expected.add((double) f.mean(0)[0]);
        }
        try (var harness =
                ProcessFunctionTestHarnesses.forKeyedBroadcastProcessFunction(
                        new Predictor(1, 100, 2, false, DeviceMode.CPU),
                        (Window w) -> w.seriesId,
                        Types.STRING,
                        Predictor.MODEL)) {
            harness.processBroadcastElement(version1, 1);
            for (int i = 0; i < windows.length; i++) {
                harness.processElement(window("a", i, windows[i]), i);
            }
            List<Double> predicted =
                    harness.extractOutputValues().stream()
                            .map(p -> p.getPredicted().get(0))
                            .toList();
            for (int i = 0; i < windows.length; i++) {
                assertEquals(expected.get(i), predicted.get(i), 1e-6, "event " + i);
            }
        }
    }

    @Test
    void aNewModelVersionRecomputesTheStateWhenAskedTo() throws Exception {
        float[][] windows = {{1, 1, 1}, {1, 1, 2}};
        double expected;
        try (Forecaster forecaster = Forecaster.create(version2)) {
            expected = forecaster.forecast(new float[][] {windows[1]}).mean(0)[0];
        }
        try (var harness =
                ProcessFunctionTestHarnesses.forKeyedBroadcastProcessFunction(
                        new Predictor(1, 100, 100, true, DeviceMode.CPU),
                        (Window w) -> w.seriesId,
                        Types.STRING,
                        Predictor.MODEL)) {
            harness.processBroadcastElement(version1, 1);
            harness.processElement(window("a", 1, windows[0]), 2);
            harness.processBroadcastElement(version2, 3);
            harness.processElement(window("a", 2, windows[1]), 4);
            Prediction second = harness.extractOutputValues().get(1);
            assertEquals(2L, second.getModelVersion());
            assertEquals(expected, second.getPredicted().get(0), 1e-6);
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
                        new Predictor(1, 100, 0, false, DeviceMode.CPU), List.of(Predictor.MODEL));
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
