package io.github.sae4j.api.model;

/**
 * Sampling settings.
 *
 * @param maxNewTokens stop after this many generated tokens
 * @param temperature  0 means greedy (argmax); otherwise logits are divided by it before sampling
 * @param topP         nucleus sampling: sample from the smallest set of tokens whose probability reaches this
 * @param seed         seeds sampling, so the same seed gives the same text (steered or not)
 */
public record GenerationOptions(int maxNewTokens, float temperature, float topP, long seed) {

    public GenerationOptions {
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("maxNewTokens must be >= 0, got " + maxNewTokens);
        }
        if (!(temperature >= 0) || !Float.isFinite(temperature)) {
            throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        }
    }

    public static GenerationOptions greedy(int maxNewTokens) {
        return new GenerationOptions(maxNewTokens, 0f, 1f, 0);
    }

    public boolean isGreedy() {
        return temperature == 0f;
    }
}
