package io.streamlearn.jobs.input;

import java.time.Instant;

/**
 * The event times the job accepts: years 0001 to 9999, the range of a four-digit ISO-8601 year.
 * Every form an event's time travels in (epoch milliseconds in Flink and Avro, ISO-8601 text in the
 * feeds' JSON and the replay files) holds it. A time beyond it is a producer's bug (micros read as
 * millis, a sentinel like {@code Long.MAX_VALUE}): as epoch milliseconds it overflows and fails the
 * job downstream, or it drags the watermark so far that every later event is late.
 */
public final class EventTimes {
    private EventTimes() {}

    /** The first time accepted. */
    public static final Instant FIRST = Instant.parse("0001-01-01T00:00:00Z");

    /** The last time accepted. */
    public static final Instant LAST = Instant.parse("9999-12-31T23:59:59.999999999Z");

    /** Why {@code time} in {@code field} cannot be used, or null when it can. */
    public static String problem(String field, Instant time) {
        if (time == null) {
            return "field " + field + " is missing";
        }
        if (time.isBefore(FIRST) || time.isAfter(LAST)) {
            return "field " + field + " is " + time + ", outside the years 0001 to 9999";
        }
        return null;
    }
}
