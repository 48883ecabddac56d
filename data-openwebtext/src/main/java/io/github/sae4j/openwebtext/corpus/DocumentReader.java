package io.github.sae4j.openwebtext.corpus;

import java.io.IOException;
import java.util.OptionalLong;

/** The documents of a corpus, in order. Not thread-safe. */
public interface DocumentReader extends AutoCloseable {

    /** The next document, or null after the last. */
    Document next() throws IOException;

    /** How many documents the corpus holds, if known without reading it (Parquet footers, a directory of files). */
    OptionalLong size();

    @Override
    void close() throws IOException;
}
