package io.github.sae4j.core.steer;

import io.github.sae4j.api.backend.DType;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.sae.LatentCodes;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.core.backend.java.RowTopK;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A TopK SAE's codes for one row, as {@link Sae#encode} and {@link Sae#encodeRaised} give them bit for bit, for half
 * the memory traffic: steering encodes one row per generated token, and reading the fp32 encoder (2 MB for 2,048 x
 * 256) dominated its cost.
 *
 * <p>A bf16 copy of the encoder screens the latents: each pre-activation is estimated with a bound on its error
 * ({@code 2^-8 ||c|| ||W_j||}, twice the bf16 rounding bound {@code 2^-9 ||c|| ||W_j||} plus float summation), and
 * only latents whose upper bound reaches the k-th largest lower bound can be among the top k. Those candidates
 * (typically a few more than k) get their exact pre-activations from the SAE's own backend operations on their
 * encoder rows, which give every element the same bits as the full product, and the backend's top-k picks among
 * them. Every latent left out is strictly below the k-th largest exact value, so the selection, its order and its
 * ties are those of the full encode. {@code ScreenedTopKTest} checks this against the SAE.
 */
final class ScreenedTopK {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    /** Relative bound used for the screen: 2x the bf16 rounding bound, which covers float summation too. */
    private static final double RELATIVE_BOUND = 0x1p-8;

    private final Device device;
    private final int d;
    private final int latents;
    private final int k;
    /** The encoder in bf16, two latents per int (see the constructor), for the first {@link #blocked} latents. */
    private final int[] packed;
    private final int blocked;
    /** The encoder rows, [latents, d] (for the candidates' exact products). */
    private final float[] rows;
    private final float[] rowNorms;
    private final float[] encoderBias;
    private final float[] latentBias;
    private final float[] decoderBias;
    private final RowTopK topK;

    private ScreenedTopK(Sae sae, int k, float[] rows) {
        this.device = sae.device();
        this.d = sae.spec().dIn();
        this.latents = sae.spec().dSae();
        this.k = k;
        this.rows = rows;
        this.rowNorms = new float[latents];
        for (int j = 0; j < latents; j++) {
            double s = 0;
            for (int p = 0; p < d; p++) {
                float w = rows[j * d + p];
                s += (double) w * w;
            }
            rowNorms[j] = (float) Math.sqrt(s);
        }
        // Blocks of 2 x lanes latents; per input dimension p, one int per lane holds the bf16 of latent j (high half)
        // and of latent j + lanes (low half), so widening is an AND and a shift, lane by lane.
        int lanes = F.length();
        this.blocked = latents - latents % (2 * lanes);
        this.packed = new int[blocked / 2 * d];
        for (int b = 0; b < blocked; b += 2 * lanes) {
            for (int p = 0; p < d; p++) {
                for (int l = 0; l < lanes; l++) {
                    int hi = bf16(rows[(b + l) * d + p]) & 0xffff;
                    int lo = bf16(rows[(b + lanes + l) * d + p]) & 0xffff;
                    packed[(b / 2) * d + p * lanes + l] = hi << 16 | lo;
                }
            }
        }
        this.encoderBias = sae.parameter("b_enc").value().toFloatArray();
        this.decoderBias = sae.parameter("b_dec").value().toFloatArray();
        Tensor lb = sae.latentBias();
        this.latentBias = lb == null ? new float[latents] : lb.toFloatArray();
        this.topK = new RowTopK(k);
    }

    /**
     * The screen for {@code sae}, or null when it does not apply: the architecture must be the TopK SAE (whose encode
     * is {@code relu(topk((x - b_dec) W_enc^T + b_enc + latent bias))}) with finite weights and k below the latent
     * count.
     */
    static ScreenedTopK of(Sae sae) {
        // The exact stage repeats the java backend's arithmetic; other backends keep their own encode.
        if (!"topk".equals(sae.spec().architecture()) || !"java".equals(sae.device().backend().name())) {
            return null;
        }
        int k = sae.spec().intSetting("k");
        int latents = sae.spec().dSae();
        int d = sae.spec().dIn();
        var enc = sae.parameter("W_enc").value();
        if (k >= latents || enc.rows() != latents || enc.cols() != d) {
            return null;
        }
        float[] rows = enc.toFloatArray();
        for (float w : rows) {
            if (!Float.isFinite(w)) {
                return null;
            }
        }
        return new ScreenedTopK(sae, k, rows);
    }

