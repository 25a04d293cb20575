package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

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
    private static MetricEvent event(String series, long time, double value) {
        return MetricEvent.newBuilder()
                .setSeriesId(series)
                .setEventTime(Instant.ofEpochMilli(time))
                .setValues(List.of(value))
                .build();
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, MetricEvent, Window> harness()
            throws Exception {
        return ProcessFunctionTestHarnesses.forKeyedProcessFunction(
                new SequenceState(3, 1, Duration.ZERO), MetricEvent::getSeriesId, Types.STRING);
    }

    @Test
    void padsShortHistoryAndEmitsExamplesOnlyFromFullWindows() throws Exception {
        try (var harness = harness()) {
            harness.processElement(event("a", 1, 1.0), 1);
            harness.processElement(event("a", 2, 2.0), 2);
            harness.processElement(event("b", 3, 9.0), 3);
            harness.processElement(event("a", 3, 3.0), 3);
            harness.processElement(event("a", 4, 4.0), 4);

            List<Window> windows = harness.extractOutputValues();
            assertEquals(5, windows.size());
            assertArrayEquals(new float[] {1, 1, 1}, windows.get(0).values);
            assertEquals(1, windows.get(0).filled);
            assertArrayEquals(new float[] {1, 1, 2}, windows.get(1).values);
            assertArrayEquals(
                    new float[] {9, 9, 9}, windows.get(2).values, "series are kept apart");
            assertArrayEquals(new float[] {1, 2, 3}, windows.get(3).values);
            assertEquals(3, windows.get(3).filled);
            assertArrayEquals(
                    new float[] {2, 3, 4}, windows.get(4).values, "the oldest value slides out");

            ConcurrentLinkedQueue<StreamRecord<Example>> examples =
                    harness.getSideOutput(SequenceState.EXAMPLES);
            assertEquals(1, examples.size(), "only the event after a full window makes an example");
            Example example = examples.peek().getValue();
            assertArrayEquals(new float[] {1, 2, 3}, example.window);
            assertArrayEquals(new float[] {4}, example.target);
        }
    }

    @Test
    void historySurvivesASnapshotAndRestore() throws Exception {
        OperatorSubtaskState snapshot;
        try (var harness = harness()) {
            harness.processElement(event("a", 1, 1.0), 1);
            harness.processElement(event("a", 2, 2.0), 2);
            snapshot = harness.snapshot(1, 10);
        }
        try (var restored =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new KeyedProcessOperator<>(new SequenceState(3, 1, Duration.ZERO)),
                        MetricEvent::getSeriesId,
                        Types.STRING)) {
            restored.initializeState(snapshot);
            restored.open();
            restored.processElement(event("a", 3, 3.0), 3);
            assertArrayEquals(new float[] {1, 2, 3}, restored.extractOutputValues().get(0).values);
            assertEquals(3, restored.extractOutputValues().get(0).filled);
        }
    }

    @Test
    void usesLateEventsInsteadOfDroppingThem() throws Exception {
        try (var harness = harness()) {
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
                        new SequenceState(3, 1, Duration.ofMillis(100)),
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
            assertArrayEquals(new float[] {4, 4, 4}, after.values);
        }
    }
}
