package io.github.sae4j.api.activation;

import java.io.IOException;

/** Batches of activation rows in a reproducible order. */
public interface ActivationStream extends AutoCloseable {

    /**
     * Fills {@code batch} with up to its capacity of rows.
     *
     * @return false when the stream has ended (no rows were written)
     * @throws IOException if a shard cannot be read, naming it
     */
    boolean next(ActivationBatch batch) throws IOException;

    /**
     * Where the stream stands after the rows returned so far, as text: opening the source again with this
     * cursor and the same options continues with exactly the rows that would have come next.
     */
    String cursor();

    @Override
    void close() throws IOException;
}
