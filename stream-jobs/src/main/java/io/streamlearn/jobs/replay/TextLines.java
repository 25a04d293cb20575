package io.streamlearn.jobs.replay;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The lines of a replay file, one at a time, each decoded as UTF-8 on its own: a line that is not
 * UTF-8, or longer than {@link #MAX_LINE} bytes, comes back with the problem instead of its text,
 * so one bad line costs that line, not the file (Java's line readers fail the whole read on the
 * first bad byte). A line ends at {@code \n}; a {@code \r} before it is dropped.
 */
final class TextLines implements Closeable {
    /** The longest line read: 1 MiB. Rows of the replay files are tens of bytes. */
    static final int MAX_LINE = 1 << 20;

    /** One line: its 1-based number and its text, or what is wrong with it. */
    record Line(long number, String text, String problem) {}

    private final InputStream in;
    private final byte[] buffer = new byte[1 << 16];
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final CharsetDecoder utf8 =
            StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT);
    private int position;
    private int limit;
    private long number;

    TextLines(Path file) throws IOException {
        this.in = Files.newInputStream(file);
    }

    /** The next line, or null at the end of the file. */
    Line next() throws IOException {
        line.reset();
        long length = 0;
        boolean any = false;
        while (true) {
            if (position == limit) {
                limit = in.read(buffer);
                position = 0;
                if (limit <= 0) {
                    limit = 0;
                    if (!any) {
                        return null;
                    }
                    break;
                }
            }
            any = true;
            int end = position;
            while (end < limit && buffer[end] != '\n') {
                end++;
            }
            int take = end - position;
            if (length + take <= MAX_LINE) {
                line.write(buffer, position, take);
            }
            length += take;
            boolean found = end < limit;
            position = found ? end + 1 : end;
            if (found) {
                break;
            }
        }
        number++;
        if (length > MAX_LINE) {
            return new Line(number, null, "line of " + length + " bytes, longer than " + MAX_LINE);
        }
        byte[] bytes = line.toByteArray();
        int size =
                bytes.length > 0 && bytes[bytes.length - 1] == '\r'
                        ? bytes.length - 1
                        : bytes.length;
        try {
            return new Line(number, utf8.decode(ByteBuffer.wrap(bytes, 0, size)).toString(), null);
        } catch (CharacterCodingException e) {
            return new Line(number, null, "not UTF-8 text");
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
