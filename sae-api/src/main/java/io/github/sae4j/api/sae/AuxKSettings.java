package io.github.sae4j.api.sae;

/**
 * The auxiliary-k loss that revives dead latents (Gao et al. 2024): the top {@code kAux} dead latents
 * reconstruct the main reconstruction's error, weighted by {@code coefficient}.
 */
public record AuxKSettings(int kAux, float coefficient) {

    public AuxKSettings {
        if (kAux <= 0) {
            throw new IllegalArgumentException("k_aux must be positive, got " + kAux);
        }
        if (!(coefficient >= 0) || !Float.isFinite(coefficient)) {
            throw new IllegalArgumentException("the AuxK coefficient must be >= 0, got " + coefficient);
        }
    }
}
