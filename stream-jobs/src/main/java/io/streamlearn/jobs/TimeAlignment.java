package io.streamlearn.jobs;

import java.util.Locale;

/**
 * When the trainer learns from an example and when a predictor answers an event ({@code
 * streamlearn.time-alignment}); the trade-off is in docs/time-alignment.md.
 */
public enum TimeAlignment {
    /**
     * Live: the trainer learns in arrival order and predictors answer each event at once with the
     * newest model they have. With a backlog the trainer can run ahead of a predictor, so an answer
     * may come from a model that has already learned from later events.
     */
    NONE,
    /**
     * Causal and deterministic: the trainer learns in event-time order once the watermark has
     * passed an example, and each event is answered once the watermark has passed it, by the newest
     * version trained only on strictly earlier examples.
     */
    EVENT_TIME;

    /**
     * Parses {@code none} or {@code event-time}.
     *
     * @throws IllegalArgumentException naming the key and the value
     */
    public static TimeAlignment parse(String value) {
        return switch (value == null ? "" : value.trim().toLowerCase(Locale.ROOT)) {
            case "none" -> NONE;
            case "event-time" -> EVENT_TIME;
            default ->
                    throw new IllegalArgumentException(
                            StreamlearnOptions.TIME_ALIGNMENT.key()
                                    + " must be 'none' or 'event-time', got '"
                                    + value
                                    + "'");
        };
    }
}
