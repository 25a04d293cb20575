package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Test;

class WaitingQueriesTest {

    /**
     * Commands {@code key:op}: {@code +x} adds x; {@code <x} emits and takes off the head while the
     * queries are at most x; {@code *} emits and takes off every query; {@code ?} emits whether the
     * queue is empty; {@code -n} takes n queries off unseen.
     */
    private static final class Commands extends KeyedProcessFunction<String, String, String> {
        private transient WaitingQueries<String> queue;

        @Override
        public void open(OpenContext context) {
            queue = new WaitingQueries<>(getRuntimeContext(), Types.STRING);
        }

        @Override
        public void processElement(String command, Context ctx, Collector<String> out)
                throws Exception {
            String op = command.substring(command.indexOf(':') + 1);
            switch (op.charAt(0)) {
                case '+' -> queue.add(op.substring(1));
                case '<' -> {
                    List<String> head = queue.headWhile(q -> q.compareTo(op.substring(1)) <= 0);
                    head.forEach(out::collect);
                    queue.remove(head.size());
                }
                case '*' -> queue.drain().forEach(out::collect);
                case '-' -> queue.remove(Integer.parseInt(op.substring(1)));
                case '?' -> out.collect(queue.isEmpty() ? "empty" : "waiting");
                default -> throw new IllegalArgumentException("unknown command " + command);
            }
        }
    }

    /** What an older job kept: the waiting queries as the list state {@code pending}. */
    private static final class PreviousFormat extends KeyedProcessFunction<String, String, String> {
        private transient ListState<String> pending;

        @Override
        public void open(OpenContext context) {
            pending =
                    getRuntimeContext()
                            .getListState(new ListStateDescriptor<>("pending", Types.STRING));
        }

        @Override
        public void processElement(String command, Context ctx, Collector<String> out)
                throws Exception {
            pending.add(command.substring(command.indexOf(':') + 2));
        }
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, String, String> harness(
            KeyedProcessFunction<String, String, String> function) throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(function),
                command -> command.substring(0, command.indexOf(':')),
                Types.STRING);
    }

    private static void send(
            KeyedOneInputStreamOperatorTestHarness<String, String, String> harness,
            String... commands)
            throws Exception {
        for (String c : commands) {
            harness.processElement(c, 0);
        }
    }

    @Test
    void eachEntityKeepsItsQueriesInArrivalOrder() throws Exception {
        try (var harness = harness(new Commands())) {
            harness.open();
            send(harness, "a:+3", "b:+1", "a:+1", "a:+5", "b:+2", "a:+2");
            // The head stops at the first query refused (5), even though 2 behind it would do.
            send(harness, "a:<4");
            assertEquals(List.of("3", "1"), harness.extractOutputValues());
            harness.getOutput().clear();
            send(harness, "a:<4", "b:*", "a:*", "a:?", "b:?");
            assertEquals(
                    List.of("1", "2", "5", "2", "empty", "empty"), harness.extractOutputValues());
        }
    }

    @Test
    void anEmptiedQueueTakesNewQueries() throws Exception {
        try (var harness = harness(new Commands())) {
            harness.open();
            send(harness, "a:+1", "a:<1", "a:?", "a:+2", "a:+3", "a:?", "a:*");
            assertEquals(List.of("1", "empty", "waiting", "2", "3"), harness.extractOutputValues());
        }
    }

    @Test
    void takingMoreThanWaitsIsRefused() throws Exception {
        try (var harness = harness(new Commands())) {
            harness.open();
            send(harness, "a:+1");
            var e = assertThrows(IllegalArgumentException.class, () -> send(harness, "a:-2"));
            assertEquals("cannot take 2 queries off a queue of 1", e.getMessage());
        }
    }

    @Test
    void waitingQueriesSurviveASnapshotAndRestore() throws Exception {
        OperatorSubtaskState snapshot;
        try (var harness = harness(new Commands())) {
            harness.open();
            send(harness, "a:+1", "a:+2", "a:+3", "a:<1", "b:+9");
            snapshot = harness.snapshot(1, 10);
        }
        try (var restored = harness(new Commands())) {
            restored.initializeState(snapshot);
            restored.open();
            send(restored, "a:+4", "a:*", "b:*");
            assertEquals(List.of("2", "3", "4", "9"), restored.extractOutputValues());
        }
    }

    @Test
    void queriesOfThePreviousFormatComeFirstAfterARestore() throws Exception {
        OperatorSubtaskState snapshot;
        try (var older = harness(new PreviousFormat())) {
            older.open();
            send(older, "a:+1", "a:+2", "b:+7");
            snapshot = older.snapshot(1, 10);
        }
        try (var restored = harness(new Commands())) {
            restored.initializeState(snapshot);
            restored.open();
            send(restored, "a:+3", "a:<2", "a:*", "b:?", "b:*", "b:?");
            assertEquals(
                    List.of("1", "2", "3", "waiting", "7", "empty"),
                    restored.extractOutputValues());
        }
    }
}
