package io.github.sae4j.core.sae;

import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.backend.TensorOps;
import io.github.sae4j.api.sae.AuxKSettings;
import io.github.sae4j.api.sae.TrainingContext;

/**
 * The auxiliary-k loss of Gao et al. (2024): the {@code k_aux} largest pre-activations among dead latents
 * reconstruct the main reconstruction's error {@code e = x - x_hat}, which is treated as a constant.
 *
 * <pre>  L_aux = coefficient * ||e - e_hat||^2 / ||e - mean(e)||^2,   e_hat = W_dec^T relu(topk_dead(pre))</pre>
 *
 * <p>e_hat carries no decoder bias (the bias is already inside x_hat, so adding it would count it twice). Its
 * gradient reaches the dead latents' decoder rows and, through their pre-activations, their encoder rows and
 * encoder biases (EleutherAI sparsify's fused encoder loses the latter). The decoder-bias gradient through the
 * encoder input is left to the caller, which sums it once over the main and auxiliary paths.
 */
public final class AuxKLoss {

    private AuxKLoss() {
    }

    /**
     * Adds the AuxK gradients to the given gradient tensors and returns the unweighted auxiliary FVU
     * (0 when no latent is dead or the error has no variance).
     *
     * @param pre          {@code [B, d_sae]} pre-activations of the batch
     * @param residual     {@code [B, d_in]} the main error {@code x - x_hat}
     * @param encoderInput {@code [B, d_in]} what the encoder multiplied ({@code x - b_dec})
     * @param decoder      {@code [d_sae, d_in]} decoder rows
     * @param gradDecoder  {@code [d_sae, d_in]} accumulates the decoder gradient
     * @param gradEncoderRows {@code [d_sae, d_in]} accumulates the encoder gradient, one row per latent
     * @param gradEncoderBias {@code [d_sae]} accumulates the encoder bias gradient
     */
    public static double accumulate(TensorOps ops, TensorCache scratch, TrainingContext context, Tensor pre,
                                    Tensor residual, Tensor encoderInput, Tensor decoder, Tensor gradDecoder,
                                    Tensor gradEncoderRows, Tensor gradEncoderBias) {
        AuxKSettings settings = context.auxK();
        if (settings == null || context.deadCount() == 0 || settings.coefficient() == 0f) {
            return 0;
        }
        int rows = pre.rows();
        int dIn = residual.cols();
        int kAux = Math.min(settings.kAux(), Math.min(context.deadCount(), pre.cols()));
        Tensor values = scratch.f32("auxk.values", rows, kAux);
        Tensor indices = scratch.i32("auxk.indices", rows, kAux);
        ops.topKRowsMasked(pre, context.deadMask(), kAux, values, indices);
        ops.relu(values, 0f, values);

        double variance = AutoencoderWeights.batchVariance(ops, residual, scratch.f32("auxk.mean", dIn));
        if (!(variance > 0)) {
            return 0;
        }
        Tensor errorHat = scratch.f32("auxk.errorHat", rows, dIn);
        ops.sparseDecode(values, indices, decoder, null, errorHat);
        double auxFvu = ops.sumSquaredDifference(errorHat, residual) / variance;
        gradientOfErrorHat(ops, settings, variance, residual, errorHat);
        backward(ops, scratch, values, indices, errorHat, decoder, encoderInput, gradDecoder, gradEncoderRows,
                gradEncoderBias);
        return auxFvu;
    }

    /** {@code d L / d e_hat = coefficient * 2 (e_hat - e) / variance}, written over {@code errorHat}. */
    public static void gradientOfErrorHat(TensorOps ops, AuxKSettings settings, double variance, Tensor residual,
                                          Tensor errorHat) {
        float scale = (float) (settings.coefficient() * 2.0 / variance);
        ops.axpby(-scale, residual, scale, errorHat);
    }

    /**
     * Adds the gradients of the selected dead latents ({@code values} after relu, {@code indices}) given
     * {@code dL/de_hat}: their decoder rows, and through their pre-activations their encoder rows and biases.
     */
    public static void backward(TensorOps ops, TensorCache scratch, Tensor values, Tensor indices,
                                Tensor gradErrorHat, Tensor decoder, Tensor encoderInput, Tensor gradDecoder,
                                Tensor gradEncoderRows, Tensor gradEncoderBias) {
        ops.sparseAccumulateRows(values, indices, gradErrorHat, 1f, gradDecoder);
        Tensor gradValues = scratch.f32("auxk.gradValues", values.rows(), values.cols());
        ops.sparseRowDots(indices, gradErrorHat, decoder, gradValues);
        ops.reluBackward(values, gradValues, gradValues);
        ops.sparseColumnSums(gradValues, indices, 1f, gradEncoderBias);
        ops.sparseAccumulateRows(gradValues, indices, encoderInput, 1f, gradEncoderRows);
    }
}
