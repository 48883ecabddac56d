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
import io.github.sae4j.core.sae.AutoencoderWeights;
import io.github.sae4j.core.sae.TensorCache;
import java.util.ArrayList;
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
    private final AutoencoderWeights weights;
    private final Tensor threshold;
    private final List<SaeParameter> parameters;
    private final TensorCache scratch;

    BatchTopKSae(SaeSpec spec, Device device) {
        this.spec = spec;
        this.device = device;
        this.ops = device.ops();
        this.k = spec.intSetting("k");
        this.momentum = spec.doubleSetting("threshold_momentum");
        this.weights = new AutoencoderWeights(spec, device);
        this.threshold = device.allocate(DType.F32, 1);
        List<SaeParameter> all = new ArrayList<>(weights.parameters());
        all.add(new SaeParameter("threshold", threshold, false, false));
        this.parameters = List.copyOf(all);
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
        return weights.latentBias();
    }

    @Override
    public void initialize(long seed, float[] dataMean) {
        weights.initialize(seed, dataMean, 1.0);
        ops.fill(threshold, 0f);
    }

    private void reluActivations(Tensor x, Tensor centered, Tensor f, boolean withLatentBias) {
        weights.preActivations(x, centered, f, withLatentBias);
        ops.relu(f, 0f, f);
    }

    @Override
    public LatentCodes encode(Tensor x) {
        int rows = weights.checkInput(x);
        Tensor f = device.allocate(DType.F32, rows, spec.dSae());
        reluActivations(x, scratch.f32("centered", rows, spec.dIn()), f, true);
        ops.relu(f, threshold.toFloatArray()[0], f);
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
        weights.decode(new LatentCodes.Dense(f), reconstruction);
        Tensor residual = scratch.f32("residual", rows, dIn);
        ops.copy(x, residual);
        ops.axpby(-1f, reconstruction, 1f, residual);
        double variance = Math.max(weights.batchVariance(centered, scratch.f32("mean", dIn)), 1e-30);
        double sse = ops.sumSquares(residual);

        Tensor gradReconstruction = scratch.f32("gradReconstruction", rows, dIn);
        ops.axpby((float) (-2.0 / variance), residual, 0f, gradReconstruction);
        ops.gemm(true, false, 1f, f, gradReconstruction, 0f, gradients.get("W_dec"));
        Tensor gradF = scratch.f32("gradF", rows, dSae);
        ops.gemm(false, true, 1f, gradReconstruction, weights.decoder(), 0f, gradF);
        ops.reluBackward(f, gradF, gradF);
        ops.columnSums(gradF, 1f, 0f, gradients.get("b_enc"));
        ops.gemm(true, false, 1f, gradF, centered, 0f, gradients.get("W_enc"));
        weights.decoderBiasGradient(gradReconstruction, gradients.get("b_enc"), gradients.get("b_dec"));

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
        weights.close();
        threshold.close();
    }
}
