package io.streamlearn.jobs;

import io.streamlearn.schemas.InteractionEvent;
import io.streamlearn.state.DurableState;
import java.time.Duration;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.BasicArrayTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keeps, per user, the most recent {@code window} items the user interacted with. For every
 * interaction it emits the user's {@link ItemQuery} (the history including this item, for the
 * {@link ItemPredictor}) and, when the user had a history before, one training {@link Example}
 * (that history, this item) on {@link SequenceState#EXAMPLES}: the recommendation feed's
 * counterpart of {@link SequenceState}.
 *
 * <p>Interactions are taken in arrival order; one behind the watermark is still used and counted in
 * {@code lateEvents}. The history of a user who has gone quiet expires after the time-to-live.
 */
public class ItemHistory extends KeyedProcessFunction<String, InteractionEvent, ItemQuery> {
    private static final long serialVersionUID = 1L;

    private final int window;
    private final Duration ttl;
    private transient ValueState<String[]> history;
    private transient Counter lateEvents;

    /**
     * @param window items kept per user (the model's window)
     * @param ttl how long the history of a user who has gone quiet is kept; zero keeps it forever
     */
    public ItemHistory(int window, Duration ttl) {
        this.window = window;
        this.ttl = ttl;
    }

    @Override
    public void open(OpenContext openContext) {
        ValueStateDescriptor<String[]> descriptor =
                new ValueStateDescriptor<>(
                        "item-history", BasicArrayTypeInfo.STRING_ARRAY_TYPE_INFO);
        DurableState.ttl(ttl).ifPresent(descriptor::enableTimeToLive);
        history = getRuntimeContext().getState(descriptor);
        lateEvents = getRuntimeContext().getMetricGroup().counter("lateEvents");
    }

    @Override
    public void processElement(InteractionEvent event, Context ctx, Collector<ItemQuery> out)
            throws Exception {
        long time = event.getEventTime().toEpochMilli();
        if (time < ctx.timerService().currentWatermark()) {
            lateEvents.inc();
        }
        String user = event.getUserId();
        String item = event.getItemId();
        String[] previous = history.value();
        if (previous != null && previous.length > 0) {
            ctx.output(
                    SequenceState.EXAMPLES,
                    Example.items(user, time, previous, item)
                            .madeAt(ctx.timerService().currentProcessingTime()));
        }
        String[] current = append(previous, item);
        history.update(current);
        out.collect(new ItemQuery(user, time, item, current));
    }

    private String[] append(String[] previous, String item) {
        if (previous == null) {
            return new String[] {item};
        }
        int keep = Math.min(previous.length, window - 1);
        String[] next = new String[keep + 1];
        System.arraycopy(previous, previous.length - keep, next, 0, keep);
        next[keep] = item;
        return next;
    }
}
