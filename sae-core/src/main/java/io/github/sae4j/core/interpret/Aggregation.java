package io.github.sae4j.core.interpret;

import java.util.Locale;

/** How a sentence's per-token activations of one latent become the score that ranks the sentence. */
public enum Aggregation {
    /** The largest activation over the sentence's tokens. */
    MAX,
    /** The mean over all the sentence's tokens (tokens where the latent is off count as 0). */
    MEAN,
    /** The activation at the sentence's last token. */
    LAST;

    public static Aggregation parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("aggregation must be max, mean or last, got '" + s + "'", e);
        }
    }
}
