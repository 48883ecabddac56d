package io.github.sae4j.api.label;

/**
 * A latent's label.
 *
 * @param label       the common meaning of its examples, or null when labeling failed
 * @param confidence  in [0, 1]
 * @param rawResponse what the labeler answered, kept for audit
 * @param error       why labeling failed, or null
 */
public record LatentLabel(int latent, String label, double confidence, String rawResponse, String error) {

    public boolean succeeded() {
        return error == null;
    }
}
