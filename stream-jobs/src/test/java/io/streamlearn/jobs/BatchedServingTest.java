package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.device.DeviceMode;
import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelState;
import io.streamlearn.models.OnlineLearner;
import io.streamlearn.schemas.AnomalyScore;
import io.streamlearn.schemas.Prediction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Micro-batched serving ({@link BatchedServing}, {@link ModelServing}): answers equal one query at
 * a time, in each series' order, when a batch is answered, and nothing lost across a checkpoint.
 */
class BatchedServingTest {
    /** The default recurrent family, stepping its state between recomputations. */
    private static final ModelConfig CONFIG =
            ModelConfig.builder().setWindow(3).optHiddenSize(8).build();

    private static final int BATCH = ModelServing.Batching.defaults().size();

    private static ModelState model;

    @BeforeAll
    static void train() {
        float[][] windows = {{0.5f, -0.2f, 0.1f}, {-1f, 0f, 1f}};
        float[][] targets = {{0.3f}, {1.5f}};
        try (OnlineLearner learner = new OnlineLearner(CONFIG)) {
            for (int i = 0; i < 5; i++) {
                learner.train(windows, targets);
            }
            learner.nextVersion();
            model = learner.snapshot();
        }
    }

    /** Stepping the carried state: a series' answers chain. */
    private static Predictor live() {
        return live(3);
    }

    private static Predictor live(int recomputeEvery) {
        return new Predictor(1, 100, recomputeEvery, false, DeviceMode.CPU);
    }

    private static Predictor aligned() {
        return new Predictor(
                CONFIG,
                TimeAlignment.EVENT_TIME,
                100,
                3,
                false,
                Duration.ZERO,
                null,
                DeviceMode.CPU,
                JobSettings.Anomaly.defaults(),
                ModelServing.Batching.defaults());
    }

    /** Events of 100 series in a shuffled order, several per series, times increasing. */
    private static List<Window> events() {
        Random random = new Random(3);
        List<Window> events = new ArrayList<>();
        Map<String, float[]> last = new HashMap<>();
        for (int t = 0; t < 600; t++) {
            String series = "s" + random.nextInt(100);
            float[] before = last.getOrDefault(series, new float[] {0f, 0f});
            float value = (float) random.nextGaussian();
            events.add(
                    new Window(
                            series,
                            t,
                            new float[] {before[0], before[1], value},
                            3,
                            new float[] {value},
                            new float[] {0f},
                            new float[] {1f}));
            last.put(series, new float[] {before[1], value});
        }
        return events;
    }

    /** Each series' predictions in the order they came out. */
    private static Map<String, List<Prediction>> bySeries(List<Prediction> out) {
        Map<String, List<Prediction>> series = new HashMap<>();
        for (Prediction p : out) {
            series.computeIfAbsent(p.getEntityId(), s -> new ArrayList<>()).add(p);
        }
        return series;
    }

    /** The same events answered one at a time, by Flink's own operator. */
    private static Map<String, List<Prediction>> oneAtATime(List<Window> events) throws Exception {
        return oneAtATime(events, 3);
    }

    private static Map<String, List<Prediction>> oneAtATime(List<Window> events, int recomputeEvery)
            throws Exception {
        try (var harness =
                ProcessFunctionTestHarnesses.forKeyedBroadcastProcessFunction(
                        live(recomputeEvery),
                        (Window w) -> w.seriesId,
                        Types.STRING,
                        ModelServing.MODEL,
                        ModelServing.MODELS_BY_TIME)) {
            harness.processBroadcastElement(new ModelUpdate(model, 0), 0);
            for (Window w : events) {
                harness.processElement(w, w.eventTime);
            }
            return bySeries(harness.extractOutputValues());
        }
    }

    private static void assertSameAnswers(
            Map<String, List<Prediction>> expected, Map<String, List<Prediction>> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        for (var e : expected.entrySet()) {
            List<Prediction> want = e.getValue();
            List<Prediction> got = actual.get(e.getKey());
            assertEquals(want.size(), got.size(), e.getKey());
            for (int i = 0; i < want.size(); i++) {
                String at = e.getKey() + " #" + i;
                assertEquals(want.get(i).getEventTime(), got.get(i).getEventTime(), at);
                assertEquals(
                        want.get(i).getPredicted().get(0),
                        got.get(i).getPredicted().get(0),
                        1e-6,
                        at);
                assertEquals(
                        want.get(i).getPredictedStdDev().get(0),
                        got.get(i).getPredictedStdDev().get(0),
                        1e-6,
                        at);
                if (want.get(i).getLoss() != null) {
                    assertEquals(want.get(i).getLoss(), got.get(i).getLoss(), 1e-5, at);
                }
            }
        }
    }