    /**
     * The codes of one normalized row {@code x}: first as {@link Sae#encode} gives them, then one set per raised
     * latent as {@link Sae#encodeRaised} gives them. Null when {@code x} is not finite (the caller then encodes as
     * usual). The caller closes the codes.
     */
    List<LatentCodes> encode(float[] x, int[] raised, float[] strengths) {
        float[] c = new float[d];
        double norm = 0;
        for (int p = 0; p < d; p++) {
            c[p] = x[p] - decoderBias[p];
            norm += (double) c[p] * c[p];
        }
        if (!Double.isFinite(norm)) {
            return null;
        }
        float[] estimate = estimates(c);
        double scale = RELATIVE_BOUND * Math.sqrt(norm);
        float[] lower = new float[latents];
        float[] upper = new float[latents];
        for (int j = 0; j < latents; j++) {
            // The absolute part (1e-6 (1 + |estimate|)) is many float steps wide, so rounding in these sums cannot
            // make a bound exclude a latent whose exact value ties the k-th.
            float bound = (float) (scale * rowNorms[j] + 1e-6 * (1 + Math.abs(estimate[j])));
            lower[j] = estimate[j] - bound;
            upper[j] = estimate[j] + bound;
        }
        // The k + 1 largest lower bounds, largest first: enough for the k-th of every set, which differ from the
        // plain set in one latent only.
        int[] best = largest(lower, k + 1);
        float plainKth = lower[best[k - 1]];
        float threshold = plainKth;
        float[] setKth = new float[raised.length];
        for (int i = 0; i < raised.length; i++) {
            setKth[i] = kthWithRaised(lower, best, raised[i], strengths[i]);
            threshold = Math.min(threshold, setKth[i]);
        }
        // A latent is a candidate if it can be in the top k of some set: for all but the raised latents that is
        // upper >= the smallest k-th; a raised latent also in its own set with its strength added.
        boolean[] wanted = new boolean[latents];
        int n = 0;
        for (int j = 0; j < latents; j++) {
            if (upper[j] >= threshold) {
                wanted[j] = true;
                n++;
            }
        }
        for (int i = 0; i < raised.length; i++) {
            int l = raised[i];
            if (!wanted[l] && upper[l] + strengths[i] >= setKth[i]) {
                wanted[l] = true;
                n++;
            }
        }
        int[] ids = new int[n];
        for (int j = 0, i = 0; j < latents; j++) {
            if (wanted[j]) {
                ids[i++] = j;
            }
        }
        return exact(c, ids, raised, strengths);
    }

