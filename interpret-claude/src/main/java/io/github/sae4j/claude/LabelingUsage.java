package io.github.sae4j.claude;

/**
 * Token usage and cost of a labeling run, from every result's usage, over all runs on the same state directory.
 * Written to {@code usage.json} at the end of a run.
 *
 * @param model                    the model the requests named
 * @param latents                  latents in the run
 * @param labeled                  latents with a label
 * @param failed                   latents that failed max-attempts times
 * @param batches                  batches created
 * @param results                  results taken in (a retried latent counts once per attempt)
 * @param inputTokens              input tokens billed
 * @param outputTokens             output tokens billed, thinking included
 * @param cacheCreationInputTokens input tokens written to the prompt cache
 * @param cacheReadInputTokens     input tokens read from the prompt cache
 * @param priceInputPerMTok        the assumed list price per million input tokens (USD)
 * @param priceOutputPerMTok       the assumed list price per million output tokens (USD)
 * @param costUsd                  at half the list prices (the Message Batches discount); cache tokens at the input price
 */
public record LabelingUsage(String model, int latents, int labeled, int failed, int batches, long results,
                            long inputTokens, long outputTokens, long cacheCreationInputTokens,
                            long cacheReadInputTokens, double priceInputPerMTok, double priceOutputPerMTok,
                            double costUsd) {

    /** Message Batches cost half the list price. */
    public static final double BATCH_DISCOUNT = 0.5;

    static double batchCost(long inputTokens, long outputTokens, double priceInputPerMTok, double priceOutputPerMTok) {
        return BATCH_DISCOUNT * (inputTokens * priceInputPerMTok + outputTokens * priceOutputPerMTok) / 1e6;
    }

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT,
                "%d of %d latents labeled, %d failed; %d batches, %d results; %,d input + %,d output tokens;"
                        + " about $%.4f at batch prices ($%.2f / $%.2f per MTok list, half off)",
                labeled, latents, failed, batches, results, inputTokens + cacheCreationInputTokens
                        + cacheReadInputTokens, outputTokens, costUsd, priceInputPerMTok, priceOutputPerMTok);
    }
}