    /** Stepping from carried states (a series' answers chain), and recomputing at every event. */
    @ParameterizedTest
    @ValueSource(ints = {3, 0})
    void batchedAnswersEqualOneAtATimeAndKeepEachSeriesOrder(int recomputeEvery) throws Exception {
        List<Window> events = events();
        Map<String, List<Prediction>> expected = oneAtATime(events, recomputeEvery);
        try (var harness = ServingHarness.of(live(recomputeEvery), (Window w) -> w.seriesId)) {
            harness.processBroadcastElement(new ModelUpdate(model, 0), 0);
            for (Window w : events) {
                harness.processElement(w, w.eventTime);
            }
            ServingHarness.passDeadline(harness);
            List<Prediction> out = harness.extractOutputValues();
            assertEquals(events.size(), out.size(), "every event answered once");
            assertSameAnswers(expected, bySeries(out));
            List<StreamRecord<AnomalyScore>> scores =
                    new ArrayList<>(harness.getSideOutput(Predictor.ANOMALY_SCORES));
            assertEquals(events.size(), scores.size(), "one anomaly score per event");
            for (StreamRecord<AnomalyScore> s : scores) {
                assertEquals(
                        s.getValue().getEventTime().toEpochMilli(),
                        s.getTimestamp(),
                        "a score keeps its event's timestamp");
            }
        }
    }

    @Test
    void queriesWaitForAFullBatchOrTheDeadline() throws Exception {
        try (var harness = ServingHarness.of(live(), (Window w) -> w.seriesId)) {
            harness.processBroadcastElement(new ModelUpdate(model, 0), 0);
            for (int i = 0; i < BATCH - 1; i++) {
                harness.processElement(window("s" + i, i), i);
            }
            assertTrue(harness.extractOutputValues().isEmpty(), "the batch is not full yet");
            harness.processElement(window("s" + (BATCH - 1), BATCH - 1), BATCH - 1);
            assertEquals(BATCH, harness.extractOutputValues().size(), "a full batch is answered");

            harness.processElement(window("late", 1000), 1000);
            assertEquals(BATCH, harness.extractOutputValues().size());
            ServingHarness.passDeadline(harness);
            List<Prediction> out = harness.extractOutputValues();
            assertEquals(BATCH + 1, out.size(), "the deadline answers a partial batch");
            assertEquals("late", out.get(BATCH).getEntityId());
        }
    }

