package io.github.sae4j.api.model;

/** Receives the tokens of several sequences generated together, as they are produced. */
@FunctionalInterface
public interface BatchGenerationListener {

    /**
     * @param sequence  the prompt's index in the batch
     * @param token     the new token
     * @param textDelta the text that became complete with it (may be empty: UTF-8 characters are never split)
     */
    void onToken(int sequence, int token, String textDelta);
}
