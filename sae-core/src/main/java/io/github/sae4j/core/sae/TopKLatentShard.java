package io.github.sae4j.core.sae;

import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.backend.TensorOps;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeSpec;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One device's slice of a TopK SAE whose latents are split over several devices: latents
 * {@code [first, first + width)} of the full SAE, held as a {@link TopKSae} of {@code width} latents (its own
 * {@code W_enc} rows, {@code W_dec} rows and {@code b_enc}, and a copy of {@code b_dec}). Its methods are the phases
 * of {@link TopKSae#trainingStep} that touch only this slice, with the same math (the same helpers); what crosses
 * slices (the global top-k, the summed reconstruction, the loss) belongs to the caller, {@code train.LatentShards}.
 */
public final class TopKLatentShard implements AutoCloseable {

    private final TopKSae sae;
    private final int first;
    private final TensorOps ops;

    private TopKLatentShard(TopKSae sae, int first) {
        this.sae = sae;
        this.first = first;
        this.ops = sae.device().ops();
    }

    /**
     * The slice {@code [first, first + width)} of the TopK SAE {@code full}, on {@code device}. Its local k is
     * {@code min(k, width)}: the global top-k never takes more of a slice's latents than that.
     */
    public static TopKLatentShard create(SaeSpec full, int first, int width, Device device) {
        if (!TopKArchitecture.NAME.equals(full.architecture())) {
            throw new IllegalArgumentException("latent sharding supports the topk architecture, not '"
                    + full.architecture() + "'");
        }
        if (first < 0 || width < 1 || first + width > full.dSae()) {
            throw new IllegalArgumentException("latent slice [" + first + ", " + (first + width) + ") is outside the "
                    + full.dSae() + " latents of the SAE");
        }
        Map<String, Object> settings = new LinkedHashMap<>(full.settings());
        settings.put("k", Math.min(full.intSetting("k"), width));
        SaeSpec slice = new SaeSpec(full.architecture(), full.dIn(), width, settings, full.inputScale(),
                full.metadata(), full.inputShift());
        return new TopKLatentShard(new TopKSae(slice, device), first);
    }

    /** The slice as an SAE of {@code width} latents: its parameters, for the optimizer and the decoder rule. */
    public Sae sae() {
        return sae;
    }

    /** The first global latent id of the slice. */
    public int first() {
        return first;
    }

    public int width() {
        return sae.spec().dSae();
    }

    /** How many candidates the slice offers to the global top-k: {@code min(k, width)}. */
    public int localK() {
        return sae.k();
    }

    /**
     * Pre-activations of the slice for {@code x} (kept for the backward), and their top {@link #localK()} per row
     * before relu, best first, ties to the lower latent: the candidates for the global top-k, in local ids.
     */
    public void selectCandidates(Tensor x, boolean withLatentBias, Tensor values, Tensor indices) {
        int rows = sae.weights().checkInput(x);
        Tensor centered = sae.scratch().f32("centered", rows, sae.spec().dIn());
        Tensor pre = sae.scratch().f32("pre", rows, width());
        sae.weights().preActivations(x, centered, pre, withLatentBias);
        ops.topKRows(pre, localK(), values, indices);
    }

    /** {@code x - b_dec} of the last {@link #selectCandidates} call: what the encoder multiplied. */
    public Tensor encoderInput(int rows) {
        return sae.scratch().f32("centered", rows, sae.spec().dIn());
    }

    /** The AuxK candidates: the top {@code kAux} pre-activations among the slice's dead latents ({@code deadMask [width]}). */
    public void selectDeadCandidates(Tensor deadMask, int kAux, Tensor values, Tensor indices) {
        Tensor pre = sae.scratch().f32("pre", values.rows(), width());
        ops.topKRowsMasked(pre, deadMask, kAux, values, indices);
    }

    /** {@code out = sum_j values[r, j] W_dec[indices[r, j]]}: this slice's part of a reconstruction, without b_dec. */
    public void decodePart(Tensor values, Tensor indices, Tensor out) {
        ops.sparseDecode(values, indices, sae.weights().decoder(), null, out);
    }

    /** The main loss's gradients of this slice (overwritten), given dL/dx_hat and the slice's selected latents. */
    public void backward(Tensor values, Tensor indices, Tensor gradReconstruction, Map<String, Tensor> gradients) {
        TopKSae.backwardOfActive(ops, sae.scratch(), values, indices, gradReconstruction,
                encoderInput(values.rows()), sae.weights().decoder(), gradients.get("W_dec"), gradients.get("W_enc"),
                gradients.get("b_enc"));
    }

    /** Adds the AuxK gradients of the slice's selected dead latents, given dL/de_hat. */
    public void auxKBackward(Tensor values, Tensor indices, Tensor gradErrorHat, Map<String, Tensor> gradients) {
        AuxKLoss.backward(ops, sae.scratch(), values, indices, gradErrorHat, sae.weights().decoder(),
                encoderInput(values.rows()), gradients.get("W_dec"), gradients.get("W_enc"), gradients.get("b_enc"));
    }

    /**
     * {@code out = - W_enc^T dL/db_enc} over this slice ({@code out [d_in]}): the slice's part of the b_dec gradient
     * through the encoder input; the caller adds the parts and {@code sum_B dL/dx_hat}.
     */
    public void decoderBiasGradientPart(Tensor gradEncoderBias, Tensor out) {
        ops.gemm(false, false, -1f, gradEncoderBias.view(1, width()), sae.weights().encoderRows(), 0f,
                out.view(1, sae.spec().dIn()));
    }

    /** Adds to {@code fired [width]} how many rows each of the slice's latents fired on. */
    public void countFired(Tensor values, Tensor indices, Tensor fired) {
        ops.sparseColumnCountPositive(values, indices, fired);
    }

    @Override
    public void close() {
        sae.close();
    }
}
