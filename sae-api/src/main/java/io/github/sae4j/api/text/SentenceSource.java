package io.github.sae4j.api.text;

import java.io.IOException;
import java.util.Iterator;
import java.util.OptionalLong;

/** Sentences in corpus order with stable ids. */
public interface SentenceSource extends AutoCloseable {

    /** Iterates from the first sentence; each call starts over. I/O errors surface as {@link java.io.UncheckedIOException}. */
    Iterator<Sentence> iterator();

    /** The number of sentences, if known without reading them all. */
    default OptionalLong size() {
        return OptionalLong.empty();
    }

    @Override
    void close() throws IOException;
}
