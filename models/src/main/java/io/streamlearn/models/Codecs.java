package io.streamlearn.models;

import java.nio.ByteBuffer;

/** What the binary codecs of this package share: the format byte in front of every encoding. */
final class Codecs {

    private Codecs() {}

    /**
     * Checks that bytes hold an encoding of the given type and format.
     *
     * @param bytes the encoding
     * @param type the type's name, for messages
     * @param format the one format version this build reads
     * @return a big-endian buffer positioned after the format byte
     * @throws IllegalArgumentException if the bytes are empty or of another format
     */
    static ByteBuffer open(byte[] bytes, String type, byte format) {
        if (bytes == null || bytes.length == 0) {
            throw new IllegalArgumentException(type + " bytes are empty");
        }
        if (bytes[0] != format) {
            throw new IllegalArgumentException(
                    "Unsupported "
                            + type
                            + " format version "
                            + bytes[0]
                            + "; this build reads format version "
                            + format);
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        buf.get();
        return buf;
    }

    /**
     * Checks that bytes hold an encoding of the given type in one of the formats this build reads.
     *
     * @param bytes the encoding
     * @param type the type's name, for messages
     * @param oldest the oldest format version read
     * @param newest the newest format version read (the one written)
     * @return a big-endian buffer positioned after the format byte
     * @throws IllegalArgumentException if the bytes are empty or of another format
     */
    static ByteBuffer open(byte[] bytes, String type, byte oldest, byte newest) {
        if (bytes != null && bytes.length > 0 && bytes[0] >= oldest && bytes[0] <= newest) {
            return open(bytes, type, bytes[0]);
        }
        if (bytes == null || bytes.length == 0) {
            throw new IllegalArgumentException(type + " bytes are empty");
        }
        throw new IllegalArgumentException(
                "Unsupported "
                        + type
                        + " format version "
                        + bytes[0]
                        + "; this build reads format versions "
                        + oldest
                        + " to "
                        + newest);
    }
}
