package io.streamlearn.jobs;

/**
 * One labelled example for the trainer: a full normalised window and the normalised values that
 * followed it (each value normalised once, when it arrived, so window and target agree).
 */
public class Example {
    public float[] window;
    public float[] target;

    public Example() {}

    public Example(float[] window, float[] target) {
        this.window = window;
        this.target = target;
    }
}
