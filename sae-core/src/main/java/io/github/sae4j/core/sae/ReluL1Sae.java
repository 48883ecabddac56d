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
import java.util.Arrays;
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
    private final Tensor encoderRows;
    private final Tensor decoder;
    private final Tensor encoderBias;
    private final Tensor decoderBias;
    private final Tensor latentBias;
    private final List<SaeParameter> parameters;
    private final TensorCache scratch;

    ReluL1Sae(SaeSpec spec, Device device) {
        this.spec = spec;
        this.device = device;
        this.ops = device.ops();
        this.l1 = (float) spec.doubleSetting("l1_coefficient");
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
    public Tensor latentBias() {
        return latentBias;
    }

    @Override
    public void initialize(long seed, float[] dataMean) {
        float[] rows = ParameterInit.randomRows(seed, spec.dSae(), spec.dIn(), spec.doubleSetting("init_decoder_norm"));
        decoder.copyFrom(rows);
        encoderRows.copyFrom(rows);
        ops.fill(encoderBias, 0f);
        ops.fill(latentBias, 0f);
        if (dataMean != null) {
            if (dataMean.length != spec.dIn()) {
                throw new IllegalArgumentException("data mean has " + dataMean.length + " dimensions, the SAE reads "
                        + spec.dIn());
            }
            decoderBias.copyFrom(dataMean);
        } else {
            ops.fill(decoderBias, 0f);
        }
    }

    private int checkInput(Tensor x) {
        if (x.rank() != 2 || x.cols() != spec.dIn()) {
            throw new IllegalArgumentException("the SAE reads rows of " + spec.dIn() + " activations, got a tensor of shape "
                    + Arrays.toString(x.shape()));
        }
        return x.rows();
    }

    private void activations(Tensor x, Tensor centered, Tensor out, boolean withLatentBias) {
        ops.copy(x, centered);
        ops.addRowVector(centered, -1f, decoderBias);
        ops.gemm(false, true, 1f, centered, encoderRows, 0f, out);
        ops.addRowVector(out, 1f, encoderBias);
        if (withLatentBias) {
            ops.addRowVector(out, 1f, latentBias);
        }
        ops.relu(out, 0f, out);
    }

    @Override
    public LatentCodes encode(Tensor x) {
        int rows = checkInput(x);
        Tensor centered = scratch.f32("centered", rows, spec.dIn());
        Tensor f = device.allocate(DType.F32, rows, spec.dSae());
        activations(x, centered, f, true);
        return new LatentCodes.Dense(f);
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

    @Override
    public TrainingStepResult trainingStep(Tensor x, TrainingContext context, Map<String, Tensor> gradients) {
        int rows = checkInput(x);
        int dIn = spec.dIn();
        int dSae = spec.dSae();
        Tensor gEnc = gradients.get("W_enc");
        Tensor gDec = gradients.get("W_dec");
        Tensor gEncBias = gradients.get("b_enc");
        Tensor gDecBias = gradients.get("b_dec");

        Tensor centered = scratch.f32("centered", rows, dIn);
        Tensor f = scratch.f32("f", rows, dSae);
        Tensor reconstruction = scratch.f32("reconstruction", rows, dIn);
        activations(x, centered, f, false);
        ops.gemm(false, false, 1f, f, decoder, 0f, reconstruction);
        ops.addRowVector(reconstruction, 1f, decoderBias);

        Tensor norms = scratch.f32("decoderNorms", dSae);
        ops.rowNorms(decoder, norms);
        Tensor fSums = scratch.f32("fSums", dSae);
        ops.columnSums(f, 1f, 0f, fSums);
        double penalty = l1 * ops.dot(fSums, norms) / rows;

        Tensor residual = scratch.f32("residual", rows, dIn);
        ops.copy(x, residual);
        ops.axpby(-1f, reconstruction, 1f, residual);
        double sse = ops.sumSquares(residual);
        Tensor mean = scratch.f32("mean", dIn);
        ops.columnSums(centered, 1f / rows, 0f, mean);
        double variance = ops.sumSquares(centered) - rows * ops.sumSquares(mean);

        // d/dx_hat of mean_B ||x - x_hat||^2 = -2 (x - x_hat) / B.
        Tensor gradReconstruction = scratch.f32("gradReconstruction", rows, dIn);
        ops.axpby(-2f / rows, residual, 0f, gradReconstruction);
        ops.gemm(true, false, 1f, f, gradReconstruction, 0f, gDec);
        // The penalty's pull on each decoder row: lambda/B * (sum_b f_bi) * W_dec,i / ||W_dec,i||.
        Tensor rowScales = scratch.f32("rowScales", dSae);
        float[] sums = fSums.toFloatArray();
        float[] norm = norms.toFloatArray();
        for (int i = 0; i < dSae; i++) {
            sums[i] = norm[i] > 0 ? sums[i] / norm[i] : 0f;
        }
        rowScales.copyFrom(sums);
        ops.addScaledRows(decoder, rowScales, l1 / rows, gDec);

        Tensor gradF = scratch.f32("gradF", rows, dSae);
        ops.gemm(false, true, 1f, gradReconstruction, decoder, 0f, gradF);
        ops.addRowVector(gradF, l1 / rows, norms);
        ops.reluBackward(f, gradF, gradF);
        ops.columnSums(gradF, 1f, 0f, gEncBias);
        ops.gemm(true, false, 1f, gradF, centered, 0f, gEnc);
        ops.columnSums(gradReconstruction, 1f, 0f, gDecBias);
        ops.gemm(false, false, -1f, gEncBias.view(1, dSae), encoderRows, 1f, gDecBias.view(1, dIn));

        ops.columnCountAbove(f, 0f, context.firedCounts());
        double l0 = ops.countAbove(f, 0f) / (double) rows;
        double mse = sse / rows;
        Map<String, Double> terms = new LinkedHashMap<>();
        terms.put("fvu", variance > 0 ? sse / variance : Double.NaN);
        terms.put("mse", sse / ((double) rows * dIn));
        terms.put("l1", penalty);
        return new TrainingStepResult(mse + penalty, terms, l0);
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
