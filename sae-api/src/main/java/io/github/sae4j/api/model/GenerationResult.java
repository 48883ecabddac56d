package io.github.sae4j.api.model;

/**
 * @param tokens     the generated tokens (not the prompt)
 * @param text       their text
 * @param stopReason why generation ended
 */
public record GenerationResult(int[] tokens, String text, StopReason stopReason) {

    public enum StopReason {
        /** A stop token was generated. */
        STOP_TOKEN,
        /** maxNewTokens was reached. */
        LENGTH,
        /** The model's context is full. */
        CONTEXT_FULL
    }
}
