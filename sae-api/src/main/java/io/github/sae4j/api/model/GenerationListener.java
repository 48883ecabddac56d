package io.github.sae4j.api.model;

/** Receives generated tokens as they are produced. */
@FunctionalInterface
public interface GenerationListener {

    /**
     * @param token     the new token
     * @param textDelta the text that became complete with it (may be empty: UTF-8 characters are never split)
     */
    void onToken(int token, String textDelta);
}
