package io.github.sae4j.llama3.tokenizer;

import io.github.sae4j.api.model.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.function.IntFunction;

/**
 * Streams token bytes out as text, holding back a trailing incomplete UTF-8 sequence: byte-level BPE splits a
 * character (an emoji, a CJK character) over several tokens, and decoding each token alone would emit U+FFFD.
 */
final class Utf8StreamingDecoder implements Tokenizer.StreamingDecoder {

    private final IntFunction<byte[]> tokenBytes;
    private byte[] pending = new byte[0];

    Utf8StreamingDecoder(IntFunction<byte[]> tokenBytes) {
        this.tokenBytes = tokenBytes;
    }

    @Override
    public String push(int token) {
        byte[] bytes = tokenBytes.apply(token);
        byte[] all = new byte[pending.length + bytes.length];
        System.arraycopy(pending, 0, all, 0, pending.length);
        System.arraycopy(bytes, 0, all, pending.length, bytes.length);
        int complete = completePrefix(all);
        pending = java.util.Arrays.copyOfRange(all, complete, all.length);
        return new String(all, 0, complete, StandardCharsets.UTF_8);
    }

    @Override
    public String finish() {
        String rest = new String(pending, StandardCharsets.UTF_8);
        pending = new byte[0];
        return rest;
    }

    /**
     * Length of the longest prefix that does not end inside a possibly valid multi-byte sequence. Only a lead byte
     * (C2..F4) followed by fewer continuation bytes than it announces is held back; invalid bytes go out at once
     * (as U+FFFD), so a broken stream never stalls.
     */
    static int completePrefix(byte[] b) {
        int n = b.length;
        for (int back = 1; back <= 3 && back <= n; back++) {
            int v = b[n - back] & 0xFF;
            if ((v & 0xC0) == 0x80) {
                continue; // continuation byte: look further back for the lead
            }
            int needed = v >= 0xF0 && v <= 0xF4 ? 4 : v >= 0xE0 && v <= 0xEF ? 3 : v >= 0xC2 && v <= 0xDF ? 2 : 1;
            return needed > back ? n - back : n;
        }
        return n;
    }
}
