package io.github.sae4j.api.sae;

import io.github.sae4j.api.backend.Tensor;

/**
 * What the trainer hands an SAE for one training step. The trainer owns the statistics; the SAE
 * only reads {@link #deadMask()} and adds to {@link #firedCounts()}.
 */
public interface TrainingContext {

    /** F32 {@code [d_sae]}: 1 for latents the trainer counts as dead, 0 for the others. */
    Tensor deadMask();

    /** How many entries of {@link #deadMask()} are 1. */
    int deadCount();

    /** The AuxK loss settings, or null when AuxK is off. */
    AuxKSettings auxK();

    /** F32 {@code [d_sae]}, zeroed by the trainer before the step: the SAE adds how many rows each latent fired on. */
    Tensor firedCounts();

    /** A context of given values. */
    static TrainingContext of(Tensor deadMask, int deadCount, AuxKSettings auxK, Tensor firedCounts) {
        return new Values(deadMask, deadCount, auxK, firedCounts);
    }

    /** The plain implementation: what one step needs, as values. */
    record Values(Tensor deadMask, int deadCount, AuxKSettings auxK, Tensor firedCounts) implements TrainingContext {
    }
}
