package io.github.sae4j.api.model;

import java.util.Arrays;

/**
 * Sampling settings. Sampling is seeded per sequence with {@code seed}, so a prompt generated alone or within a
 * batch, steered or not, draws the same random numbers.
 *
 * @param maxNewTokens stop after this many generated tokens
 * @param temperature  0 means greedy (argmax); otherwise logits are divided by it before sampling
 * @param topP         nucleus sampling: sample from the smallest set of tokens whose probability reaches this
 * @param topK         sample only from the k most likely tokens; 0 means no limit
 * @param seed         seeds sampling, so the same seed gives the same text (steered or not)
 * @param stopTokens   tokens that end generation; null means the tokenizer's {@link Tokenizer#stopTokens()}
 */
public record GenerationOptions(int maxNewTokens, float temperature, float topP, int topK, long seed,
                                int[] stopTokens) {

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
        if (topK < 0) {
            throw new IllegalArgumentException("top-k must be >= 0 (0 = no limit), got " + topK);
        }
        stopTokens = stopTokens == null ? null : stopTokens.clone();
    }

    public GenerationOptions(int maxNewTokens, float temperature, float topP, long seed) {
        this(maxNewTokens, temperature, topP, 0, seed, null);
    }

    public static GenerationOptions greedy(int maxNewTokens) {
        return new GenerationOptions(maxNewTokens, 0f, 1f, 0, 0, null);
    }

    public boolean isGreedy() {
        return temperature == 0f;
    }

    public GenerationOptions withStopTokens(int... tokens) {
        return new GenerationOptions(maxNewTokens, temperature, topP, topK, seed, tokens);
    }

    public GenerationOptions withTopK(int k) {
        return new GenerationOptions(maxNewTokens, temperature, topP, k, seed, stopTokens);
    }

    public GenerationOptions withSeed(long newSeed) {
        return new GenerationOptions(maxNewTokens, temperature, topP, topK, newSeed, stopTokens);
    }

    @Override
    public int[] stopTokens() {
        return stopTokens == null ? null : stopTokens.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GenerationOptions g && g.maxNewTokens == maxNewTokens
                && Float.compare(g.temperature, temperature) == 0 && Float.compare(g.topP, topP) == 0
                && g.topK == topK && g.seed == seed && Arrays.equals(g.stopTokens, stopTokens);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(new long[] {maxNewTokens, Float.floatToIntBits(temperature), Float.floatToIntBits(topP),
                topK, seed, Arrays.hashCode(stopTokens)});
    }

    @Override
    public String toString() {
        return "GenerationOptions[maxNewTokens=" + maxNewTokens + ", temperature=" + temperature + ", topP=" + topP
                + ", topK=" + topK + ", seed=" + seed + ", stopTokens="
                + (stopTokens == null ? "tokenizer's" : Arrays.toString(stopTokens)) + "]";
    }
}
