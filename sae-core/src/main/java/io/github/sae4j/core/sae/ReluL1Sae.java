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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ReLU SAE with the decoder-norm-weighted L1 penalty:
 * <pre>
 *   f     = relu(W_enc (x - b_dec) + b_enc)
 *   x_hat = W_dec^T f + b_dec
 *   loss  = mean_B ||x - x_hat||^2 + lambda * mean_B sum_i f_i ||W_dec,i||
 * </pre>
 * Weighting by the decoder norm keeps the penalty from being dodged by shrinking f and growing W_dec, so the
 * decoder needs no norm constraint. The codes are dense, so every product is a GEMM.
 */
public final class ReluL1Sae implements Sae {

    private final SaeSpec spec;
    private final Device device;
    private final TensorOps ops;
    private final float l1;
    private final AutoencoderWeights weights;
    private final TensorCache scratch;

    ReluL1Sae(SaeSpec spec, Device device) {
        this.spec = spec;
        this.device = device;
        this.ops = device.ops();
        this.l1 = (float) spec.doubleSetting("l1_coefficient");
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
    public Tensor latentBias() {
        return weights.latentBias();
    }

    @Override
    public void initialize(long seed, float[] dataMean) {
        weights.initialize(seed, dataMean, spec.doubleSetting("init_decoder_norm"));
    }

    private void activations(Tensor x, Tensor centered, Tensor f, boolean withLatentBias) {
        weights.preActivations(x, centered, f, withLatentBias);
        ops.relu(f, 0f, f);
    }

    @Override
    public LatentCodes encode(Tensor x) {
        int rows = weights.checkInput(x);
        Tensor f = device.allocate(DType.F32, rows, spec.dSae());
        activations(x, scratch.f32("centered", rows, spec.dIn()), f, true);
        return new LatentCodes.Dense(f);
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

        Tensor centered = scratch.f32("centered", rows, dIn);
        Tensor f = scratch.f32("f", rows, dSae);
        Tensor reconstruction = scratch.f32("reconstruction", rows, dIn);
        activations(x, centered, f, false);
        weights.decode(new LatentCodes.Dense(f), reconstruction);

        Tensor norms = scratch.f32("decoderNorms", dSae);
        ops.rowNorms(decoder, norms);
        Tensor fSums = scratch.f32("fSums", dSae);
        ops.columnSums(f, 1f, 0f, fSums);
        double penalty = l1 * ops.dot(fSums, norms) / rows;

        Tensor residual = scratch.f32("residual", rows, dIn);
        ops.copy(x, residual);
        ops.axpby(-1f, reconstruction, 1f, residual);
        double sse = ops.sumSquares(residual);
        double variance = weights.batchVariance(centered, scratch.f32("mean", dIn));

        // d/dx_hat of mean_B ||x - x_hat||^2 = -2 (x - x_hat) / B.
        Tensor gradReconstruction = scratch.f32("gradReconstruction", rows, dIn);
        ops.axpby(-2f / rows, residual, 0f, gradReconstruction);
        ops.gemm(true, false, 1f, f, gradReconstruction, 0f, gDec);
        // The penalty's pull on each decoder row: lambda/B * (sum_b f_bi) * W_dec,i / ||W_dec,i||.
        float[] sums = fSums.toFloatArray();
        float[] norm = norms.toFloatArray();
        for (int i = 0; i < dSae; i++) {
            sums[i] = norm[i] > 0 ? sums[i] / norm[i] : 0f;
        }
        Tensor rowScales = scratch.f32("rowScales", dSae);
        rowScales.copyFrom(sums);
        ops.addScaledRows(decoder, rowScales, l1 / rows, gDec);

        Tensor gradF = scratch.f32("gradF", rows, dSae);
        ops.gemm(false, true, 1f, gradReconstruction, decoder, 0f, gradF);
        ops.addRowVector(gradF, l1 / rows, norms);
        ops.reluBackward(f, gradF, gradF);
        ops.columnSums(gradF, 1f, 0f, gEncBias);
        ops.gemm(true, false, 1f, gradF, centered, 0f, gEnc);
        weights.decoderBiasGradient(gradReconstruction, gEncBias, gDecBias);

        ops.columnCountAbove(f, 0f, context.firedCounts());
        double l0 = ops.countAbove(f, 0f) / (double) rows;
        Map<String, Double> terms = new LinkedHashMap<>();
        terms.put("fvu", variance > 0 ? sse / variance : Double.NaN);
        terms.put("mse", sse / ((double) rows * dIn));
        terms.put("l1", penalty);
        return new TrainingStepResult(sse / rows + penalty, terms, l0);
    }

    @Override
    public void close() {
        scratch.close();
        weights.close();
    }
}
