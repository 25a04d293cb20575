package io.streamlearn.jobs.input;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.InteractionEvent;
import io.streamlearn.schemas.InvalidRecordException;
import io.streamlearn.schemas.MetricEvent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InteractionDecoderTest {
    /**
     * A shop's click schema: the user nested and numeric, the item an int or a (bad) boolean, the
     * time in microseconds, the kind an enum.
     */
    private static final String CLICKS =
            """
            {"type": "record", "name": "Click", "namespace": "com.example",
             "fields": [
               {"name": "visitor", "type": {"type": "record", "name": "Visitor",
                 "fields": [{"name": "id", "type": ["null", "long"]}]}},
               {"name": "product", "type": ["int", "boolean"]},
               {"name": "at", "type": {"type": "long", "logicalType": "timestamp-micros"}},
               {"name": "action", "type": {"type": "enum", "name": "Action",
                 "symbols": ["VIEW", "CART", "BUY"]}},
               {"name": "price", "type": "double"}
             ]}
            """;

    private final Schema schema = new Schema.Parser().parse(CLICKS);

    private static Configuration conf(Path dir, String avsc, String encoding) throws Exception {
        Path file = dir.resolve("schema.avsc");
        Files.writeString(file, avsc);
        Configuration conf = new Configuration();
        conf.set(InputOptions.SCHEMA_FILE, file.toString());
        conf.set(InputOptions.ENCODING, encoding);
        return conf;
    }

    private Configuration clicks(Path dir, String encoding) throws Exception {
        Configuration conf = conf(dir, CLICKS, encoding);
        conf.set(InputOptions.ENTITY_FIELD, "visitor.id");
        conf.set(InputOptions.ITEM_FIELD, "product");
        conf.set(InputOptions.TIME_FIELD, "at");
        conf.set(InputOptions.KIND_FIELD, "action");
        return conf;
    }

    private GenericRecord click(Long visitor, Object product) {
        GenericRecord who = new GenericData.Record(schema.getField("visitor").schema());
        who.put("id", visitor);
        GenericRecord r = new GenericData.Record(schema);
        r.put("visitor", who);
        r.put("product", product);
        r.put("at", 1_772_366_400_123_456L);
        r.put("action", new GenericData.EnumSymbol(schema.getField("action").schema(), "CART"));
        r.put("price", 9.5);
        return r;
    }

    @Test
    void readsTheBuiltInEventAndRefusesOtherBytes() {
        InteractionEvent click =
                InteractionEvent.newBuilder()
                        .setUserId("u1")
                        .setItemId("42")
                        .setEventTime(Instant.parse("2026-03-01T12:00:00Z"))
                        .setKind("click")
                        .build();
        InteractionDecoder decoder = InteractionDecoder.from(new Configuration());

        assertTrue(decoder instanceof InteractionDecoder.BuiltIn, "no schema file: built-in");
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

    @Test
    void readsAUsersSingleObjectEncodedClicksThroughTheFieldMapping(@TempDir Path dir)
            throws Exception {
        InteractionDecoder decoder = InteractionDecoder.from(clicks(dir, "single-object"));
        byte[] bytes = AvroBytes.singleObject(schema, click(9_000_000_001L, 42));

        InteractionEvent event = decoder.decode(bytes);

        assertEquals("9000000001", event.getUserId(), "a long id becomes its decimal string");
        assertEquals("42", event.getItemId(), "an int id becomes its decimal string");
        assertEquals(
                Instant.parse("2026-03-01T12:00:00.123Z"),
                event.getEventTime(),
                "timestamp-micros, truncated to the event's millis");
        assertEquals("CART", event.getKind());
    }

    @Test
    void aRecordLackingAFieldOrWithAWrongTypeFailsAloneNamingTheField(@TempDir Path dir)
            throws Exception {
        InteractionDecoder decoder = InteractionDecoder.from(clicks(dir, "binary"));
        assertEquals("7", decoder.decode(AvroBytes.binary(schema, click(7L, 3))).getUserId());

        InvalidRecordException noUser =
                assertThrows(
                        InvalidRecordException.class,
                        () -> decoder.decode(AvroBytes.binary(schema, click(null, 3))));
        assertTrue(
                noUser.getMessage().contains("field visitor.id is missing"), noUser.getMessage());
        InvalidRecordException badItem =
                assertThrows(
                        InvalidRecordException.class,
                        () -> decoder.decode(AvroBytes.binary(schema, click(7L, true))));
        assertTrue(
                badItem.getMessage().contains("field product is 'true'")
                        && badItem.getMessage().contains("expected a string, int or long"),
                badItem.getMessage());
    }

    @Test
    void aBadMappingStopsTheJobAtStartUpNamingTheKeyAndTheField(@TempDir Path dir)
            throws Exception {
        Configuration typo = clicks(dir, "binary");
        typo.set(InputOptions.ITEM_FIELD, "productId");
        IllegalArgumentException missing =
                assertThrows(IllegalArgumentException.class, () -> InteractionDecoder.from(typo));
        assertTrue(
                missing.getMessage().contains("streamlearn.input.item-field")
                        && missing.getMessage().contains("'productId'"),
                missing.getMessage());

        Configuration wrongType = clicks(dir, "binary");
        wrongType.set(InputOptions.ITEM_FIELD, "price");
        IllegalArgumentException type =
                assertThrows(
                        IllegalArgumentException.class, () -> InteractionDecoder.from(wrongType));
        assertTrue(
                type.getMessage().contains("streamlearn.input.item-field")
                        && type.getMessage().contains("field 'price'"),
                type.getMessage());

        Configuration kind = clicks(dir, "binary");
        kind.set(InputOptions.KIND_FIELD, "at");
        IllegalArgumentException badKind =
                assertThrows(IllegalArgumentException.class, () -> InteractionDecoder.from(kind));
        assertTrue(
                badKind.getMessage().contains("streamlearn.input.kind-field"),
                badKind.getMessage());
    }

    @Test
    void theFieldDefaultsAreTheBuiltInNamesSoTheUserFieldIsUserIdNotSeriesId(@TempDir Path dir)
            throws Exception {
        String avsc =
                """
                {"type": "record", "name": "Play", "fields": [
                  {"name": "userId", "type": "string"},
                  {"name": "itemId", "type": "long"},
                  {"name": "eventTime", "type": "string"}]}
                """;
        InteractionDecoder decoder = InteractionDecoder.from(conf(dir, avsc, "binary"));
        Schema play = new Schema.Parser().parse(avsc);
        GenericRecord r = new GenericData.Record(play);
        r.put("userId", "ana");
        r.put("itemId", 5L);
        r.put("eventTime", "2026-03-01T12:00:00+01:00");

        InteractionEvent event = decoder.decode(AvroBytes.binary(play, r));

        assertEquals("ana", event.getUserId());
        assertEquals("5", event.getItemId());
        assertEquals(Instant.parse("2026-03-01T11:00:00Z"), event.getEventTime());
        assertEquals("view", event.getKind(), "no kind field: a view");
        IllegalArgumentException metrics =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> EventDecoder.from(conf(dir, avsc, "binary")));
        assertTrue(
                metrics.getMessage().contains("'seriesId'"),
                "metric events default to seriesId: " + metrics.getMessage());
    }
}
