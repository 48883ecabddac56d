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
