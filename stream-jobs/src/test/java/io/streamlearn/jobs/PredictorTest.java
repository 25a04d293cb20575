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
import io.streamlearn.schemas.AnomalyScore;
import io.streamlearn.schemas.Prediction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
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

    private static KeyedBroadcastOperatorTestHarness<String, Window, ModelUpdate, Prediction>
            harness() throws Exception {
        return ServingHarness.of(
                new Predictor(1, 100, 0, false, DeviceMode.CPU), (Window w) -> w.seriesId);
    }

    private static ModelUpdate update(ModelState model) {
        return new ModelUpdate(model, ModelUpdate.NOTHING_LEARNED);
    }

    /** A predictor in event-time alignment; version 0 is CONFIG's seeded model. */
    private static KeyedBroadcastOperatorTestHarness<String, Window, ModelUpdate, Prediction>
            aligned(ModelConfig config) throws Exception {
        return ServingHarness.of(
                new Predictor(
                        config,
                        TimeAlignment.EVENT_TIME,
                        100,
                        0,
                        false,
                        Duration.ZERO,
                        null,
                        DeviceMode.CPU,
                        JobSettings.Anomaly.defaults(),
                        ModelServing.Batching.defaults()),
                (Window w) -> w.seriesId);
    }

    private static List<AnomalyScore> scores(
            KeyedBroadcastOperatorTestHarness<String, Window, ModelUpdate, Prediction> harness) {
        var records = harness.getSideOutput(Predictor.ANOMALY_SCORES);
        return records == null ? List.of() : records.stream().map(StreamRecord::getValue).toList();
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

            harness.processBroadcastElement(update(version1), 4);
            harness.setProcessingTime(200);
            ServingHarness.passDeadline(harness);

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
            harness.processBroadcastElement(update(version1), 1);
            harness.processElement(window("a", 1, 1, 1, 1), 2);
            harness.processElement(window("a", 2, 1, 1, 2), 3);
            ServingHarness.passDeadline(harness);
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
                ServingHarness.of(
                        new Predictor(1, 100, 2, false, DeviceMode.CPU),
                        (Window w) -> w.seriesId)) {
            harness.processBroadcastElement(update(version1), 1);
            for (int i = 0; i < windows.length; i++) {
                harness.processElement(window("a", i, windows[i]), i);
            }
            ServingHarness.passDeadline(harness);
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
                ServingHarness.of(
                        new Predictor(1, 100, 100, true, DeviceMode.CPU),
                        (Window w) -> w.seriesId)) {
            harness.processBroadcastElement(update(version1), 1);
            harness.processElement(window("a", 1, windows[0]), 2);
            harness.processBroadcastElement(update(version2), 3);
            harness.processElement(window("a", 2, windows[1]), 4);
            ServingHarness.passDeadline(harness);
            Prediction second = harness.extractOutputValues().get(1);
            assertEquals(2L, second.getModelVersion());
            assertEquals(expected, second.getPredicted().get(0), 1e-6);
        }
    }

    @Test
    void servesTheNewestModelAndNeverGoesBack() throws Exception {
        try (var harness = harness()) {
            harness.processBroadcastElement(update(version2), 1);
            harness.processBroadcastElement(update(version1), 2);
            harness.processElement(window("a", 1, 1, 2, 3), 3);
            ServingHarness.passDeadline(harness);
            assertEquals(2L, harness.extractOutputValues().get(0).getModelVersion());
        }
    }

    @Test
    void inEventTimeEachWindowWaitsForTheWatermarkAndTheNewestVersionTrainedBeforeIt()
            throws Exception {
        try (var harness = aligned(CONFIG)) {
            harness.processElement(window("a", 10, 1, 1, 1), 10);
            harness.processElement(window("a", 20, 1, 1, 2), 20);
            harness.processElement(window("b", 30, 5, 5, 5), 30);
            // The trainer ran ahead: version 2 has learned from an example at 25.
            harness.processBroadcastElement(new ModelUpdate(version1, 5), 5);
            harness.processBroadcastElement(new ModelUpdate(version2, 25), 25);
            assertTrue(harness.extractOutputValues().isEmpty(), "nothing before the watermark");

            harness.processWatermark(9);
            harness.processBroadcastWatermark(9);
            assertTrue(harness.extractOutputValues().isEmpty(), "the watermark is before 10");

            harness.processWatermark(30);
            assertTrue(
                    harness.extractOutputValues().isEmpty(),
                    "the trainer's watermark holds the predictor back too");
            harness.processBroadcastWatermark(30);
            ServingHarness.passDeadline(harness);
            List<Prediction> out = harness.extractOutputValues();
            assertEquals(
                    List.of(10L, 20L, 30L),
                    out.stream().map(p -> p.getEventTime().toEpochMilli()).toList());
            assertEquals(
                    List.of(1L, 1L, 2L),
                    out.stream().map(Prediction::getModelVersion).toList(),
                    "at 10 and 20 only version 1 had learned from earlier events alone");
            assertEquals(3, scores(harness).size(), "one anomaly score per window");
        }
    }

    @Test
    void inEventTimeVersionZeroAnswersBeforeAnyVersionAndLateWindowsAreAnsweredAtOnce()
            throws Exception {
        ModelState seeded;
        try (OnlineLearner fresh = new OnlineLearner(CONFIG)) {
            seeded = fresh.snapshot();
        }
        double expected;
        try (Forecaster forecaster = Forecaster.create(seeded)) {
            expected = forecaster.forecast(new float[][] {{1, 1, 1}}).mean(0)[0];
        }
        try (var harness = aligned(CONFIG)) {
            harness.processBroadcastElement(new ModelUpdate(version1, 50), 50);
            harness.processElement(window("a", 10, 1, 1, 1), 10);
            harness.watermark(40);
            ServingHarness.passDeadline(harness);
            Prediction first = harness.extractOutputValues().get(0);
            assertEquals(0L, first.getModelVersion(), "nothing was learned before 10");
            assertEquals(expected, first.getPredicted().get(0), 1e-6);

            harness.processElement(window("b", 35, 1, 1, 1), 35);
            ServingHarness.passDeadline(harness);
            assertEquals(2, harness.extractOutputValues().size(), "late: answered at once");
        }
    }

    @Test
    void aSpikeScoresAnAnomalyLikelihoodAboveTheOrdinaryEvents() throws Exception {
        int spikeAt = StreamlearnOptions.ANOMALY_WARM_UP.defaultValue() + 130;
        try (var harness = harness()) {
            harness.processBroadcastElement(update(version1), 0);
            // Past the detector's warm-up and its 100 scores of history, then a spike.
            float[] values = new float[spikeAt + 2];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) Math.sin(i / 3.0) * 0.5f;
            }
            values[spikeAt] = 8f;
            for (int i = 2; i < values.length; i++) {
                harness.processElement(window("a", i, values[i - 2], values[i - 1], values[i]), i);
            }
            ServingHarness.passDeadline(harness);
            List<AnomalyScore> scores = scores(harness);
            assertEquals(values.length - 2, scores.size(), "one score per event");
            assertEquals(0.0, scores.get(0).getLikelihood(), "the warm-up does not alert");
            double spike = scores.get(spikeAt - 2).getLikelihood();
            assertEquals(8.0, scores.get(spikeAt - 2).getValues().get(0), 1e-6);
            for (int i = 0; i < spikeAt - 2; i++) {
                double l = scores.get(i).getLikelihood();
                assertTrue(l >= 0 && l <= 1, "in [0, 1]: " + l);
                assertTrue(l < spike, "event " + i + " " + l + " below the spike " + spike);
            }
            assertEquals(1.0, spike, "beyond the range seen so far: " + spike);
        }
    }

    @Test
    void anAutoencoderScoresEveryWindowAndPredictsNothing() throws Exception {
        ModelConfig autoencoder =
                ModelConfig.builder()
                        .setTask(ModelConfig.Task.RECONSTRUCTION)
                        .setFamily(ModelConfig.Family.LSTM_AUTOENCODER)
                        .setWindow(3)
                        .optHiddenSize(4)
                        .build();
        try (var harness = aligned(autoencoder)) {
            for (int i = 0; i < 5; i++) {
                harness.processElement(window("a", i, 1, 2, i), i);
            }
            harness.watermark(Long.MAX_VALUE);
            ServingHarness.passDeadline(harness);
            assertTrue(harness.extractOutputValues().isEmpty(), "no forecast, no prediction");
            List<AnomalyScore> scores = scores(harness);
            assertEquals(5, scores.size());
            assertEquals(0L, scores.get(0).getModelVersion());
            assertTrue(scores.stream().allMatch(s -> s.getLikelihood() == 0.0), "warming up");
        }
    }

    @Test
    void aSnapshotOfTheProcessFunctionRestoresIntoTheBatchingOperator() throws Exception {
        // The jobs wired the predictor with .process() before BatchedServing: the same states.
        OperatorSubtaskState snapshot;
        try (var harness =
                ProcessFunctionTestHarnesses.forKeyedBroadcastProcessFunction(
                        new Predictor(1, 100, 0, false, DeviceMode.CPU),
                        (Window w) -> w.seriesId,
                        Types.STRING,
                        ModelServing.MODEL,
                        ModelServing.MODELS_BY_TIME)) {
            harness.processElement(window("a", 1, 1, 1, 1), 1);
            snapshot = harness.snapshot(1, 1);
        }
        var operator = new BatchedServing<>(new Predictor(1, 100, 0, false, DeviceMode.CPU));
        try (var restored =
                new KeyedBroadcastOperatorTestHarness<>(
                        operator, (Window w) -> w.seriesId, Types.STRING, 1, 1, 0)) {
            restored.setup();
            restored.initializeState(snapshot);
            restored.open();
            restored.processBroadcastElement(update(version1), 2);
            restored.setProcessingTime(1_000);
            ServingHarness.passDeadline(restored);
            assertEquals(
                    1,
                    restored.extractOutputValues().size(),
                    "the window buffered before the snapshot is answered");
        }
    }
}
