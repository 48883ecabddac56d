package io.github.sae4j.api.label;

import java.util.List;

/**
 * A sentence that activates a latent.
 *
 * @param sentenceId  the sentence's stable id
 * @param tokens      the sentence's tokens as text
 * @param activations the latent's activation at each token (same length as tokens)
 * @param score       the aggregate that ranked it (max, mean or last-token activation)
 */
public record ActivatingExample(long sentenceId, List<String> tokens, float[] activations, float score) {

    public ActivatingExample {
        tokens = List.copyOf(tokens);
        if (tokens.size() != activations.length) {
            throw new IllegalArgumentException(tokens.size() + " tokens but " + activations.length + " activations");
        }
    }

    public String text() {
        return String.join("", tokens);
    }
}
