package io.streamlearn.schemas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.junit.jupiter.api.Test;

class AvroSerdeTest {
    private final AvroSerde<MetricEvent> metrics = AvroSerde.of(MetricEvent.class);

    @Test
    void roundTripsEveryType() {
        MetricEvent event =
                MetricEvent.newBuilder()
                        .setSeriesId("cpu-1")
                        .setEventTime(Instant.ofEpochMilli(1_700_000_000_000L))
                        .setValues(List.of(1.5, -2.0))
                        .setTags(Map.of("host", "a"))
                        .build();
        assertEquals(event, metrics.decode(metrics.encode(event)));

        Prediction prediction =
                Prediction.newBuilder()
                        .setEntityId("cpu-1")
                        .setEventTime(Instant.ofEpochMilli(5))
                        .setPredicted(List.of(0.25))
                        .setError(null)
                        .setBaselineError(0.5)
                        .setModelVersion(3)
                        .build();
        AvroSerde<Prediction> predictions = AvroSerde.of(Prediction.class);
        assertEquals(prediction, predictions.decode(predictions.encode(prediction)));

        DeadLetter letter =
                DeadLetter.newBuilder()
                        .setSourceTopic("metrics")
                        .setPartition(2)
                        .setOffset(41)
                        .setReason("bad")
                        .setKey(null)
                        .setPayload(ByteBuffer.wrap(new byte[] {1, 2, 3}))
                        .setReceivedAt(Instant.ofEpochMilli(9))
                        .build();
        AvroSerde<DeadLetter> letters = AvroSerde.of(DeadLetter.class);
        DeadLetter back = letters.decode(letters.encode(letter));
        assertEquals("bad", back.getReason());
        assertArrayEquals(new byte[] {1, 2, 3}, back.getPayload().array());
    }

    @Test
    void readsARecordWrittenWithThePreviousSchemaVersion() throws Exception {
        Schema v1 = AvroSerde.previousSchema("MetricEvent.v1.avsc");
        GenericRecord old = new GenericData.Record(v1);
        old.put("seriesId", "legacy");
        old.put("eventTime", 1234L);
        old.put("values", Arrays.asList(7.0, 8.0));
        byte[] written =
                new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v1).encode(old).array();

        MetricEvent read = metrics.decode(written);

        assertEquals("legacy", read.getSeriesId());
        assertEquals(Instant.ofEpochMilli(1234), read.getEventTime());
        assertEquals(List.of(7.0, 8.0), read.getValues());
        assertEquals(Map.of(), read.getTags(), "the field added in v2 takes its default");
    }

    @Test
    void readsAModelSnapshotWrittenBeforePromotionMetrics() throws Exception {
        Schema v1 = AvroSerde.previousSchema("ModelSnapshot.v1.avsc");
        GenericRecord old = new GenericData.Record(v1);
        old.put("modelVersion", 7L);
        old.put("step", 35L);
        old.put("state", java.nio.ByteBuffer.wrap(new byte[] {1, 2}));
        old.put("sha256", "ab");
        old.put("createdAt", 99L);
        byte[] written =
                new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v1).encode(old).array();

        ModelSnapshot read = AvroSerde.of(ModelSnapshot.class).decode(written);

        assertEquals(7L, read.getModelVersion());
        assertTrue(read.getPromoted(), "every version of the v1 era was served");
        assertEquals(null, read.getCandidateLoss());
        assertEquals("", read.getNote());
    }

    @Test
    void refusesBadBytesWithAReason() {
        InvalidRecordException garbage =
                assertThrows(
                        InvalidRecordException.class,
                        () -> metrics.decode(new byte[] {9, 9, 9, 9}));
        assertTrue(
                garbage.getMessage().contains("not Avro single-object encoding"),
                garbage.getMessage());

        byte[] prediction =
                AvroSerde.of(Prediction.class)
                        .encode(
                                Prediction.newBuilder()
                                        .setEntityId("x")
                                        .setEventTime(Instant.EPOCH)
                                        .setPredicted(List.of())
                                        .setModelVersion(1)
                                        .build());
        InvalidRecordException wrongType =
                assertThrows(InvalidRecordException.class, () -> metrics.decode(prediction));
        assertTrue(wrongType.getMessage().contains("unknown to this job"), wrongType.getMessage());

        byte[] good =
                metrics.encode(
                        MetricEvent.newBuilder()
                                .setSeriesId("s")
                                .setEventTime(Instant.EPOCH)
                                .setValues(List.of(1.0, 2.0, 3.0))
                                .build());
        byte[] truncated = Arrays.copyOf(good, good.length - 5);
        InvalidRecordException cut =
                assertThrows(InvalidRecordException.class, () -> metrics.decode(truncated));
        assertTrue(cut.getMessage().contains("corrupt or truncated"), cut.getMessage());

        assertThrows(InvalidRecordException.class, () -> metrics.decode(null));
    }

    @Test
    void refusesWhatTheBytesCannotHoldAndBytesLeftOver() {
        byte[] good =
                metrics.encode(
                        MetricEvent.newBuilder()
                                .setSeriesId("s")
                                .setEventTime(Instant.EPOCH)
                                .setValues(List.of(1.0))
                                .build());
        // The header, "s", time 0, then an array said to hold 2^30 doubles: Avro's own decoder
        // allocates it first (8 GiB) and the JVM dies of OutOfMemoryError.
        byte[] huge = Arrays.copyOf(good, 10 + 2 + 1 + 5 + 8);
        byte[] count = {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x08};
        System.arraycopy(count, 0, huge, 13, count.length);
        InvalidRecordException tooMany =
                assertThrows(InvalidRecordException.class, () -> metrics.decode(huge));
        assertTrue(
                tooMany.getMessage().contains("an array of 1073741824 items declared"),
                tooMany.getMessage());

        byte[] longer = Arrays.copyOf(good, good.length + 3);
        InvalidRecordException leftOver =
                assertThrows(InvalidRecordException.class, () -> metrics.decode(longer));
        assertTrue(leftOver.getMessage().startsWith("3 bytes left"), leftOver.getMessage());
    }

    @Test
    void defaultsAreNullForOptionalPredictionFields() {
        Prediction p =
                Prediction.newBuilder()
                        .setEntityId("x")
                        .setEventTime(Instant.EPOCH)
                        .setPredicted(List.of(1.0))
                        .setModelVersion(1)
                        .build();
        assertNull(p.getError());
    }
}
