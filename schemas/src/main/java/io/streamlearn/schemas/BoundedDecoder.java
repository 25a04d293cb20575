package io.streamlearn.schemas;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.apache.avro.io.Decoder;
import org.apache.avro.util.Utf8;

/**
 * A binary decoder over the bytes of one record that checks each declared length (string, bytes)
 * and item count (array, map block) against the bytes left before anything is allocated: the bytes
 * must be there, at least one per item. (An array of nulls or of empty records needs no bytes per
 * item; no event schema has one, and such a record is refused.)
 */
final class BoundedDecoder extends Decoder {
    private final Decoder in;
    private final ByteArrayInputStream bytes;

    /**
     * @param in a direct (unbuffered) binary decoder reading {@code bytes}, so that what {@code
     *     bytes} has left is what the record has left
     */
    BoundedDecoder(Decoder in, ByteArrayInputStream bytes) {
        this.in = in;
        this.bytes = bytes;
    }

    private int length(String what) throws IOException {
        long length = in.readLong();
        if (length < 0 || length > bytes.available()) {
            throw new IOException(
                    what
                            + " of "
                            + length
                            + " bytes declared where "
                            + bytes.available()
                            + " are left");
        }
        return (int) length;
    }

    private long items(long count, String what) throws IOException {
        if (count > bytes.available()) {
            throw new IOException(
                    what
                            + " of "
                            + count
                            + " items declared where "
                            + bytes.available()
                            + " bytes are left");
        }
        return count;
    }

    @Override
    public Utf8 readString(Utf8 old) throws IOException {
        int length = length("a string");
        Utf8 result = old == null ? new Utf8() : old;
        result.setByteLength(length);
        in.readFixed(result.getBytes(), 0, length);
        return result;
    }

    @Override
    public String readString() throws IOException {
        return readString(null).toString();
    }

    @Override
    public ByteBuffer readBytes(ByteBuffer old) throws IOException {
        byte[] result = new byte[length("bytes")];
        in.readFixed(result, 0, result.length);
        return ByteBuffer.wrap(result);
    }

    @Override
    public long readArrayStart() throws IOException {
        return items(in.readArrayStart(), "an array");
    }

    @Override
    public long arrayNext() throws IOException {
        return items(in.arrayNext(), "an array");
    }

    @Override
    public long readMapStart() throws IOException {
        return items(in.readMapStart(), "a map");
    }

    @Override
    public long mapNext() throws IOException {
        return items(in.mapNext(), "a map");
    }

    @Override
    public void readNull() throws IOException {
        in.readNull();
    }

    @Override
    public boolean readBoolean() throws IOException {
        return in.readBoolean();
    }

    @Override
    public int readInt() throws IOException {
        return in.readInt();
    }

    @Override
    public long readLong() throws IOException {
        return in.readLong();
    }

    @Override
    public float readFloat() throws IOException {
        return in.readFloat();
    }

    @Override
    public double readDouble() throws IOException {
        return in.readDouble();
    }

    @Override
    public void skipString() throws IOException {
        in.skipFixed(length("a string"));
    }

    @Override
    public void skipBytes() throws IOException {
        in.skipFixed(length("bytes"));
    }

    @Override
    public void readFixed(byte[] target, int start, int length) throws IOException {
        in.readFixed(target, start, length);
    }

    @Override
    public void skipFixed(int length) throws IOException {
        in.skipFixed(length);
    }

    @Override
    public int readEnum() throws IOException {
        return in.readEnum();
    }

    @Override
    public long skipArray() throws IOException {
        return items(in.skipArray(), "an array");
    }

    @Override
    public long skipMap() throws IOException {
        return items(in.skipMap(), "a map");
    }

    @Override
    public int readIndex() throws IOException {
        return in.readIndex();
    }
}
