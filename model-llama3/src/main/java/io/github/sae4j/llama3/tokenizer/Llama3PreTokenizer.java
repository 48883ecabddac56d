package io.github.sae4j.llama3.tokenizer;

import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into the pieces that BPE encodes independently, with Llama 3's {@code Split} regex (behaviour
 * {@code Isolated}: matches and the gaps between them both become pieces).
 *
 * <p>The Hugging Face pattern is used verbatim: with {@link Pattern#UNICODE_CHARACTER_CLASS} Java's {@code \s} is
 * the Unicode {@code White_Space} property, as in Oniguruma (which {@code tokenizers} uses) and Python's
 * {@code regex}; without the flag it would be ASCII only and U+00A0, U+2028, U+3000 and U+0085 would split
 * differently. The flag also makes {@code (?i:'s|...)} case-insensitive over Unicode, so {@code 'ſ} (long s)
 * matches like {@code 's}. Java matches code points, so a surrogate pair (emoji) is never split.
 */
final class Llama3PreTokenizer {

    /** The pattern of Llama 3's {@code tokenizer.json} ({@code pre_tokenizer.pretokenizers[0].pattern.Regex}). */
    static final String LLAMA3_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private static final Pattern PATTERN = Pattern.compile(LLAMA3_PATTERN, Pattern.UNICODE_CHARACTER_CLASS);

    private Llama3PreTokenizer() {}

    /** Calls {@code piece} for each piece of {@code text[start, end)}, in order; the pieces concatenate to it. */
    static void split(String text, int start, int end, Consumer<String> piece) {
        Matcher m = PATTERN.matcher(text).region(start, end);
        int pos = start;
        while (m.find()) {
            if (m.start() == m.end()) {
                continue;
            }
            if (m.start() > pos) {
                piece.accept(text.substring(pos, m.start()));
            }
            piece.accept(text.substring(m.start(), m.end()));
            pos = m.end();
        }
        if (pos < end) {
            piece.accept(text.substring(pos, end));
        }
    }

    static List<String> split(String text) {
        List<String> pieces = new java.util.ArrayList<>();
        split(text, 0, text.length(), pieces::add);
        return pieces;
    }
}
