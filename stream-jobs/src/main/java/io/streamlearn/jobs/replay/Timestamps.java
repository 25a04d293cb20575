package io.streamlearn.jobs.replay;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
import java.time.temporal.ChronoField;
import java.util.Locale;

/** The date-time form of the replay files: {@code YYYY-MM-DD HH:MM:SS[.fraction]}, in UTC. */
final class Timestamps {
    private static final DateTimeFormatter DATE_TIME =
            new DateTimeFormatterBuilder()
                    .appendPattern("uuuu-MM-dd HH:mm:ss")
                    .optionalStart()
                    .appendFraction(ChronoField.NANO_OF_SECOND, 1, 9, true)
                    .optionalEnd()
                    .toFormatter(Locale.ROOT)
                    .withResolverStyle(ResolverStyle.STRICT);

    /** Printed back without a fraction, as the replay contract writes it. */
    static final DateTimeFormatter PRINTED =
            DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss", Locale.ROOT)
                    .withZone(ZoneOffset.UTC);

    private Timestamps() {}

    /**
     * Parses {@code 2014-04-10 07:15:00} or {@code 2014-04-10 07:15:00.000000} as UTC.
     *
     * @throws DateTimeParseException when the text has another form
     */
    static Instant dateTime(String text) {
        return LocalDateTime.parse(text, DATE_TIME).toInstant(ZoneOffset.UTC);
    }
}
