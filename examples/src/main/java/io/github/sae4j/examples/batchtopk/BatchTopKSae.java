package io.github.sae4j.examples.batchtopk;

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
import io.github.sae4j.core.sae.ParameterInit;
import io.github.sae4j.core.sae.TensorCache;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * BatchTopK: in training, keep the {@code B * k} largest ReLU activations of the whole batch (so busy tokens can
 * use more latents than quiet ones); at inference, keep activations above a threshold, the running average of the
 * smallest activation each training batch kept. Written only against the backend ops of sae-api.
 */
final class BatchTopKSae implements Sae {

    private final SaeSpec spec;
    private final Device device;
    private final TensorOps ops;
    private final int k;
    private final double momentum;
    private final Tensor encoderRows;
    private final Tensor decoder;
    private final Tensor encoderBias;
    private final Tensor decoderBias;
    private final Tensor threshold;
    private final Tensor latentBias;
    private final List<SaeParameter> parameters;
    private final TensorCache scratch;

    BatchTopKSae(SaeSpec spec, Device device) {
        this.spec = spec;
        this.device = device;
        this.ops = device.ops();
        this.k = spec.intSetting("k");
        this.momentum = spec.doubleSetting("threshold_momentum");
        int dIn = spec.dIn();
        int dSae = spec.dSae();
        encoderRows = device.allocate(DType.F32, dSae, dIn);
        decoder = device.allocate(DType.F32, dSae, dIn);
        encoderBias = device.allocate(DType.F32, dSae);
        decoderBias = device.allocate(DType.F32, dIn);
        threshold = device.allocate(DType.F32, 1);
        latentBias = device.allocate(DType.F32, dSae);
        parameters = List.of(
                new SaeParameter("W_enc", encoderRows, true),
                new SaeParameter("W_dec", decoder, false),
                new SaeParameter("b_enc", encoderBias, false),
                new SaeParameter("b_dec", decoderBias, false),
                new SaeParameter("threshold", threshold, false, false));
        scratch = new TensorCache(device);
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
    public void initialize(long seed, float[] dataMean) {
        float[] rows = ParameterInit.randomRows(seed, spec.dSae(), spec.dIn(), 1.0);
        decoder.copyFrom(rows);
        encoderRows.copyFrom(rows);
        ops.fill(encoderBias, 0f);
        ops.fill(latentBias, 0f);
        ops.fill(threshold, 0f);
        if (dataMean != null) {
            decoderBias.copyFrom(dataMean);
        } else {
            ops.fill(decoderBias, 0f);
        }
    }

    private void reluActivations(Tensor x, Tensor centered, Tensor f, boolean withLatentBias) {
        if (x.rank() != 2 || x.cols() != spec.dIn()) {
            throw new IllegalArgumentException("BatchTopK reads rows of " + spec.dIn() + " activations, got "
                    + Arrays.toString(x.shape()));
        }
        ops.copy(x, centered);
        ops.addRowVector(centered, -1f, decoderBias);
        ops.gemm(false, true, 1f, centered, encoderRows, 0f, f);
        ops.addRowVector(f, 1f, encoderBias);
        if (withLatentBias) {
            ops.addRowVector(f, 1f, latentBias);
        }
        ops.relu(f, 0f, f);
    }

    @Override
    public LatentCodes encode(Tensor x) {
        int rows = x.rows();
        Tensor centered = scratch.f32("centered", rows, spec.dIn());
        Tensor f = device.allocate(DType.F32, rows, spec.dSae());
        reluActivations(x, centered, f, true);
        ops.relu(f, threshold.toFloatArray()[0], f);
        return new LatentCodes.Dense(f);
    }

    @Override
    public void decode(LatentCodes codes, Tensor out) {
        switch (codes) {
            case LatentCodes.Dense dense -> {
                ops.gemm(false, false, 1f, dense.activations(), decoder, 0f, out);
                ops.addRowVector(out, 1f, decoderBias);
            }
            case LatentCodes.Sparse sparse -> ops.sparseDecode(sparse.values(), sparse.indices(), decoder, decoderBias, out);
        }
    }

    @Override
    public TrainingStepResult trainingStep(Tensor x, TrainingContext context, Map<String, Tensor> gradients) {
        int rows = x.rows();
        int dIn = spec.dIn();
        int dSae = spec.dSae();
        Tensor centered = scratch.f32("centered", rows, dIn);
        Tensor f = scratch.f32("f", rows, dSae);
        reluActivations(x, centered, f, false);

        // The batch's B*k largest activations: a top-k over the whole batch seen as one row.
        int keep = Math.min(rows * k, rows * dSae);
        Tensor values = scratch.f32("selected", 1, keep);
        Tensor indices = scratch.i32("selectedIndices", 1, keep);
        ops.topKRows(f.view(1, rows * dSae), keep, values, indices);
        float smallest = Float.MAX_VALUE;
        for (float v : values.toFloatArray()) {
            if (v > 0 && v < smallest) {
                smallest = v;
            }
        }
        if (smallest == Float.MAX_VALUE) {
            smallest = 0f;
        }
        ops.relu(f, Math.nextDown(smallest), f);
        float old = threshold.toFloatArray()[0];
        // The threshold lives in the checkpoint, so a resumed run continues the same running average.
        float updated = old > 0 ? (float) ((1 - momentum) * old + momentum * smallest) : smallest;
        threshold.copyFrom(new float[] {updated});

        Tensor reconstruction = scratch.f32("reconstruction", rows, dIn);
        ops.gemm(false, false, 1f, f, decoder, 0f, reconstruction);
        ops.addRowVector(reconstruction, 1f, decoderBias);
        Tensor residual = scratch.f32("residual", rows, dIn);
        ops.copy(x, residual);
        ops.axpby(-1f, reconstruction, 1f, residual);
        Tensor mean = scratch.f32("mean", dIn);
        ops.columnSums(centered, 1f / rows, 0f, mean);
        double variance = Math.max(ops.sumSquares(centered) - rows * ops.sumSquares(mean), 1e-30);
        double sse = ops.sumSquares(residual);

        Tensor gradReconstruction = scratch.f32("gradReconstruction", rows, dIn);
        ops.axpby((float) (-2.0 / variance), residual, 0f, gradReconstruction);
        ops.gemm(true, false, 1f, f, gradReconstruction, 0f, gradients.get("W_dec"));
        Tensor gradF = scratch.f32("gradF", rows, dSae);
        ops.gemm(false, true, 1f, gradReconstruction, decoder, 0f, gradF);
        ops.reluBackward(f, gradF, gradF);
        ops.columnSums(gradF, 1f, 0f, gradients.get("b_enc"));
        ops.gemm(true, false, 1f, gradF, centered, 0f, gradients.get("W_enc"));
        ops.columnSums(gradReconstruction, 1f, 0f, gradients.get("b_dec"));
        ops.gemm(false, false, -1f, gradients.get("b_enc").view(1, dSae), encoderRows, 1f,
                gradients.get("b_dec").view(1, dIn));

        ops.columnCountAbove(f, 0f, context.firedCounts());
        double l0 = ops.countAbove(f, 0f) / (double) rows;
        Map<String, Double> terms = new LinkedHashMap<>();
        terms.put("fvu", sse / variance);
        terms.put("mse", sse / ((double) rows * dIn));
        terms.put("threshold", (double) updated);
        return new TrainingStepResult(sse / variance, terms, l0);
    }

    @Override
    public void close() {
        scratch.close();
        for (SaeParameter p : parameters) {
            p.value().close();
        }
        latentBias.close();
    }
}
