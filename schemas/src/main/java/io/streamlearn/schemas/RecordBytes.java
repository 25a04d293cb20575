package io.streamlearn.schemas;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.Map;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;

/**
 * Reads one Avro record from exactly the bytes of one Kafka record, strictly: every length and
 * count the bytes declare must fit in the bytes that are left, and no byte may be left over.
 *
 * <p>Avro's own decoders trust a declared length: a 26-byte record that declares an array of two
 * billion doubles makes them allocate the array before finding the bytes missing, and the task
 * manager dies of {@link OutOfMemoryError}. They also stop where the schema ends, so a record with
 * bytes of another writer after it, or written with a different schema of the same fingerprint,
 * decodes as if it were good. Here both are an {@link InvalidRecordException}: the record becomes a
 * dead letter, and the job goes on.
 */
public final class RecordBytes {
    private RecordBytes() {}

    /** The two bytes every Avro single-object encoded record starts with. */
    private static final byte MARKER_0 = (byte) 0xC3;

    private static final byte MARKER_1 = (byte) 0x01;

    private static final int HEADER = 10;

    /**
     * Reads a single-object encoded record: the marker, the writer schema's fingerprint, then the
     * body, read with the reader registered for that fingerprint.
     *
     * @param readers a datum reader per writer fingerprint (CRC-64-AVRO) this reader knows
     * @param expected what the record should be, for the reasons
     * @throws InvalidRecordException naming what is wrong
     */
    public static <D> D readSingleObject(
            Map<Long, ? extends DatumReader<D>> readers, byte[] bytes, String expected) {
        if (bytes == null) {
            throw new InvalidRecordException(
                    "record value is null (tombstone), expected " + expected);
        }
        if (bytes.length < HEADER || bytes[0] != MARKER_0 || bytes[1] != MARKER_1) {
            throw new InvalidRecordException(
                    "not Avro single-object encoding (starts with 0x"
                            + HexFormat.of().formatHex(bytes, 0, Math.min(bytes.length, 2))
                            + ", "
                            + bytes.length
                            + " bytes), expected "
                            + expected);
        }
        long fingerprint = ByteBuffer.wrap(bytes, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        DatumReader<D> reader = readers.get(fingerprint);
        if (reader == null) {
            throw new InvalidRecordException(
                    "written with a schema unknown to this job (fingerprint "
                            + HexFormat.of().formatHex(bytes, 2, HEADER)
                            + "), expected a version of "
                            + expected);
        }
        return readBody(reader, bytes, HEADER, expected);
    }

    /**
     * Reads a record in plain Avro binary, written with exactly the reader's schema.
     *
     * @throws InvalidRecordException naming what is wrong
     */
    public static <D> D readBinary(DatumReader<D> reader, byte[] bytes, String expected) {
        if (bytes == null) {
            throw new InvalidRecordException(
                    "record value is null (tombstone), expected " + expected);
        }
        return readBody(reader, bytes, 0, expected);
    }

    private static <D> D readBody(DatumReader<D> reader, byte[] bytes, int from, String expected) {
        ByteArrayInputStream in = new ByteArrayInputStream(bytes, from, bytes.length - from);
        D record;
        try {
            record =
                    reader.read(
                            null,
                            new BoundedDecoder(
                                    DecoderFactory.get().directBinaryDecoder(in, null), in));
        } catch (IOException | RuntimeException e) {
            throw new InvalidRecordException("corrupt or truncated " + expected + " body: " + e);
        }
        if (in.available() > 0) {
            throw new InvalidRecordException(
                    in.available()
                            + " bytes left after the end of the "
                            + expected
                            + " ("
                            + (bytes.length - from)
                            + " bytes): another writer schema, or bytes appended");
        }
        return record;
    }
}
