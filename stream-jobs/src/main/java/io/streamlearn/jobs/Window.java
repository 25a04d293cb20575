package io.streamlearn.jobs;

/**
 * One series after an event: its last {@code window} observations normalised by the series' own
 * online statistics ({@code SeriesNormalizer}), oldest first and flattened ({@code window *
 * features} values), with what the predictor needs to score and to turn a forecast back into the
 * series' units. Until a series has a full window the oldest observation is repeated in front, so
 * every event can be predicted from its first one.
 */
public class Window {
    public String seriesId;
    public long eventTime;

    /** The normalised window; its last {@code features} values are this event's. */
    public float[] values;

    /** How many real observations the window holds (at most {@code window}). */
    public int filled;

    /** This event's values in the series' own units. */
    public float[] observed;

    /** The series' mean after this event, per feature: a forecast z means mean + scale * z. */
    public float[] mean;

    /** The series' scale after this event, per feature. */
    public float[] scale;

    public Window() {}

    public Window(
            String seriesId,
            long eventTime,
            float[] values,
            int filled,
            float[] observed,
            float[] mean,
            float[] scale) {
        this.seriesId = seriesId;
        this.eventTime = eventTime;
        this.values = values;
        this.filled = filled;
        this.observed = observed;
        this.mean = mean;
        this.scale = scale;
    }
}
