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

    /**
     * The same generation as {@link #generate(int[], GenerationOptions, List, GenerationListener)}, as an iterator
     * of tokens that runs on a thread of its own; close it to stop early.
     */
    default TokenStream stream(int[] prompt, GenerationOptions options, List<ResidualHook> hooks) {
        return new TokenStream(this, prompt, options, hooks);
    }

    /**
     * Generates continuations of several prompts together (each sequence stops on its own); result {@code i}
     * equals what {@link #generate(int[], GenerationOptions, List, GenerationListener)} gives for prompt {@code i}
     * alone. The default runs them one after another; models override it to batch the forward passes.
     */
    default List<GenerationResult> generate(List<int[]> prompts, GenerationOptions options, List<ResidualHook> hooks,
                                            BatchGenerationListener listener) {
        List<GenerationResult> results = new java.util.ArrayList<>(prompts.size());
        for (int i = 0; i < prompts.size(); i++) {
            int sequence = i;
            results.add(generate(prompts.get(i), options, hooks,
                    listener == null ? null : (token, text) -> listener.onToken(sequence, token, text)));
        }
        return results;
    }

    @Override
    void close();
}
