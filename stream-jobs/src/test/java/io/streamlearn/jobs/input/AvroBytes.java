package io.streamlearn.jobs.input;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
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

    static byte[] singleObject(Schema schema, GenericRecord record) throws IOException {
        return new BinaryMessageEncoder<GenericRecord>(GenericData.get(), schema)
                .encode(record)
                .array();
    }
}
