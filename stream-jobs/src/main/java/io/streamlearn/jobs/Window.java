package io.streamlearn.jobs;

/**
 * The last {@code window} observations of one series after an event, oldest first, flattened
 * ({@code window * features} values). Until a series has a full window the oldest observation is
 * repeated in front, so every event can be predicted from its first one.
 */
public class Window {
    public String seriesId;
    public long eventTime;
    public float[] values;

    /** How many real observations the window holds (at most {@code window}). */
    public int filled;

    public Window() {}

    public Window(String seriesId, long eventTime, float[] values, int filled) {
        this.seriesId = seriesId;
        this.eventTime = eventTime;
        this.values = values;
        this.filled = filled;
    }
}
