package io.github.sae4j.openwebtext.split;

import java.util.List;

/** Splits a document into sentences. Implementations are thread-safe. */
public interface SentenceSplitter {

    /** The name that {@link SentenceSplitters#create} knows it by. */
    String name();

    /**
     * The sentences of {@code text} in order, as spans that do not overlap, hold no leading or trailing
     * whitespace and are never empty. Text that is only whitespace has none.
     */
    List<TextSpan> split(String text);
}
