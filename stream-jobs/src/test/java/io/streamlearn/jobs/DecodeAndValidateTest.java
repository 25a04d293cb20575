package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.input.EventDecoder;
import io.streamlearn.jobs.input.InteractionDecoder;
import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.DeadLetter;
import io.streamlearn.schemas.InteractionEvent;
import io.streamlearn.schemas.MetricEvent;
import io.streamlearn.schemas.Prediction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

class DecodeAndValidateTest {
    private final AvroSerde<MetricEvent> serde = AvroSerde.of(MetricEvent.class);

    private RawRecord raw(long offset, byte[] value) {
        return new RawRecord("metrics", 0, offset, 1000, null, value);
    }

    private byte[] event(String series, Double... values) {
        return serde.encode(
                MetricEvent.newBuilder()
                        .setSeriesId(series)
                        .setEventTime(Instant.EPOCH)
                        .setValues(List.of(values))
                        .build());
    }

    @Test
    void passesGoodEventsAndSendsEveryBadOneToDeadLettersWithItsReason() throws Exception {
        byte[] garbage = "hello".getBytes(StandardCharsets.UTF_8);
        byte[] wrongSchema =
                AvroSerde.of(Prediction.class)
                        .encode(
                                Prediction.newBuilder()
                                        .setEntityId("x")
                                        .setEventTime(Instant.EPOCH)
                                        .setPredicted(List.of())
                                        .setModelVersion(1)
                                        .build());
        try (var harness =
                ProcessFunctionTestHarnesses.forProcessFunction(
                        DecodeAndValidate.metrics(1, EventDecoder.builtIn()))) {
            harness.processElement(raw(0, event("s", 1.0)), 0);
            harness.processElement(raw(1, garbage), 0);
            harness.processElement(raw(2, wrongSchema), 0);
            harness.processElement(raw(3, event("s", Double.NaN)), 0);
            harness.processElement(raw(4, event("", 1.0)), 0);
            harness.processElement(raw(5, event("s", 1.0, 2.0)), 0);
            harness.processElement(raw(6, null), 0);

            assertEquals(1, harness.extractOutputValues().size());
            List<DeadLetter> dead =
                    harness.getSideOutput(DecodeAndValidate.DEAD_LETTERS).stream()
                            .map(r -> r.getValue())
                            .toList();
            assertEquals(
                    List.of(1L, 2L, 3L, 4L, 5L, 6L),
                    dead.stream().map(DeadLetter::getOffset).toList());
            assertTrue(
                    dead.get(0).getReason().contains("not Avro single-object encoding"),
                    dead.get(0).getReason());
            assertTrue(
                    dead.get(1).getReason().contains("unknown to this job"),
                    dead.get(1).getReason());
            assertTrue(
                    dead.get(2).getReason().contains("values[0] is NaN"), dead.get(2).getReason());
            assertTrue(dead.get(3).getReason().contains("seriesId"), dead.get(3).getReason());
            assertTrue(
                    dead.get(4).getReason().contains("streamlearn.model.features"),
                    dead.get(4).getReason());
            assertTrue(dead.get(5).getReason().contains("null"), dead.get(5).getReason());
            assertArrayEquals(
                    garbage, dead.get(0).getPayload().array(), "the original bytes are kept");
            assertEquals("metrics", dead.get(0).getSourceTopic());
        }
    }

    @Test
    void interactionsNeedAUserAndAnItem() throws Exception {
        AvroSerde<InteractionEvent> interactions = AvroSerde.of(InteractionEvent.class);
        List<byte[]> records = new ArrayList<>();
        for (String[] pair : new String[][] {{"u1", "i1"}, {"", "i2"}, {"u3", " "}}) {
            records.add(
                    interactions.encode(
                            InteractionEvent.newBuilder()
                                    .setUserId(pair[0])
                                    .setItemId(pair[1])
                                    .setEventTime(Instant.EPOCH)
                                    .build()));
        }
        records.add(event("s", 1.0));
        try (var harness =
                ProcessFunctionTestHarnesses.forProcessFunction(
                        DecodeAndValidate.interactions(InteractionDecoder.builtIn()))) {
            for (int i = 0; i < records.size(); i++) {
                harness.processElement(raw(i, records.get(i)), 0);
            }
            assertEquals(
                    List.of("u1"),
                    harness.extractOutputValues().stream()
                            .map(InteractionEvent::getUserId)
                            .toList());
            List<String> reasons =
                    harness.getSideOutput(DecodeAndValidate.DEAD_LETTERS).stream()
                            .map(r -> r.getValue().getReason())
                            .toList();
            assertEquals(3, reasons.size());
            assertTrue(reasons.get(0).contains("userId"), reasons.get(0));
            assertTrue(reasons.get(1).contains("itemId"), reasons.get(1));
            assertTrue(reasons.get(2).contains("unknown to this job"), reasons.get(2));
        }
    }
}
