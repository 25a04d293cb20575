package io.streamlearn.jobs.input;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.schemas.InvalidRecordException;
import io.streamlearn.schemas.MetricEvent;
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

class EventDecoderTest {
    /** A user's schema: other names, a nested host, an ISO time string, two scalar values. */
    private static final String HOST_METRICS =
            """
            {"type": "record", "name": "HostMetrics", "namespace": "com.example",
             "fields": [
               {"name": "source", "type": {"type": "record", "name": "Source",
                 "fields": [{"name": "host", "type": ["null", "string"]}]}},
               {"name": "ts", "type": "string"},
               {"name": "cpu", "type": "double"},
               {"name": "mem", "type": ["null", "float"], "default": null},
               {"name": "note", "type": "string"}
             ]}
            """;

    private final Schema schema = new Schema.Parser().parse(HOST_METRICS);

    private Configuration conf(Path dir, String encoding) throws Exception {
        Path file = dir.resolve("host-metrics.avsc");
        Files.writeString(file, HOST_METRICS);
        Configuration conf = new Configuration();
        conf.set(InputOptions.SCHEMA_FILE, file.toString());
        conf.set(InputOptions.ENCODING, encoding);
        conf.set(InputOptions.ENTITY_FIELD, "source.host");
        conf.set(InputOptions.TIME_FIELD, "ts");
        conf.set(InputOptions.VALUES_FIELDS, "cpu, mem");
        return conf;
    }

    private GenericRecord record(String host, Float mem) {
        GenericRecord source = new GenericData.Record(schema.getField("source").schema());
        source.put("host", host);
        GenericRecord r = new GenericData.Record(schema);
        r.put("source", source);
        r.put("ts", "2026-03-01T12:00:00Z");
        r.put("cpu", 0.75);
        r.put("mem", mem);
        r.put("note", "x");
        return r;
    }

    @Test
    void readsAUsersSingleObjectEncodedRecordsThroughTheFieldMapping(@TempDir Path dir)
            throws Exception {
        EventDecoder decoder = EventDecoder.from(conf(dir, "single-object"));
        byte[] bytes = AvroBytes.singleObject(schema, record("web-1", 0.5f));

        MetricEvent event = decoder.decode(bytes);

        assertEquals("web-1", event.getSeriesId());
        assertEquals(Instant.parse("2026-03-01T12:00:00Z"), event.getEventTime());
        assertEquals(List.of(0.75, 0.5), event.getValues());
    }

    @Test
    void readsPlainBinaryAndNamesTheFieldThatIsMissingInARecord(@TempDir Path dir)
            throws Exception {
        EventDecoder decoder = EventDecoder.from(conf(dir, "binary"));
        assertEquals(
                "web-2",
                decoder.decode(AvroBytes.binary(schema, record("web-2", 1f))).getSeriesId());

        InvalidRecordException noMem =
                assertThrows(
                        InvalidRecordException.class,
                        () -> decoder.decode(AvroBytes.binary(schema, record("web-2", null))));
        assertTrue(noMem.getMessage().contains("field mem is missing"), noMem.getMessage());
        InvalidRecordException noHost =
                assertThrows(
                        InvalidRecordException.class,
                        () -> decoder.decode(AvroBytes.binary(schema, record(null, 1f))));
        assertTrue(noHost.getMessage().contains("field source.host"), noHost.getMessage());
    }

    @Test
    void aBadMappingStopsTheJobAtStartUpNamingTheKeyAndTheField(@TempDir Path dir)
            throws Exception {
        Configuration typo = conf(dir, "binary");
        typo.set(InputOptions.VALUES_FIELDS, "cpu,memory");
        IllegalArgumentException missing =
                assertThrows(IllegalArgumentException.class, () -> EventDecoder.from(typo));
        assertTrue(
                missing.getMessage().contains("streamlearn.input.values-fields")
                        && missing.getMessage().contains("'memory'"),
                missing.getMessage());

        Configuration wrongType = conf(dir, "binary");
        wrongType.set(InputOptions.VALUES_FIELDS, "note");
        IllegalArgumentException type =
                assertThrows(IllegalArgumentException.class, () -> EventDecoder.from(wrongType));
        assertTrue(type.getMessage().contains("field 'note'"), type.getMessage());

        Configuration badEncoding = conf(dir, "json");
        IllegalArgumentException encoding =
                assertThrows(IllegalArgumentException.class, () -> EventDecoder.from(badEncoding));
        assertTrue(
                encoding.getMessage().contains("streamlearn.input.encoding"),
                encoding.getMessage());
    }

    @Test
    void withoutASchemaFileReadsTheBuiltInEvent() {
        assertTrue(EventDecoder.from(new Configuration()) instanceof EventDecoder.BuiltIn);
    }
}
