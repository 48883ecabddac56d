package io.github.sae4j.openwebtext.corpus;

/**
 * One document of a corpus.
 *
 * @param index    its position in the corpus, from 0, counting every document (skipped ones too)
 * @param text     the text; null where the corpus holds a null value
 * @param location where it is, for messages: a file and a row or line
 */
public record Document(long index, String text, String location) {
}
