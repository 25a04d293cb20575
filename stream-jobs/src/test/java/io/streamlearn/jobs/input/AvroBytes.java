package io.streamlearn.jobs.input;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.BinaryMessageEncoder;

/** A user's record as the bytes a producer would write, in either encoding the decoders read. */
final class AvroBytes {
    private AvroBytes() {}

    static byte[] binary(Schema schema, GenericRecord record) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(schema).write(record, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    /** One encoder per schema: building one fingerprints the schema, too slow for every record. */
    private static final Map<Schema, BinaryMessageEncoder<GenericRecord>> ENCODERS =
            new ConcurrentHashMap<>();

    static byte[] singleObject(Schema schema, GenericRecord record) throws IOException {
        return ENCODERS.computeIfAbsent(
                        schema, s -> new BinaryMessageEncoder<>(GenericData.get(), s))
                .encode(record)
                .array();
    }
}
