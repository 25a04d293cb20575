package io.streamlearn.jobs.input;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.InteractionEvent;
import io.streamlearn.schemas.InvalidRecordException;
import io.streamlearn.schemas.MetricEvent;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class InteractionDecoderTest {
    @Test
    void readsTheBuiltInEventAndRefusesOtherBytes() {
        InteractionEvent click =
                InteractionEvent.newBuilder()
                        .setUserId("u1")
                        .setItemId("42")
                        .setEventTime(Instant.parse("2026-03-01T12:00:00Z"))
                        .setKind("click")
                        .build();
        InteractionDecoder decoder = InteractionDecoder.builtIn();

        assertEquals(click, decoder.decode(AvroSerde.of(InteractionEvent.class).encode(click)));
        InteractionEvent view =
                InteractionEvent.newBuilder()
                        .setUserId("u1")
                        .setItemId("7")
                        .setEventTime(Instant.EPOCH)
                        .build();
        assertEquals("view", view.getKind(), "kind defaults to view");
        assertThrows(
                InvalidRecordException.class,
                () -> decoder.decode("not avro".getBytes(StandardCharsets.UTF_8)));
        byte[] metric =
                AvroSerde.of(MetricEvent.class)
                        .encode(
                                MetricEvent.newBuilder()
                                        .setSeriesId("s")
                                        .setEventTime(Instant.EPOCH)
                                        .setValues(List.of(1.0))
                                        .build());
        assertThrows(InvalidRecordException.class, () -> decoder.decode(metric));
    }
}
