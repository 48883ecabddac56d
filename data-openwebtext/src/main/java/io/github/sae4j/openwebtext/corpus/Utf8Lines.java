package io.github.sae4j.openwebtext.corpus;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Lines of a UTF-8 file, decoded strictly: invalid UTF-8 is an error naming the file, the line and the byte offset,
 * never a silent U+FFFD. Line ends are {@code \n} or {@code \r\n}; neither is part of the line.
 */
final class Utf8Lines implements AutoCloseable {

    private final Path path;
    private final InputStream in;
    private final CharsetDecoder decoder = strictDecoder();
    private final byte[] buffer = new byte[1 << 16];
    private int position;
    private int limit;
    private byte[] line = new byte[256];
    private long offset;
    private long lineNumber;
    private long lineOffset;

    Utf8Lines(Path path) throws IOException {
        this.path = path;
        this.in = Files.newInputStream(path);
    }

    /** The next line, or null at the end of the file. */
    String next() throws IOException {
        int length = 0;
        boolean any = false;
        lineOffset = offset;
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
            int start = position;
            while (position < limit && buffer[position] != '\n') {
                position++;
            }
            int n = position - start;
            if (length + n > line.length) {
                line = Arrays.copyOf(line, Math.max(line.length * 2, length + n));
            }
            System.arraycopy(buffer, start, line, length, n);
            length += n;
            offset += n;
            if (position < limit) {
                position++;
                offset++;
                break;
            }
        }
        lineNumber++;
        if (length > 0 && line[length - 1] == '\r') {
            length--;
        }
        return decode(path, ByteBuffer.wrap(line, 0, length), decoder, "line " + lineNumber, lineOffset);
    }

    long lineNumber() {
        return lineNumber;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    static CharsetDecoder strictDecoder() {
        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
    }

    /** Decodes {@code bytes}; on invalid UTF-8 the error names the file, {@code where} and the file byte offset. */
    static String decode(Path path, ByteBuffer bytes, CharsetDecoder decoder, String where, long fileOffset)
            throws IOException {
        int start = bytes.position();
        try {
            return decoder.reset().decode(bytes).toString();
        } catch (CharacterCodingException e) {
            long at = fileOffset + bytes.position() - start;
            throw new IOException(path + ": invalid UTF-8 at byte offset " + at + " (" + where + "); sae4j reads "
                    + "text as UTF-8 only: convert the file (iconv -f LATIN1 -t UTF-8) or drop bad bytes "
                    + "(iconv -c -f UTF-8 -t UTF-8)", e);
        }
    }
}
