package io.streamlearn.schemas;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * Encodes and decodes one generated record type with Avro single-object encoding: a two-byte
 * marker, the 8-byte CRC-64-AVRO fingerprint of the writer schema, then the binary body.
 *
 * <p>The fingerprint lets a reader resolve records written with an earlier version of a schema:
 * every previous version of a type is kept under {@code history/} on the classpath and registered
 * with the decoder, so old records stay readable after the schema evolves.
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
    private transient BinaryMessageDecoder<T> decoder;

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
     * Decodes one record.
     *
     * @throws InvalidRecordException with a reason a person can act on, when the bytes are not a
     *     single-object encoded record of a known version of this type
     */
    public T decode(byte[] bytes) {
        if (bytes == null) {
            throw new InvalidRecordException(
                    "record value is null (tombstone), expected " + type.getSimpleName());
        }
        try {
            return decoder().decode(bytes);
        } catch (BadHeaderException e) {
            throw new InvalidRecordException(
                    "not Avro single-object encoding ("
                            + e.getMessage()
                            + "), expected "
                            + type.getSimpleName());
        } catch (MissingSchemaException e) {
            throw new InvalidRecordException(
                    "written with a schema unknown to this job ("
                            + e.getMessage()
                            + "), expected a version of "
                            + type.getSimpleName());
        } catch (IOException
                | AvroRuntimeException
                | ClassCastException
                | IndexOutOfBoundsException e) {
            throw new InvalidRecordException(
                    "corrupt or truncated " + type.getSimpleName() + " body: " + e);
        }
    }

    private BinaryMessageEncoder<T> encoder() {
        if (encoder == null) {
            encoder = new BinaryMessageEncoder<>(SpecificData.getForClass(type), schema());
        }
        return encoder;
    }

    private BinaryMessageDecoder<T> decoder() {
        if (decoder == null) {
            BinaryMessageDecoder<T> d =
                    new BinaryMessageDecoder<>(SpecificData.getForClass(type), schema());
            for (String file : HISTORY.getOrDefault(type.getSimpleName(), List.of())) {
                d.addSchema(previousSchema(file));
            }
            decoder = d;
        }
        return decoder;
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
