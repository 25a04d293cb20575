package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.streamlearn.schemas.InteractionEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

class ItemHistoryTest {
    private static InteractionEvent click(String user, long time, String item) {
        return InteractionEvent.newBuilder()
                .setUserId(user)
                .setItemId(item)
                .setEventTime(Instant.ofEpochMilli(time))
                .build();
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, InteractionEvent, ItemQuery>
            harness(Duration ttl) throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new ItemHistory(3, ttl)),
                InteractionEvent::getUserId,
                Types.STRING);
    }

    private static List<Example> examples(
            KeyedOneInputStreamOperatorTestHarness<String, InteractionEvent, ItemQuery> harness) {
        var records = harness.getSideOutput(SequenceState.EXAMPLES);
        return records == null ? List.of() : records.stream().map(StreamRecord::getValue).toList();
    }

    @Test
    void keepsTheLastWindowItemsPerUserAndTurnsEachNextItemIntoAnExample() throws Exception {
        try (var harness = harness(Duration.ZERO)) {
            harness.open();
            String[] items = {"a", "b", "c", "d"};
            for (int i = 0; i < items.length; i++) {
                harness.processElement(click("u", 10 + i, items[i]), 10 + i);
            }
            harness.processElement(click("v", 20, "x"), 20);

            List<ItemQuery> queries = harness.extractOutputValues();
            assertEquals(5, queries.size(), "one query per interaction");
            assertArrayEquals(new String[] {"a"}, queries.get(0).history);
            assertArrayEquals(new String[] {"b", "c", "d"}, queries.get(3).history, "window 3");
            assertEquals("d", queries.get(3).itemId);
            assertArrayEquals(new String[] {"x"}, queries.get(4).history, "users apart");

            List<Example> examples = examples(harness);
            assertEquals(3, examples.size(), "a user's first interaction has no history");
            Example last = examples.get(2);
            assertArrayEquals(new String[] {"a", "b", "c"}, last.history);
            assertEquals("d", last.item);
            assertEquals("u", last.entity);
            assertEquals(13L, last.time);
        }
    }

    @Test
    void theHistorySurvivesARestoreAndExpiresAfterTheTimeToLive() throws Exception {
        OperatorSubtaskState snapshot;
        try (var harness = harness(Duration.ofMillis(100))) {
            harness.open();
            harness.setStateTtlProcessingTime(0);
            harness.processElement(click("u", 1, "a"), 1);
            harness.processElement(click("u", 2, "b"), 2);
            snapshot = harness.snapshot(1, 1);
        }
        try (var restored = harness(Duration.ofMillis(100))) {
            restored.initializeState(snapshot);
            restored.open();
            restored.setStateTtlProcessingTime(50);
            restored.processElement(click("u", 3, "c"), 3);
            assertArrayEquals(
                    new String[] {"a", "b", "c"}, restored.extractOutputValues().get(0).history);
            restored.setStateTtlProcessingTime(1_000);
            restored.processElement(click("u", 4, "d"), 4);
            assertArrayEquals(
                    new String[] {"d"},
                    restored.extractOutputValues().get(1).history,
                    "a user quiet past the time-to-live starts again");
        }
    }
}
