package io.github.sae4j.core.sae;

import io.github.sae4j.api.backend.DType;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.backend.TensorOps;
import io.github.sae4j.api.sae.LatentCodes;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeParameter;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.api.sae.TrainingContext;
import io.github.sae4j.api.sae.TrainingStepResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * TopK SAE:
 * <pre>
 *   pre   = W_enc (x - b_dec) + b_enc (+ latent bias when steering)
 *   z     = relu(topk(pre, k))
 *   x_hat = W_dec^T z + b_dec
 *   loss  = ||x - x_hat||^2 / ||x - mean_B(x)||^2  (+ AuxK)
 * </pre>
 * b_dec doubles as the pre-encoder bias (b_pre) and starts at the data mean; W_enc starts as W_dec's transpose;
 * decoder rows have unit norm. The encoder is held as {@code [d_sae, d_in]} rows so that its gradient, like the
 * decoder's, touches only the k active rows per token; checkpoints store it as {@code [d_in, d_sae]}.
 */
public final class TopKSae implements Sae {

    private final SaeSpec spec;
    private final Device device;
    private final TensorOps ops;
    private final int k;
    private final AutoencoderWeights weights;
    private final TensorCache scratch;

    TopKSae(SaeSpec spec, Device device) {
        this.spec = spec;
        this.device = device;
        this.ops = device.ops();
        this.k = spec.intSetting("k");
        this.weights = new AutoencoderWeights(spec, device);
        this.scratch = new TensorCache(device);
    }