    @Test
    void aSeriesWhoseAnswersDoNotChainSharesABatch() throws Exception {
        try (var harness = ServingHarness.of(live(0), (Window w) -> w.seriesId)) {
            harness.processBroadcastElement(new ModelUpdate(model, 0), 0);
            for (int t = 0; t < 10; t++) {
                harness.processElement(window("a", t), t);
            }
            assertTrue(harness.extractOutputValues().isEmpty(), "one batch, still open");
            ServingHarness.passDeadline(harness);
            List<Prediction> out = harness.extractOutputValues();
            assertEquals(
                    List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L),
                    out.stream().map(p -> p.getEventTime().toEpochMilli()).toList());
            assertTrue(out.get(0).getLoss() == null, "the first answer has nothing to score");
            for (int i = 1; i < out.size(); i++) {
                assertTrue(out.get(i).getLoss() != null, "answer " + i + " scores the one before");
            }
        }
    }

    @Test
    void aSecondQueryOfASeriesAnswersTheBatchFirst() throws Exception {
        try (var harness = ServingHarness.of(live(), (Window w) -> w.seriesId)) {
            harness.processBroadcastElement(new ModelUpdate(model, 0), 0);
            harness.processElement(window("a", 1), 1);
            harness.processElement(window("b", 2), 2);
            assertTrue(harness.extractOutputValues().isEmpty());
            harness.processElement(window("a", 3), 3);
            List<Prediction> out = harness.extractOutputValues();
            assertEquals(List.of("a", "b"), out.stream().map(Prediction::getEntityId).toList());
            ServingHarness.passDeadline(harness);
            Prediction second = harness.extractOutputValues().get(2);
            assertEquals(3L, second.getEventTime().toEpochMilli());
            assertTrue(second.getLoss() != null, "it scores the first answer's forecast");
        }
    }

    @Test
    void inEventTimeTheAnswersPrecedeTheWatermarkThatReleasedThem() throws Exception {
        List<Window> events = events();
        try (var harness = ServingHarness.of(aligned(), (Window w) -> w.seriesId)) {
            harness.processBroadcastElement(new ModelUpdate(model, -1), -1);
            for (Window w : events) {
                harness.processElement(w, w.eventTime);
            }
            harness.watermark(299);
            harness.watermark(Long.MAX_VALUE);
            ServingHarness.passDeadline(harness);
            long watermark = Long.MIN_VALUE;
            List<Long> watermarks = new ArrayList<>();
            for (Object o : harness.getOutput()) {
                if (o instanceof Watermark w) {
                    watermark = w.getTimestamp();
                    watermarks.add(watermark);
                } else {
                    long time = ((StreamRecord<?>) o).getTimestamp();
                    assertTrue(time > watermark, time + " answered after watermark " + watermark);
                }
            }
            assertEquals(List.of(299L, Long.MAX_VALUE), watermarks);
            List<Prediction> out = harness.extractOutputValues();
            assertEquals(events.size(), out.size());
            for (Prediction p : out) {
                assertEquals(1L, p.getModelVersion());
            }
            assertSameAnswers(oneAtATime(events), bySeries(out));
        }
    }

    @Test
    void aWatermarkAtEveryEventWaitsForTheBatchInsteadOfAnsweringIt() throws Exception {
        try (var harness = ServingHarness.of(aligned(), (Window w) -> w.seriesId)) {
            harness.processBroadcastElement(new ModelUpdate(model, -1), -1);
            for (int t = 0; t < 10; t++) {
                harness.processElement(window("s" + t, t), t);
                harness.watermark(t);
            }
            assertTrue(
                    harness.getOutput().isEmpty(),
                    "answers and watermarks wait: " + harness.getOutput());
            ServingHarness.passDeadline(harness);
            List<Object> output = new ArrayList<>(harness.getOutput());
            assertEquals(11, output.size(), "ten answers in one batch, then the newest watermark");
            assertEquals(new Watermark(9), output.get(10));
        }
    }

    @Test
    void aCheckpointAnswersTheBatchAndARestoreLosesNothing() throws Exception {
        List<Window> events = events();
        List<Window> before = events.subList(0, 250);
        List<Window> after = events.subList(250, events.size());
        List<Prediction> out = new ArrayList<>();
        OperatorSubtaskState snapshot;
        try (var harness = ServingHarness.of(live(), (Window w) -> w.seriesId)) {
            harness.processBroadcastElement(new ModelUpdate(model, 0), 0);
            for (Window w : before) {
                harness.processElement(w, w.eventTime);
            }
            assertTrue(harness.extractOutputValues().size() < before.size(), "a batch is open");
            harness.prepareSnapshotPreBarrier(1);
            assertEquals(
                    before.size(),
                    harness.extractOutputValues().size(),
                    "answered before the barrier");
            snapshot = harness.snapshot(1, 1);
            out.addAll(harness.extractOutputValues());
            // What follows the checkpoint is lost with the failure.
            harness.processElement(after.get(0), after.get(0).eventTime);
        }
        try (var restored =
                new KeyedBroadcastOperatorTestHarness<>(
                        new BatchedServing<>(live()),
                        (Window w) -> w.seriesId,
                        Types.STRING,
                        1,
                        1,
                        0)) {
            restored.setup();
            restored.initializeState(snapshot);
            restored.open();
            for (Window w : after) {
                restored.processElement(w, w.eventTime);
            }
            restored.getTwoInputOperator().finish();
            out.addAll(restored.extractOutputValues());
        }
        assertEquals(events.size(), out.size(), "every event answered exactly once");
        assertSameAnswers(oneAtATime(events), bySeries(out));
    }

    private static Window window(String series, long time) {
        return new Window(
                series,
                time,
                new float[] {0.1f, 0.2f, 0.3f},
                3,
                new float[] {0.3f},
                new float[] {0f},
                new float[] {1f});
    }
}
