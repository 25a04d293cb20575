package io.streamlearn.jobs;

import io.streamlearn.models.Batch;
import io.streamlearn.models.ModelConfig.Task;
import java.util.List;

/**
 * One labelled example for the trainer, in the form of its model's task, with the entity and event
 * time it came from (the trainer's order in event-time alignment):
 *
 * <ul>
 *   <li>next value: a full normalised {@link #window} and the normalised values that followed it
 *       ({@link #target}; each value normalised once, when it arrived, so window and target agree);
 *   <li>reconstruction: a full normalised {@link #window}, no target;
 *   <li>next item: a user's item {@link #history}, oldest first, and the {@link #item} that came
 *       next.
 * </ul>
 */
public class Example {
    public String entity;
    public long time;
    public float[] window;
    public float[] target;
    public String[] history;
    public String item;

    /**
     * When the example was made (processing time, milliseconds; 0 if unknown): how long it waited
     * in front of the trainer tells the trainer, in live mode, whether it keeps up.
     */
    public long madeAt;

    public Example() {}

    /** A next-value example without entity or time, for tests of arrival-order training. */
    public Example(float[] window, float[] target) {
        this.window = window;
        this.target = target;
    }

    public static Example values(String entity, long time, float[] window, float[] target) {
        Example e = new Example(window, target);
        e.entity = entity;
        e.time = time;
        return e;
    }

    public static Example window(String entity, long time, float[] window) {
        return values(entity, time, window, null);
    }

    public static Example items(String entity, long time, String[] history, String item) {
        Example e = new Example();
        e.entity = entity;
        e.time = time;
        e.history = history;
        e.item = item;
        return e;
    }

    /** This example, stamped with the processing time it was made at. */
    Example madeAt(long processingTime) {
        madeAt = processingTime;
        return this;
    }

    /** The mini-batch of a task made of these examples, in their order. */
    static Batch batch(Task task, List<Example> examples) {
        int n = examples.size();
        return switch (task) {
            case NEXT_VALUE -> {
                float[][] windows = new float[n][];
                float[][] targets = new float[n][];
                for (int i = 0; i < n; i++) {
                    windows[i] = examples.get(i).window;
                    targets[i] = examples.get(i).target;
                }
                yield Batch.values(windows, targets);
            }
            case RECONSTRUCTION -> {
                float[][] windows = new float[n][];
                for (int i = 0; i < n; i++) {
                    windows[i] = examples.get(i).window;
                }
                yield Batch.windows(windows);
            }
            case NEXT_ITEM -> {
                String[][] histories = new String[n][];
                String[] items = new String[n];
                for (int i = 0; i < n; i++) {
                    histories[i] = examples.get(i).history;
                    items[i] = examples.get(i).item;
                }
                yield Batch.items(histories, items);
            }
        };
    }
}
