package io.streamlearn.schemas;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.io.DatumReader;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;

/**
 * Encodes and decodes one generated record type with Avro single-object encoding: a two-byte
 * marker, the 8-byte CRC-64-AVRO fingerprint of the writer schema, then the binary body.
 *
 * <p>The fingerprint lets a reader resolve records written with an earlier version of a schema:
 * every previous version of a type is kept under {@code history/} on the classpath and registered
 * as a reader of its fingerprint, so old records stay readable after the schema evolves.
 *
 * <p>Serializable so Flink functions can carry it; the codec itself is built lazily per JVM.
 */
public final class AvroSerde<T extends SpecificRecord> implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Earlier versions of each type, oldest first; add a line when a schema changes. */
    private static final Map<String, List<String>> HISTORY =
            Map.of(
                    "MetricEvent",
                    List.of("MetricEvent.v1.avsc"),
                    "ModelSnapshot",
                    List.of("ModelSnapshot.v1.avsc"));

    private final Class<T> type;
    private transient BinaryMessageEncoder<T> encoder;
    private transient Map<Long, DatumReader<T>> readers;

    private AvroSerde(Class<T> type) {
        this.type = type;
    }

    public static <T extends SpecificRecord> AvroSerde<T> of(Class<T> type) {
        return new AvroSerde<>(type);
    }

    public Class<T> type() {
        return type;
    }

    public byte[] encode(T record) {
        try {
            return encoder().encode(record).array();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode " + type.getSimpleName(), e);
        }
    }

    /**
     * Decodes one record, strictly ({@link RecordBytes}): bytes left over, or a length the bytes
     * cannot hold, make the record invalid.
     *
     * @throws InvalidRecordException with a reason a person can act on, when the bytes are not a
     *     single-object encoded record of a known version of this type
     */
    public T decode(byte[] bytes) {
        return RecordBytes.readSingleObject(readers(), bytes, type.getSimpleName());
    }

    private BinaryMessageEncoder<T> encoder() {
        if (encoder == null) {
            encoder = new BinaryMessageEncoder<>(SpecificData.getForClass(type), schema());
        }
        return encoder;
    }

    /** A reader per known writer schema (this version and the earlier ones), by fingerprint. */
    private Map<Long, DatumReader<T>> readers() {
        if (readers == null) {
            Map<Long, DatumReader<T>> byFingerprint = new HashMap<>();
            SpecificData model = SpecificData.getForClass(type);
            Schema current = schema();
            byFingerprint.put(
                    SchemaNormalization.parsingFingerprint64(current),
                    new SpecificDatumReader<>(current, current, model));
            for (String file : HISTORY.getOrDefault(type.getSimpleName(), List.of())) {
                Schema writer = previousSchema(file);
                byFingerprint.put(
                        SchemaNormalization.parsingFingerprint64(writer),
                        new SpecificDatumReader<>(writer, current, model));
            }
            readers = Map.copyOf(byFingerprint);
        }
        return readers;
    }

    private Schema schema() {
        return SpecificData.get().getSchema(type);
    }

    static Schema previousSchema(String file) {
        try (InputStream in = AvroSerde.class.getResourceAsStream("history/" + file)) {
            if (in == null) {
                throw new IllegalStateException(
                        "schema history file missing from the classpath: " + file);
            }
            return new Schema.Parser().parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
