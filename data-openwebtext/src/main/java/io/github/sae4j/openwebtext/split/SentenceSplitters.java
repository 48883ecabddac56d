package io.github.sae4j.openwebtext.split;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The sentence splitters by name. */
public final class SentenceSplitters {

    /** The splitter used unless another is asked for. */
    public static final String DEFAULT = "rules";

    private SentenceSplitters() {
    }

    /** The names {@link #create} accepts. */
    public static List<String> names() {
        return List.of(DEFAULT);
    }

    public static SentenceSplitter create(String name) {
        if (DEFAULT.equals(name)) {
            return new Naive();
        }
        throw new IllegalArgumentException("unknown sentence splitter '" + name + "'; use one of " + names());
    }

    /** Placeholder until the rule-based splitter lands: ends a sentence at . ! ? before whitespace. */
    private static final class Naive implements SentenceSplitter {
        private static final Pattern END = Pattern.compile("[.!?]+(?=\\s)|\\z");

        @Override
        public String name() {
            return DEFAULT;
        }

        @Override
        public List<TextSpan> split(String text) {
            List<TextSpan> out = new ArrayList<>();
            int from = 0;
            Matcher m = END.matcher(text);
            while (from < text.length() && m.find(from)) {
                int end = m.end();
                int s = from;
                while (s < end && Character.isWhitespace(text.charAt(s))) {
                    s++;
                }
                int e = end;
                while (e > s && Character.isWhitespace(text.charAt(e - 1))) {
                    e--;
                }
                if (e > s) {
                    out.add(new TextSpan(s, e));
                }
                from = end == from ? end + 1 : end;
            }
            return out;
        }
    }
}
