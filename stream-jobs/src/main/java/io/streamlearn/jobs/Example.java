package io.streamlearn.jobs;

/** One labelled example for the trainer: a full window and the values that followed it. */
public class Example {
    public float[] window;
    public float[] target;

    public Example() {}

    public Example(float[] window, float[] target) {
        this.window = window;
        this.target = target;
    }
}
