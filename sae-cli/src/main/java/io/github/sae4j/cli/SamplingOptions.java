package io.github.sae4j.cli;

import io.github.sae4j.api.model.GenerationOptions;
import picocli.CommandLine.Option;

/** Sampling options shared by {@code generate} and {@code chat}. */
final class SamplingOptions {

    @Option(names = "--max-tokens", defaultValue = "64", description = "new tokens at most (default ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0.8",
            description = "0 for greedy; otherwise logits are divided by it (default ${DEFAULT-VALUE})")
    float temperature;

    @Option(names = "--greedy", description = "greedy decoding (the same as --temperature 0)")
    boolean greedy;

    @Option(names = "--top-p", defaultValue = "0.95", description = "nucleus sampling mass (default ${DEFAULT-VALUE})")
    float topP;

    @Option(names = "--top-k", defaultValue = "0", description = "sample from the k most likely tokens; 0 = all (default ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--seed", defaultValue = "0", description = "sampling seed (default ${DEFAULT-VALUE})")
    long seed;

    GenerationOptions options() {
        return new GenerationOptions(maxTokens, greedy ? 0f : temperature, topP, topK, seed, null);
    }
}
