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
    private final Tensor encoderRows;
    private final Tensor decoder;
    private final Tensor encoderBias;
    private final Tensor decoderBias;
    private final Tensor latentBias;
    private final List<SaeParameter> parameters;
    private final TensorCache scratch;

    TopKSae(SaeSpec spec, Device device) {
        this.spec = spec;
        this.device = device;
        this.ops = device.ops();
        this.k = spec.intSetting("k");
        int dIn = spec.dIn();
        int dSae = spec.dSae();
        this.encoderRows = device.allocate(DType.F32, dSae, dIn);
        this.decoder = device.allocate(DType.F32, dSae, dIn);
        this.encoderBias = device.allocate(DType.F32, dSae);
        this.decoderBias = device.allocate(DType.F32, dIn);
        this.latentBias = device.allocate(DType.F32, dSae);
        this.parameters = List.of(
                new SaeParameter("W_enc", encoderRows, true),
                new SaeParameter("W_dec", decoder, false),
                new SaeParameter("b_enc", encoderBias, false),
                new SaeParameter("b_dec", decoderBias, false));
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
        return parameters;
    }

    @Override
    public String unitNormRowsParameter() {
        return "W_dec";
    }

    @Override
    public Tensor latentBias() {
        return latentBias;
    }

    @Override
    public boolean supportsAuxK() {
        return true;
    }

    @Override
    public void initialize(long seed, float[] dataMean) {
        float[] rows = ParameterInit.randomRows(seed, spec.dSae(), spec.dIn(), 1.0);
        decoder.copyFrom(rows);
        encoderRows.copyFrom(rows);
        ops.fill(encoderBias, 0f);
        ops.fill(latentBias, 0f);
        if (dataMean != null) {
            decoderBias.copyFrom(checkMean(dataMean));
        } else {
            ops.fill(decoderBias, 0f);
        }
    }

    private float[] checkMean(float[] mean) {
        if (mean.length != spec.dIn()) {
            throw new IllegalArgumentException("data mean has " + mean.length + " dimensions, the SAE reads " + spec.dIn());
        }
        return mean;
    }

    /** Writes {@code x - b_dec} into {@code out}. */
    private void center(Tensor x, Tensor out) {
        ops.copy(x, out);
        ops.addRowVector(out, -1f, decoderBias);
    }

    private void preActivations(Tensor centered, Tensor pre, boolean withLatentBias) {
        ops.gemm(false, true, 1f, centered, encoderRows, 0f, pre);
        ops.addRowVector(pre, 1f, encoderBias);
        if (withLatentBias) {
            ops.addRowVector(pre, 1f, latentBias);
        }
    }

    @Override
    public LatentCodes encode(Tensor x) {
        int rows = checkInput(x);
        Tensor centered = scratch.f32("centered", rows, spec.dIn());
        Tensor pre = scratch.f32("pre", rows, spec.dSae());
        center(x, centered);
        preActivations(centered, pre, true);
        Tensor values = device.allocate(DType.F32, rows, k);
        Tensor indices = device.allocate(DType.I32, rows, k);
        ops.topKRows(pre, k, values, indices);
        ops.relu(values, 0f, values);
        return new LatentCodes.Sparse(values, indices);
    }

    @Override
    public void decode(LatentCodes codes, Tensor out) {
        switch (codes) {
            case LatentCodes.Sparse sparse -> ops.sparseDecode(sparse.values(), sparse.indices(), decoder, decoderBias, out);
            case LatentCodes.Dense dense -> {
                ops.gemm(false, false, 1f, dense.activations(), decoder, 0f, out);
                ops.addRowVector(out, 1f, decoderBias);
            }
        }
    }

    private int checkInput(Tensor x) {
        if (x.rank() != 2 || x.cols() != spec.dIn()) {
            throw new IllegalArgumentException("the SAE reads rows of " + spec.dIn() + " activations, got a tensor of shape "
                    + java.util.Arrays.toString(x.shape()));
        }
        return x.rows();
    }

    @Override
    public TrainingStepResult trainingStep(Tensor x, TrainingContext context, Map<String, Tensor> gradients) {
        int rows = checkInput(x);
        int dIn = spec.dIn();
        int dSae = spec.dSae();
        Tensor gEnc = gradients.get("W_enc");
        Tensor gDec = gradients.get("W_dec");
        Tensor gEncBias = gradients.get("b_enc");
        Tensor gDecBias = gradients.get("b_dec");

        // Forward.
        Tensor centered = scratch.f32("centered", rows, dIn);
        Tensor pre = scratch.f32("pre", rows, dSae);
        Tensor values = scratch.f32("values", rows, k);
        Tensor indices = scratch.i32("indices", rows, k);
        Tensor reconstruction = scratch.f32("reconstruction", rows, dIn);
        center(x, centered);
        preActivations(centered, pre, false);
        ops.topKRows(pre, k, values, indices);
        ops.relu(values, 0f, values);
        ops.sparseDecode(values, indices, decoder, decoderBias, reconstruction);

        // Loss: FVU against the batch mean. x - b_dec is nearly centred, which keeps the variance sum accurate.
        Tensor mean = scratch.f32("mean", dIn);
        ops.columnSums(centered, 1f / rows, 0f, mean);
        double variance = ops.sumSquares(centered) - rows * ops.sumSquares(mean);
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
        ops.fill(gDec, 0f);
        ops.sparseAccumulateRows(values, indices, gradReconstruction, 1f, gDec);
        Tensor gradValues = scratch.f32("gradValues", rows, k);
        ops.sparseRowDots(indices, gradReconstruction, decoder, gradValues);
        ops.reluBackward(values, gradValues, gradValues);
        ops.fill(gEncBias, 0f);
        ops.sparseColumnSums(gradValues, indices, 1f, gEncBias);
        ops.fill(gEnc, 0f);
        ops.sparseAccumulateRows(gradValues, indices, centered, 1f, gEnc);

        double auxFvu = AuxKLoss.accumulate(ops, scratch, context, pre, residual, centered, decoder, gDec, gEnc, gEncBias);

        // b_dec enters twice: added to x_hat, and subtracted from the encoder input (through every active latent).
        ops.columnSums(gradReconstruction, 1f, 0f, gDecBias);
        ops.gemm(false, false, -1f, gEncBias.view(1, dSae), encoderRows, 1f, gDecBias.view(1, dIn));

        ops.sparseColumnCountPositive(values, indices, context.firedCounts());
        double l0 = ops.countAbove(values, 0f) / (double) rows;
        double coefficient = context.auxK() == null ? 0 : context.auxK().coefficient();
        Map<String, Double> terms = new LinkedHashMap<>();
        terms.put("fvu", fvu);
        terms.put("mse", sse / ((double) rows * dIn));
        terms.put("auxk", auxFvu);
        return new TrainingStepResult(fvu + coefficient * auxFvu, terms, l0);
    }

    @Override
    public void close() {
        scratch.close();
        encoderRows.close();
        decoder.close();
        encoderBias.close();
        decoderBias.close();
        latentBias.close();
    }
}