    @Override
    public SaeSpec spec() {
        return spec;
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public List<SaeParameter> parameters() {
        return weights.parameters();
    }

    @Override
    public String unitNormRowsParameter() {
        return "W_dec";
    }

    @Override
    public Tensor latentBias() {
        return weights.latentBias();
    }

    @Override
    public boolean supportsAuxK() {
        return true;
    }

    @Override
    public void initialize(long seed, float[] dataMean) {
        weights.initialize(seed, dataMean, 1.0);
    }

    @Override
    public LatentCodes encode(Tensor x) {
        int rows = weights.checkInput(x);
        Tensor centered = scratch.f32("centered", rows, spec.dIn());
        Tensor pre = scratch.f32("pre", rows, spec.dSae());
        weights.preActivations(x, centered, pre, true);
        return select(pre, rows);
    }

    /** One encoder product for all the sets: only the raised latent's pre-activation differs between them. */
    @Override
    public List<LatentCodes> encodeRaised(Tensor x, int[] latents, float[] strengths) {
        if (latents.length != strengths.length) {
            throw new IllegalArgumentException("encodeRaised: " + latents.length + " latents but " + strengths.length
                    + " strengths");
        }
        int rows = weights.checkInput(x);
        Tensor centered = scratch.f32("centered", rows, spec.dIn());
        Tensor pre = scratch.f32("pre", rows, spec.dSae());
        weights.preActivations(x, centered, pre, true);
        List<LatentCodes> out = new ArrayList<>();
        try {
            out.add(select(pre, rows));
            Tensor raised = scratch.f32("raised", rows, spec.dSae());
            for (int i = 0; i < latents.length; i++) {
                weights.raisePreActivations(pre, latents[i], strengths[i], scratch.f32("raisedLatent", spec.dSae()),
                        raised);
                out.add(select(raised, rows));
            }
            return out;
        } catch (RuntimeException | Error e) {
            out.forEach(LatentCodes::close);
            throw e;
        }
    }

    /** z = relu(topk(pre, k)), in new tensors. */
    private LatentCodes select(Tensor pre, int rows) {
        Tensor values = device.allocate(DType.F32, rows, k);
        Tensor indices = device.allocate(DType.I32, rows, k);
        ops.topKRows(pre, k, values, indices);
        ops.relu(values, 0f, values);
        return new LatentCodes.Sparse(values, indices);
    }

    @Override
    public void decode(LatentCodes codes, Tensor out) {
        weights.decode(codes, out);
    }

    @Override
    public TrainingStepResult trainingStep(Tensor x, TrainingContext context, Map<String, Tensor> gradients) {
        int rows = weights.checkInput(x);
        int dIn = spec.dIn();
        int dSae = spec.dSae();
        Tensor gEnc = gradients.get("W_enc");
        Tensor gDec = gradients.get("W_dec");
        Tensor gEncBias = gradients.get("b_enc");
        Tensor gDecBias = gradients.get("b_dec");
        Tensor decoder = weights.decoder();

        // Forward.
        Tensor centered = scratch.f32("centered", rows, dIn);
        Tensor pre = scratch.f32("pre", rows, dSae);
        Tensor values = scratch.f32("values", rows, k);
        Tensor indices = scratch.i32("indices", rows, k);
        Tensor reconstruction = scratch.f32("reconstruction", rows, dIn);
        weights.preActivations(x, centered, pre, false);
        ops.topKRows(pre, k, values, indices);
        ops.relu(values, 0f, values);
        ops.sparseDecode(values, indices, decoder, weights.decoderBias(), reconstruction);

        // Loss: FVU against the batch mean.
        double variance = weights.batchVariance(centered, scratch.f32("mean", dIn));
        if (!(variance > 0)) {
            variance = Math.max(ops.sumSquares(centered), 1e-30);
        }
        Tensor residual = scratch.f32("residual", rows, dIn);
        ops.copy(x, residual);
        ops.axpby(-1f, reconstruction, 1f, residual);
        double sse = ops.sumSquares(residual);
        double fvu = sse / variance;

        // Backward of the main loss: d/dx_hat = -2 (x - x_hat) / variance.
        Tensor gradReconstruction = scratch.f32("gradReconstruction", rows, dIn);
        ops.axpby((float) (-2.0 / variance), residual, 0f, gradReconstruction);
        backwardOfActive(ops, scratch, values, indices, gradReconstruction, centered, decoder, gDec, gEnc, gEncBias);

        double auxFvu = AuxKLoss.accumulate(ops, scratch, context, pre, residual, centered, decoder, gDec, gEnc, gEncBias);
        weights.decoderBiasGradient(gradReconstruction, gEncBias, gDecBias);

        ops.sparseColumnCountPositive(values, indices, context.firedCounts());
        double l0 = ops.countAbove(values, 0f) / (double) rows;
        double coefficient = context.auxK() == null ? 0 : context.auxK().coefficient();
        Map<String, Double> terms = new LinkedHashMap<>();
        terms.put("fvu", fvu);
        terms.put("mse", sse / ((double) rows * dIn));
        terms.put("auxk", auxFvu);
        return new TrainingStepResult(fvu + coefficient * auxFvu, terms, l0);
    }

    /**
     * The gradients of the main loss through the active latents ({@code values} after relu, {@code indices}), given
     * {@code dL/dx_hat}: decoder rows, encoder rows and encoder biases, overwriting the gradient tensors. Only the
     * active rows are touched.
     */
    static void backwardOfActive(TensorOps ops, TensorCache scratch, Tensor values, Tensor indices,
                                 Tensor gradReconstruction, Tensor encoderInput, Tensor decoder, Tensor gDec,
                                 Tensor gEnc, Tensor gEncBias) {
        ops.fill(gDec, 0f);
        ops.sparseAccumulateRows(values, indices, gradReconstruction, 1f, gDec);
        Tensor gradValues = scratch.f32("gradValues", values.rows(), values.cols());
        ops.sparseRowDots(indices, gradReconstruction, decoder, gradValues);
        ops.reluBackward(values, gradValues, gradValues);
        ops.fill(gEncBias, 0f);
        ops.sparseColumnSums(gradValues, indices, 1f, gEncBias);
        ops.fill(gEnc, 0f);
        ops.sparseAccumulateRows(gradValues, indices, encoderInput, 1f, gEnc);
    }

    AutoencoderWeights weights() {
        return weights;
    }

    TensorCache scratch() {
        return scratch;
    }

    int k() {
        return k;
    }

    @Override
    public void close() {
        scratch.close();
        weights.close();
    }
}
