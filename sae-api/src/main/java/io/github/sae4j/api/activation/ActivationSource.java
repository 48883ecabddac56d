package io.github.sae4j.api.activation;

import java.io.IOException;

/** Activations with provenance: from stored shards, or live from a model over a sentence source. */
public interface ActivationSource extends AutoCloseable {

    ActivationSourceInfo info();

    /** Opens a stream of batches; several streams may be open at once. */
    ActivationStream open(ActivationReadOptions options) throws IOException;

    @Override
    void close() throws IOException;
}
