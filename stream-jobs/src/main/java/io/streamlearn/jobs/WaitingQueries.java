package io.streamlearn.jobs;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;

/**
 * The current entity's queries that wait for an answer, in arrival order, in keyed state: a queue
 * whose every operation costs what it adds or takes, not the length of the queue.
 *
 * <p>In event-time alignment a series' queries wait until the trainer's watermark passes them, so a
 * replay keeps thousands of them waiting per series while the trainer works through the examples in
 * front of it, and the watermark takes a few at a time. A list state costs the whole list each time
 * its head is taken (it can only be replaced), which made the predictor copy its wait lists at
 * every watermark. Here each query is an entry of a map state under its position in the queue, and
 * the positions of the head and of the next free place are one small value.
 *
 * <p>Queries kept by the previous format (a list state named {@code pending}, what a savepoint of
 * an older job holds) are moved here, in order, the first time their entity's queue is read.
 */
final class WaitingQueries<Q> {
    private static final int HEAD = 0;
    private static final int TAIL = 1;

    private final ListState<Q> previous;
    private final MapState<Long, Q> byPosition;
    private final ValueState<long[]> bounds;

    /** Registers the states with the function's runtime context (in {@code open}). */
    WaitingQueries(RuntimeContext context, TypeInformation<Q> queryType) {
        previous = context.getListState(new ListStateDescriptor<>("pending", queryType));
        byPosition =
                context.getMapState(
                        new MapStateDescriptor<>("waiting-queries", Types.LONG, queryType));
        bounds =
                context.getState(
                        new ValueStateDescriptor<>(
                                "waiting-queries-bounds",
                                PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO));
    }

    /** Whether the current entity has no query waiting. */
    boolean isEmpty() throws Exception {
        long[] b = bounds();
        return b[HEAD] == b[TAIL];
    }

    /** Adds a query behind the current entity's others. */
    void add(Q query) throws Exception {
        long[] b = bounds();
        byPosition.put(b[TAIL], query);
        bounds.update(new long[] {b[HEAD], b[TAIL] + 1});
    }

    /** Takes the oldest {@code count} waiting queries of the current entity off the queue. */
    void remove(int count) throws Exception {
        long[] b = bounds();
        if (count > b[TAIL] - b[HEAD]) {
            throw new IllegalArgumentException(
                    "cannot take " + count + " queries off a queue of " + (b[TAIL] - b[HEAD]));
        }
        for (long p = b[HEAD]; p < b[HEAD] + count; p++) {
            byPosition.remove(p);
        }
        if (b[HEAD] + count == b[TAIL]) {
            bounds.clear();
        } else {
            bounds.update(new long[] {b[HEAD] + count, b[TAIL]});
        }
    }

    /**
     * The current entity's waiting queries from the oldest on, while {@code wanted} accepts them:
     * the first one it refuses, and those behind it, stay unread.
     */
    List<Q> headWhile(Predicate<Q> wanted) throws Exception {
        long[] b = bounds();
        List<Q> head = new ArrayList<>();
        for (long p = b[HEAD]; p < b[TAIL]; p++) {
            Q q = byPosition.get(p);
            if (!wanted.test(q)) {
                break;
            }
            head.add(q);
        }
        return head;
    }

    /** Takes every waiting query of the current entity off the queue, oldest first. */
    List<Q> drain() throws Exception {
        List<Q> all = headWhile(q -> true);
        if (!all.isEmpty()) {
            byPosition.clear();
            bounds.clear();
        }
        return all;
    }

    /** {head, tail}; moves the previous format's queries in first. */
    private long[] bounds() throws Exception {
        long[] b = bounds.value();
        if (b != null) {
            return b;
        }
        long tail = 0;
        Iterable<Q> old = previous.get();
        if (old != null) {
            for (Q q : old) {
                byPosition.put(tail++, q);
            }
        }
        if (tail == 0) {
            return new long[] {0, 0};
        }
        previous.clear();
        b = new long[] {0, tail};
        bounds.update(b);
        return b;
    }
}
