package io.github.sae4j.openwebtext.split;

/** Characters {@code [start, end)} of a text (UTF-16 indices, as {@link String#substring(int, int)} takes them). */
public record TextSpan(int start, int end) {

    public TextSpan {
        if (start < 0 || end < start) {
            throw new IllegalArgumentException("a span needs 0 <= start <= end, got [" + start + ", " + end + ")");
        }
    }

    public String of(String text) {
        return text.substring(start, end);
    }
}
