package io.github.sae4j.api.model;

/** Receives the next-token logits of every position of every sequence of a forward call. */
@FunctionalInterface
public interface LogitsConsumer {

    /**
     * @param logits the vocabulary-sized row; valid only during the call (the model reuses the buffer)
     */
    void accept(int sequence, int position, float[] logits);
}
