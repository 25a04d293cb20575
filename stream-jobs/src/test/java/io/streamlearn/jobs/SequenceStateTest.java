package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.streamlearn.models.SeriesNormalizer;
import io.streamlearn.schemas.MetricEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

class SequenceStateTest {
    private static final int HORIZON = 100;

    private static MetricEvent event(String series, long time, double value) {
        return MetricEvent.newBuilder()
                .setSeriesId(series)
                .setEventTime(Instant.ofEpochMilli(time))
                .setValues(List.of(value))
                .build();
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, MetricEvent, Window> harness(
            int warmUp) throws Exception {
        return ProcessFunctionTestHarnesses.forKeyedProcessFunction(
                new SequenceState(3, 1, HORIZON, warmUp, Duration.ZERO),
                MetricEvent::getSeriesId,
                Types.STRING);
    }

    /** The z values a series' own normaliser gives, value by value. */
    private static float[] z(double... values) {
        SeriesNormalizer n = new SeriesNormalizer(1);
        float[] z = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            z[i] = n.observe(new float[] {(float) values[i]}, HORIZON)[0];
        }
        return z;
    }

    @Test
    void normalisesEachValueOnceWhenItArrivesAndPadsShortHistory() throws Exception {
        try (var harness = harness(0)) {
            double[] a = {10, 12, 9, 11, 14};
            harness.processElement(event("a", 1, a[0]), 1);
            harness.processElement(event("b", 2, 500.0), 2);
            for (int i = 1; i < a.length; i++) {
                harness.processElement(event("a", i + 1, a[i]), i + 1);
            }
            float[] z = z(a);
            List<Window> windows = harness.extractOutputValues();
            assertEquals(6, windows.size());
            assertArrayEquals(new float[] {z[0], z[0], z[0]}, windows.get(0).values);
            assertEquals(1, windows.get(0).filled);
            assertArrayEquals(new float[] {10f}, windows.get(0).observed);
            assertArrayEquals(new float[] {0f, 0f, 0f}, windows.get(1).values, "series apart");
            assertArrayEquals(new float[] {z[0], z[0], z[1]}, windows.get(2).values);
            assertArrayEquals(
                    new float[] {z[2], z[3], z[4]},
                    windows.get(5).values,
                    "old values keep the z they got when they arrived");
            SeriesNormalizer after = new SeriesNormalizer(1);
            for (double v : a) {
                after.update(new float[] {(float) v}, HORIZON);
            }
            assertEquals((float) after.mean(0), windows.get(5).mean[0]);
            assertEquals((float) after.scale(0), windows.get(5).scale[0]);
        }
    }

    @Test
    void emitsExamplesOnlyFromFullWindowsAfterTheWarmUp() throws Exception {
        for (int warmUp : new int[] {0, 2}) {
            try (var harness = harness(warmUp)) {
                double[] a = {1, 2, 3, 4, 5, 6, 7};
                for (int i = 0; i < a.length; i++) {
                    harness.processElement(event("a", i, a[i]), i);
                }
                ConcurrentLinkedQueue<StreamRecord<Example>> examples =
                        harness.getSideOutput(SequenceState.EXAMPLES);
                // The first example follows a full window whose first value came after warmUp.
                assertEquals(a.length - 3 - warmUp, examples.size(), "warm-up " + warmUp);
                float[] z = z(a);
                Example last = examples.stream().reduce((x, y) -> y).orElseThrow().getValue();
                assertArrayEquals(new float[] {z[3], z[4], z[5]}, last.window);
                assertArrayEquals(new float[] {z[6]}, last.target);
            }
        }
    }

    @Test
    void historyAndStatisticsSurviveASnapshotAndRestore() throws Exception {
        OperatorSubtaskState snapshot;
        try (var harness = harness(0)) {
            harness.processElement(event("a", 1, 1.0), 1);
            harness.processElement(event("a", 2, 2.0), 2);
            snapshot = harness.snapshot(1, 10);
        }
        try (var restored =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new KeyedProcessOperator<>(
                                new SequenceState(3, 1, HORIZON, 0, Duration.ZERO)),
                        MetricEvent::getSeriesId,
                        Types.STRING)) {
            restored.initializeState(snapshot);
            restored.open();
            restored.processElement(event("a", 3, 3.0), 3);
            float[] z = z(1, 2, 3);
            assertArrayEquals(z, restored.extractOutputValues().get(0).values);
            assertEquals(3, restored.extractOutputValues().get(0).filled);
        }
    }

    @Test
    void usesLateEventsInsteadOfDroppingThem() throws Exception {
        try (var harness = harness(0)) {
            harness.processWatermark(100);
            harness.processElement(event("a", 50, 1.0), 50);
            harness.processElement(event("a", 150, 2.0), 150);
            assertEquals(2, harness.extractOutputValues().size(), "a late event is still used");
        }
    }

    @Test
    void forgetsASeriesThatWentQuietForLongerThanTheTimeToLive() throws Exception {
        try (var harness =
                ProcessFunctionTestHarnesses.forKeyedProcessFunction(
                        new SequenceState(3, 1, HORIZON, 0, Duration.ofMillis(100)),
                        MetricEvent::getSeriesId,
                        Types.STRING)) {
            harness.setStateTtlProcessingTime(0);
            harness.processElement(event("a", 1, 1.0), 1);
            harness.processElement(event("a", 2, 2.0), 2);
            harness.setStateTtlProcessingTime(50);
            harness.processElement(event("a", 3, 3.0), 3);
            assertEquals(3, harness.extractOutputValues().get(2).filled, "within the TTL");

            harness.setStateTtlProcessingTime(200);
            harness.processElement(event("a", 4, 4.0), 4);
            Window after = harness.extractOutputValues().get(3);
            assertEquals(1, after.filled, "the history expired: the series starts over");
            assertArrayEquals(new float[] {4}, after.observed);
            // A fresh normaliser: the first value's z is 0 and its mean is that value.
            assertArrayEquals(new float[] {0, 0, 0}, after.values);
            assertArrayEquals(new float[] {4}, after.mean);
        }
    }
}
