package io.github.sae4j.llama3.tokenizer;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The BPE model: the byte-level vocabulary and the ranked merges, applied to one pre-tokenized piece.
 *
 * <p>Merging follows the Hugging Face reference: repeatedly take the adjacent pair with the lowest merge rank and
 * merge all its occurrences left to right. With {@code ignoreMerges} (Llama 3) a piece that is itself a vocabulary
 * token is emitted whole: Meta's tiktoken encoder does this, and the merges alone do not always reach that token.
 */
final class BytePairMerges {

    private final Map<String, Integer> vocab;
    /** (left id, right id) packed in a long, to (rank, merged id) packed in a long. */
    private final Map<Long, Long> merges;
    private final int[] byteTokens = new int[256];
    private final boolean ignoreMerges;

    /**
     * @param source where the vocabulary and merges come from, for error messages (file and key)
     * @param merges pairs in rank order (rank = index)
     * @throws IllegalArgumentException if a merge names a token (or makes one) that is not in the vocabulary, or a
     *     byte has no single-character token
     */
    BytePairMerges(String source, Map<String, Integer> vocab, List<String[]> merges, boolean ignoreMerges) {
        this.vocab = vocab;
        this.ignoreMerges = ignoreMerges;
        for (int b = 0; b < 256; b++) {
            Integer id = vocab.get(String.valueOf(ByteLevel.charOf(b)));
            if (id == null) {
                throw new IllegalArgumentException(source + ": the vocabulary has no token for byte 0x"
                        + Integer.toHexString(b) + " (\"" + ByteLevel.charOf(b) + "\"); a byte-level BPE vocabulary"
                        + " must hold all 256 byte characters of GPT-2's bytes_to_unicode map; is this a byte-level"
                        + " (Llama 3 / GPT-2 style) tokenizer?");
            }
            byteTokens[b] = id;
        }
        this.merges = HashMap.newHashMap(merges.size());
        for (int rank = 0; rank < merges.size(); rank++) {
            String[] pair = merges.get(rank);
            int left = idOf(source, rank, pair, pair[0], "names");
            int right = idOf(source, rank, pair, pair[1], "names");
            int merged = idOf(source, rank, pair, pair[0] + pair[1], "makes");
            // The first occurrence of a pair wins, as in Hugging Face.
            this.merges.putIfAbsent(pack(left, right), pack(rank, merged));
        }
    }

    private int idOf(String source, int rank, String[] pair, String token, String verb) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw new IllegalArgumentException(source + ": merge " + rank + " \"" + pair[0] + " " + pair[1] + "\" "
                    + verb + " the token \"" + token + "\", which is not in the vocabulary; the merges and the"
                    + " vocabulary must come from the same tokenizer (re-export or re-download the tokenizer files)");
        }
        return id;
    }

    private static long pack(int high, int low) {
        return ((long) high << 32) | (low & 0xFFFFFFFFL);
    }

    /** The token ids of one pre-tokenized piece, given as UTF-8 bytes. */
    int[] encode(byte[] piece) {
        if (ignoreMerges) {
            Integer whole = vocab.get(ByteLevel.encode(piece));
            if (whole != null) {
                return new int[] {whole};
            }
        }
        int[] symbols = new int[piece.length];
        for (int i = 0; i < piece.length; i++) {
            symbols[i] = byteTokens[piece[i] & 0xFF];
        }
        int n = symbols.length;
        while (n > 1) {
            long best = Long.MAX_VALUE;
            int left = -1;
            int right = -1;
            for (int i = 0; i + 1 < n; i++) {
                Long merge = merges.get(pack(symbols[i], symbols[i + 1]));
                if (merge != null && merge < best) {
                    best = merge;
                    left = symbols[i];
                    right = symbols[i + 1];
                }
            }
            if (left < 0) {
                break;
            }
            int merged = (int) best;
            int out = 0;
            for (int i = 0; i < n; i++) {
                if (i + 1 < n && symbols[i] == left && symbols[i + 1] == right) {
                    symbols[out++] = merged;
                    i++;
                } else {
                    symbols[out++] = symbols[i];
                }
            }
            n = out;
        }
        return n == symbols.length ? symbols : Arrays.copyOf(symbols, n);
    }
}
