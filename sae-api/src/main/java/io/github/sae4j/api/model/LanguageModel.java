package io.github.sae4j.api.model;

import java.util.List;

/**
 * A causal language model with hooks on its residual stream: the source of activations, the place an SAE is
 * spliced into for evaluation, and the thing steering changes.
 */
public interface LanguageModel extends AutoCloseable {

    ModelInfo info();

    Tokenizer tokenizer();

    /**
     * Runs a batch of token sequences (of different lengths; no attention across sequences), calling the hooks
     * on the way and passing the logits of every position to {@code logits}.
     *
     * @param logits null to skip the output layer (capture only)
     */
    void forward(List<int[]> sequences, List<ResidualHook> hooks, LogitsConsumer logits);

    /** Generates a continuation of {@code prompt} with the hooks applied at every step, streaming tokens to the listener. */
    GenerationResult generate(int[] prompt, GenerationOptions options, List<ResidualHook> hooks,
                              GenerationListener listener);

    @Override
    void close();
}
