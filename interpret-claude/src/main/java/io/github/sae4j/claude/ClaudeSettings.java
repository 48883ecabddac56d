package io.github.sae4j.claude;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The options of the {@code claude} labeler, parsed and checked. Every option is documented in
 * docs/interpret-claude.md; the defaults are the constants below.
 *
 * @param model             the Claude model id sent with every request
 * @param maxTokens         max_tokens per request; on models that think by default it covers thinking and answer
 * @param effort            output_config.effort ("low", "medium", ...), or empty to leave it to the model
 * @param dryRun            write the requests and a cost estimate instead of sending anything
 * @param baseUrl           the API's base URL, or empty for the SDK's default (https://api.anthropic.com)
 * @param pollInterval      how long to wait between two looks at a batch that has not ended
 * @param maxAttempts       how many times a latent is sent before it is reported as failed
 * @param examples          how many top examples of each latent go into its prompt
 * @param batchSize         the most requests in one batch (the API allows {@value #API_MAX_REQUESTS})
 * @param timeout           the HTTP timeout of one API call
 * @param maxRetries        how often the SDK retries one API call (429, 5xx, timeouts), honouring retry-after
 * @param priceInputPerMTok list price in USD per million input tokens (batches cost half)
 * @param priceOutputPerMTok list price in USD per million output tokens (batches cost half)
 */
public record ClaudeSettings(String model, int maxTokens, Optional<String> effort, boolean dryRun,
                             Optional<String> baseUrl, Duration pollInterval, int maxAttempts, int examples,
                             int batchSize, Duration timeout, int maxRetries, double priceInputPerMTok,
                             double priceOutputPerMTok) {

    /** The current Sonnet when this module was written; the SDK 3.16.0 also knows it as Model.CLAUDE_SONNET_5_5. */
    public static final String DEFAULT_MODEL = "claude-sonnet-5-5";
    /** Room for adaptive thinking at low effort plus a one-line JSON answer. */
    public static final int DEFAULT_MAX_TOKENS = 2048;
    public static final String DEFAULT_EFFORT = "low";
    public static final double DEFAULT_POLL_SECONDS = 60;
    public static final int DEFAULT_MAX_ATTEMPTS = 3;
    public static final int DEFAULT_EXAMPLES = 20;
    public static final double DEFAULT_TIMEOUT_SECONDS = 120;
    public static final int DEFAULT_MAX_RETRIES = 4;
    /** Assumed list prices of the default model (USD per million tokens); check the pricing page for yours. */
    public static final double DEFAULT_PRICE_INPUT_PER_MTOK = 2.0;
    public static final double DEFAULT_PRICE_OUTPUT_PER_MTOK = 10.0;
    /** The Message Batches API's limits on one batch. */
    public static final int API_MAX_REQUESTS = 100_000;
    public static final long API_MAX_BYTES = 256L * 1024 * 1024;

    /** The option names, in the order the docs list them. */
    public static final List<String> OPTIONS = List.of("model", "max-tokens", "effort", "dry-run", "base-url",
            "poll-seconds", "max-attempts", "examples", "batch-size", "timeout-seconds", "max-retries",
            "price-input-per-mtok", "price-output-per-mtok");

    public ClaudeSettings {
        if (model == null || model.isBlank()) {
            throw new IllegalArgumentException("claude labeler option model must name a Claude model, got '" + model
                    + "'");
        }
    }

    /** The defaults, as a user who passes no option gets them. */
    public static ClaudeSettings defaults() {
        return parse(Map.of());
    }

    /**
     * Parses labeler options.
     *
     * @throws IllegalArgumentException naming the option, the value and what it accepts; for an unknown option,
     *                                  listing the valid ones
     */
    public static ClaudeSettings parse(Map<String, String> options) {
        Map<String, String> rest = new LinkedHashMap<>(options);
        String model = text(rest.remove("model"), DEFAULT_MODEL);
        int maxTokens = integer(rest.remove("max-tokens"), "max-tokens", DEFAULT_MAX_TOKENS, 1);
        String effortText = rest.remove("effort");
        Optional<String> effort = effortText == null ? Optional.of(DEFAULT_EFFORT)
                : effortText.isBlank() || effortText.trim().equals("none") ? Optional.empty()
                : Optional.of(effortText.trim());
        boolean dryRun = bool(rest.remove("dry-run"), "dry-run");
        String baseUrlText = rest.remove("base-url");
        Optional<String> baseUrl = baseUrlText == null || baseUrlText.isBlank() ? Optional.empty()
                : Optional.of(baseUrlText.trim());
        baseUrl.ifPresent(url -> {
            if (!url.startsWith("http://") && !url.startsWith("https://")) {
                throw new IllegalArgumentException("claude labeler option base-url must be an http(s) URL, got '" + url
                        + "'");
            }
        });
        Duration poll = seconds(rest.remove("poll-seconds"), "poll-seconds", DEFAULT_POLL_SECONDS);
        int maxAttempts = integer(rest.remove("max-attempts"), "max-attempts", DEFAULT_MAX_ATTEMPTS, 1);
        int examples = integer(rest.remove("examples"), "examples", DEFAULT_EXAMPLES, 1);
        int batchSize = integer(rest.remove("batch-size"), "batch-size", API_MAX_REQUESTS, 1);
        if (batchSize > API_MAX_REQUESTS) {
            throw new IllegalArgumentException("claude labeler option batch-size must be at most " + API_MAX_REQUESTS
                    + " (the Message Batches API's limit), got " + batchSize);
        }
        Duration timeout = seconds(rest.remove("timeout-seconds"), "timeout-seconds", DEFAULT_TIMEOUT_SECONDS);
        int maxRetries = integer(rest.remove("max-retries"), "max-retries", DEFAULT_MAX_RETRIES, 0);
        double priceIn = price(rest.remove("price-input-per-mtok"), "price-input-per-mtok",
                DEFAULT_PRICE_INPUT_PER_MTOK);
        double priceOut = price(rest.remove("price-output-per-mtok"), "price-output-per-mtok",
                DEFAULT_PRICE_OUTPUT_PER_MTOK);
        if (!rest.isEmpty()) {
            throw new IllegalArgumentException("the claude labeler has no option '" + rest.keySet().iterator().next()
                    + "'; its options: " + String.join(", ", OPTIONS));
        }
        return new ClaudeSettings(model, maxTokens, effort, dryRun, baseUrl, poll, maxAttempts, examples, batchSize,
                timeout, maxRetries, priceIn, priceOut);
    }

    private static String text(String value, String fallback) {
        return value == null ? fallback : value.trim();
    }

    private static int integer(String text, String key, int fallback, int min) {
        if (text == null) {
            return fallback;
        }
        try {
            int v = Integer.parseInt(text.trim());
            if (v >= min) {
                return v;
            }
        } catch (NumberFormatException ignored) {
            // fall through to the message
        }
        throw new IllegalArgumentException("claude labeler option " + key + " must be an integer >= " + min
                + ", got '" + text + "'");
    }

    private static boolean bool(String text, String key) {
        if (text == null) {
            return false;
        }
        return switch (text.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "true", "yes", "1" -> true;
            case "false", "no", "0" -> false;
            default -> throw new IllegalArgumentException("claude labeler option " + key
                    + " must be true or false, got '" + text + "'");
        };
    }

    private static Duration seconds(String text, String key, double fallback) {
        double s = fallback;
        if (text != null) {
            try {
                s = Double.parseDouble(text.trim());
            } catch (NumberFormatException e) {
                s = -1;
            }
            if (!(s > 0) || Double.isInfinite(s)) {
                throw new IllegalArgumentException("claude labeler option " + key
                        + " must be a positive number of seconds (decimals allowed), got '" + text + "'");
            }
        }
        return Duration.ofNanos(Math.round(s * 1e9));
    }

    private static double price(String text, String key, double fallback) {
        if (text == null) {
            return fallback;
        }
        try {
            double v = Double.parseDouble(text.trim());
            if (v >= 0 && !Double.isInfinite(v)) {
                return v;
            }
        } catch (NumberFormatException ignored) {
            // fall through to the message
        }
        throw new IllegalArgumentException("claude labeler option " + key
                + " must be a price in USD per million tokens (a number >= 0), got '" + text + "'");
    }
}