    /** Pre-activation estimates from the bf16 encoder: {@code c . W_j + b_enc[j] + latent bias[j]}. */
    private float[] estimates(float[] c) {
        float[] out = new float[latents];
        int lanes = F.length();
        // Two blocks (4 vectors of latents) at a time, written out: arrays of vectors would not stay in registers.
        int b = 0;
        for (; b + 4 * lanes <= blocked; b += 4 * lanes) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F);
            FloatVector a3 = FloatVector.zero(F);
            int at0 = (b / 2) * d;
            int at1 = at0 + lanes * d;
            for (int p = 0; p < d; p++, at0 += lanes, at1 += lanes) {
                FloatVector cp = FloatVector.broadcast(F, c[p]);
                IntVector v0 = IntVector.fromArray(I, packed, at0);
                IntVector v1 = IntVector.fromArray(I, packed, at1);
                a0 = v0.and(0xffff0000).reinterpretAsFloats().fma(cp, a0);
                a1 = v0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(cp, a1);
                a2 = v1.and(0xffff0000).reinterpretAsFloats().fma(cp, a2);
                a3 = v1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(cp, a3);
            }
            a0.intoArray(out, b);
            a1.intoArray(out, b + lanes);
            a2.intoArray(out, b + 2 * lanes);
            a3.intoArray(out, b + 3 * lanes);
        }
        for (; b < blocked; b += 2 * lanes) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            for (int p = 0, at = (b / 2) * d; p < d; p++, at += lanes) {
                FloatVector cp = FloatVector.broadcast(F, c[p]);
                IntVector v = IntVector.fromArray(I, packed, at);
                a0 = v.and(0xffff0000).reinterpretAsFloats().fma(cp, a0);
                a1 = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(cp, a1);
            }
            a0.intoArray(out, b);
            a1.intoArray(out, b + lanes);
        }
        for (int j = blocked; j < latents; j++) {
            float sum = 0;
            for (int p = 0; p < d; p++) {
                sum += c[p] * Float.intBitsToFloat(bf16(rows[j * d + p]) << 16);
            }
            out[j] = sum;
        }
        for (int j = 0; j < latents; j++) {
            out[j] += encoderBias[j] + latentBias[j];
        }
        return out;
    }

    /**
     * The candidates' exact pre-activations from {@code c = x - b_dec} (what the backend's {@code x + (-1) b_dec}
     * gives, bit for bit), computed as the java backend computes them for the full row (the product as Sgemm's plain
     * calculation: {@code fma} along {@code p} from {@code +0}; then {@code + b_enc},
     * {@code + latent bias}, and for a raised set {@code + strength} at the raised latent and {@code + 0}
     * elsewhere), and the backend's own top-k over them with their latent ids as columns; then relu.
     */
    private List<LatentCodes> exact(float[] c, int[] ids, int[] raised, float[] strengths) {
        int n = ids.length;
        float[] sums = new float[n];
        int i4 = n - n % 4;
        // Four candidates at a time: four independent fma chains instead of one waiting on itself.
        for (int i = 0; i < i4; i += 4) {
            int r0 = ids[i] * d;
            int r1 = ids[i + 1] * d;
            int r2 = ids[i + 2] * d;
            int r3 = ids[i + 3] * d;
            float s0 = 0f;
            float s1 = 0f;
            float s2 = 0f;
            float s3 = 0f;
            for (int p = 0; p < d; p++) {
                float cp = c[p];
                s0 = Math.fma(cp, rows[r0 + p], s0);
                s1 = Math.fma(cp, rows[r1 + p], s1);
                s2 = Math.fma(cp, rows[r2 + p], s2);
                s3 = Math.fma(cp, rows[r3 + p], s3);
            }
            sums[i] = s0;
            sums[i + 1] = s1;
            sums[i + 2] = s2;
            sums[i + 3] = s3;
        }
        for (int i = i4; i < n; i++) {
            int row = ids[i] * d;
            float sum = 0f;
            for (int p = 0; p < d; p++) {
                sum = Math.fma(c[p], rows[row + p], sum);
            }
            sums[i] = sum;
        }
        float[] pre = new float[n];
        for (int i = 0; i < n; i++) {
            float v = Math.fma(sums[i], 1f, 0f);
            v = encoderBias[ids[i]] * 1f + v;
            pre[i] = latentBias[ids[i]] * 1f + v;
        }
        List<LatentCodes> out = new ArrayList<>();
        try {
            out.add(select(pre, ids));
            for (int i = 0; i < raised.length; i++) {
                float[] raisedPre = new float[n];
                for (int j = 0; j < n; j++) {
                    raisedPre[j] = (ids[j] == raised[i] ? strengths[i] : 0f) * 1f + pre[j];
                }
                out.add(select(raisedPre, ids));
            }
            return out;
        } catch (RuntimeException | Error e) {
            out.forEach(LatentCodes::close);
            throw e;
        }
    }

    /** As TopKSae: relu(topk(pre, k)), the candidates standing for their latents. */
    private LatentCodes select(float[] pre, int[] ids) {
        float[] v = new float[k];
        int[] idx = new int[k];
        topK.select(pre, 0, pre.length, ids, v, idx, 0);
        for (int i = 0; i < k; i++) {
            v[i] = v[i] > 0f ? v[i] : 0f;
        }
        Tensor values = device.upload(v, 1, k);
        Tensor indices = device.allocate(DType.I32, 1, k);
        indices.copyFrom(idx);
        return new LatentCodes.Sparse(values, indices);
    }

    /** The indices of the {@code m} largest values of {@code v} (m <= v.length), largest first. */
    static int[] largest(float[] v, int m) {
        int[] top = new int[m];
        int size = 0;
        for (int j = 0; j < v.length; j++) {
            float x = v[j];
            if (size == m && !(x > v[top[m - 1]])) {
                continue;
            }
            int at = size == m ? m - 1 : size++;
            while (at > 0 && x > v[top[at - 1]]) {
                top[at] = top[at - 1];
                at--;
            }
            top[at] = j;
        }
        return top;
    }

    /**
     * The k-th largest of {@code lower} with {@code by} added at {@code latent}, from the k + 1 largest of the
     * unraised values ({@code best}, largest first).
     */
    private float kthWithRaised(float[] lower, int[] best, int latent, float by) {
        float[] values = new float[k + 2];
        int m = 0;
        for (int b : best) {
            if (b != latent) {
                values[m++] = lower[b];
            }
        }
        values[m++] = lower[latent] + by;
        Arrays.sort(values, 0, m);
        return values[m - k];
    }

    /** bf16 bits of {@code f}, rounded to nearest even. */
    static short bf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int rounded = bits + 0x7fff + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }
}
