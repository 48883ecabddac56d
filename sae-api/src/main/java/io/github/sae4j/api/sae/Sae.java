package io.github.sae4j.api.sae;

import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import java.util.List;
import java.util.Map;

/**
 * A sparse autoencoder on one device. Inputs are in the SAE's scaled units (raw activations times
 * {@link SaeSpec#inputScale()}). Forward passes ({@link #encode}, {@link #decode}) have no side effects:
 * statistics such as dead latents belong to the trainer.
 */
public interface Sae extends AutoCloseable {

    SaeSpec spec();

    Device device();

    /** The parameters in checkpoint order. The trainer updates the trainable ones in place. */
    List<SaeParameter> parameters();

    /** The parameter with this checkpoint name. */
    default SaeParameter parameter(String name) {
        for (SaeParameter p : parameters()) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        throw new IllegalArgumentException("SAE '" + spec().architecture() + "' has no parameter '" + name + "'");
    }

    /**
     * The parameter whose rows are kept at unit norm (the decoder, one row per latent), or null. The trainer
     * projects its gradient and renormalizes it after each step, in one place for every architecture.
     */
    default String unitNormRowsParameter() {
        return null;
    }

    /** Sets the initial values of all parameters, drawn from {@code seed}; {@code dataMean} (scaled units, may be null) seeds the decoder bias. */
    void initialize(long seed, float[] dataMean);

    /**
     * F32 {@code [d_sae]} added to the pre-activations before the sparsity rule (TopK competition, ReLU). Zero,
     * and not trained; steering raises latents through it. Null for architectures without one.
     */
    default Tensor latentBias() {
        return null;
    }

    /** Latent activations of {@code x} ({@code [rows, d_in]}). The caller closes the result. */
    LatentCodes encode(Tensor x);

    /**
     * The codes of {@code x} as {@link #encode} gives them, then one set per entry of {@code latents}: the codes with
     * {@code strengths[i]} added to latent {@code latents[i]}'s pre-activation before the sparsity rule, as
     * {@link #encode} gives them with {@link #latentBias()} raised there (steering's bias mode needs both). This
     * default raises the latent bias and encodes once per set, then restores it; architectures whose encoder shares
     * its product between the sets override it to encode once. The caller closes every result.
     */
    default List<LatentCodes> encodeRaised(Tensor x, int[] latents, float[] strengths) {
        if (latents.length != strengths.length) {
            throw new IllegalArgumentException("encodeRaised: " + latents.length + " latents but " + strengths.length
                    + " strengths");
        }
        Tensor bias = latentBias();
        if (latents.length > 0 && bias == null) {
            throw new UnsupportedOperationException("the " + spec().architecture() + " SAE has no latent bias, so "
                    + "it cannot raise a latent before its sparsity rule; steer it with add or clamp instead");
        }
        List<LatentCodes> out = new java.util.ArrayList<>();
        try {
            out.add(encode(x));
            for (int i = 0; i < latents.length; i++) {
                float[] saved = bias.toFloatArray();
                float[] raised = saved.clone();
                raised[latents[i]] += strengths[i];
                bias.copyFrom(raised);
                try {
                    out.add(encode(x));
                } finally {
                    bias.copyFrom(saved);
                }
            }
            return out;
        } catch (RuntimeException | Error e) {
            out.forEach(LatentCodes::close);
            throw e;
        }
    }

    /** Writes the reconstruction of {@code codes} into {@code out} ({@code [rows, d_in]}). */
    void decode(LatentCodes codes, Tensor out);

    /** Whether {@link #trainingStep} applies the AuxK loss when the context asks for it. */
    default boolean supportsAuxK() {
        return false;
    }

    /**
     * One forward and backward pass on a batch: writes the gradient of the loss with respect to every trainable
     * parameter into {@code gradients} (same names and layouts as {@link #parameters()}), overwriting their old contents,
     * and adds per-latent firing counts to {@link TrainingContext#firedCounts()}.
     */
    TrainingStepResult trainingStep(Tensor x, TrainingContext context, Map<String, Tensor> gradients);

    /** Frees the parameters and any workspace. */
    @Override
    void close();
}
