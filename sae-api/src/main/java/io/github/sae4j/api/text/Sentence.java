package io.github.sae4j.api.text;

import java.util.Objects;

/**
 * One sentence of a corpus.
 *
 * @param id            stable across runs over the same corpus: the same sentence always gets the same id
 * @param docId         the document it came from
 * @param sentenceIndex its position within the document, from 0
 * @param text          the sentence
 */
public record Sentence(long id, long docId, int sentenceIndex, String text) {

    public Sentence {
        Objects.requireNonNull(text, "text");
    }
}
