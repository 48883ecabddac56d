package io.github.sae4j.claude;

/**
 * What a run would cost, written by a dry run to {@code cost-estimate.json}. Input tokens are estimated from the
 * characters of each request (about {@value #CHARS_PER_TOKEN} characters per token for English text); output tokens
 * are bounded by max-tokens, so the cost is an upper estimate of the output and a rough one of the input.
 *
 * @param model                 the model the requests name
 * @param requests              requests that would be sent (latents without a label yet)
 * @param batches               batches they would go in
 * @param requestBytes          the size of all requests as JSON
 * @param estimatedInputTokens  prompt characters / {@value #CHARS_PER_TOKEN}, plus a few tokens of message framing
 * @param maxOutputTokens       requests x max-tokens
 * @param priceInputPerMTok     the assumed list price per million input tokens (USD)
 * @param priceOutputPerMTok    the assumed list price per million output tokens (USD)
 * @param estimatedCostUsd      at half the list prices (the Message Batches discount), if every request used its
 *                              whole max-tokens
 * @param requestsFile          where the requests were written (JSONL, one Message Batches request a line)
 */
public record CostEstimate(String model, int requests, int batches, long requestBytes, long estimatedInputTokens,
                           long maxOutputTokens, double priceInputPerMTok, double priceOutputPerMTok,
                           double estimatedCostUsd, String requestsFile) {

    public static final int CHARS_PER_TOKEN = 4;
    /** Message framing (role, turn markers) the API adds around each prompt; small next to a prompt. */
    static final int FRAMING_TOKENS = 10;

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT,
                "%d requests in %d batches for %s: about %,d input tokens, at most %,d output tokens;"
                        + " at most about $%.4f at batch prices ($%.2f / $%.2f per MTok list, half off)",
                requests, batches, model, estimatedInputTokens, maxOutputTokens, estimatedCostUsd,
                priceInputPerMTok, priceOutputPerMTok);
    }
}
