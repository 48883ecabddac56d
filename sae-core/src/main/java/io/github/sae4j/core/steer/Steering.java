package io.github.sae4j.core.steer;

import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.model.HookPoint;
import io.github.sae4j.api.model.ResidualHook;
import io.github.sae4j.api.model.ResidualSlice;
import io.github.sae4j.api.sae.LatentCodes;
import io.github.sae4j.api.sae.Sae;
import java.util.List;
import java.util.Locale;

/**
 * Steers a model through an SAE at the SAE's hook point, as a splice hook that works in forward passes and in
 * generation alike. Three ways to push a latent {@code l} with strength {@code s}:
 * <ul>
 *   <li>{@link Mode#ADD}: add {@code s} times the latent's decoder direction to the residual;</li>
 *   <li>{@link Mode#BIAS}: add {@code s} to the latent's pre-activation before TopK (the original work's way: the
 *   latent then competes for the k slots; {@link Sae#encodeRaised}, through the SAE's latent bias), and splice
 *   {@code x - x_hat + x_hat'} so the SAE's error term stays;</li>
 *   <li>{@link Mode#CLAMP}: set the latent to {@code s} after TopK: {@code x + (s - z_l) W_dec[l]}, which is
 *   {@code x - x_hat + x_hat'} for the linear decoders of TopK and ReLU SAEs, error term kept.</li>
 * </ul>
 * Positions: every position, the prompt's only, or the generated ones only.
 */
public final class Steering implements ResidualHook {

    /** How a latent is pushed. */
    public enum Mode { ADD, BIAS, CLAMP;

        public static Mode parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("steering mode must be add, bias or clamp, got '" + s + "'", e);
            }
        }
    }

    /** Where in the sequence. */
    public enum Positions { ALL, PROMPT, GENERATED;

        public static Positions parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("steering positions must be all, prompt or generated, got '" + s
                        + "'", e);
            }
        }
    }

    /** One latent pushed with one strength. */
    public record Edit(int latent, double strength, Mode mode) {
    }

    private final Sae sae;
    private final HookPoint point;
    private final List<Edit> edits;
    private final Positions positions;
    private final int promptLength;
    /** Decoder rows in raw units (divided by the input scale), one per latent, [d_sae, d_in]. */
    private final float[] decoder;
    private final int d;
    /** Whether an edit needs the SAE's codes (bias, clamp), not only its decoder (add). */
    private final boolean readsSae;
    /** One-row encodes of a TopK SAE through a bf16 screen, or null. */
    private final ScreenedTopK screen;
    /** The bias edits' latents and strengths, in the order of the edits. */
    private final int[] biasLatents;
    private final float[] biasStrengths;

    /**
     * @param promptLength positions below this are the prompt's (for {@link Positions})
     */
    public Steering(Sae sae, HookPoint point, List<Edit> edits, Positions positions, int promptLength) {
        this.sae = sae;
        this.point = point;
        this.edits = List.copyOf(edits);
        this.positions = positions;
        this.promptLength = promptLength;
        this.d = sae.spec().dIn();
        int latents = sae.spec().dSae();
        for (Edit e : edits) {
            if (e.latent() < 0 || e.latent() >= latents) {
                throw new IllegalArgumentException("feature " + e.latent() + " does not exist: the SAE has latents 0.."
                        + (latents - 1));
            }
            if (!Double.isFinite(e.strength())) {
                throw new IllegalArgumentException("the strength of feature " + e.latent() + " is " + e.strength()
                        + "; give a finite number");
            }
        }
        var dec = sae.parameter("W_dec");
        float[] w = dec.value().toFloatArray();
        if (dec.transposed()) {
            w = transpose(w, d, latents);
        }
        double scale = sae.spec().inputScale();
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (w[i] / scale);
        }
        this.decoder = w;
        this.readsSae = this.edits.stream().anyMatch(e -> e.mode() != Mode.ADD);
        this.screen = readsSae ? ScreenedTopK.of(sae) : null;
        this.biasLatents = this.edits.stream().filter(e -> e.mode() == Mode.BIAS).mapToInt(Edit::latent).toArray();
        this.biasStrengths = new float[biasLatents.length];
        int i = 0;
        for (Edit e : this.edits) {
            if (e.mode() == Mode.BIAS) {
                biasStrengths[i++] = (float) e.strength();
            }
        }
    }

    private static float[] transpose(float[] m, int rows, int cols) {
        float[] t = new float[m.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = m[r * cols + c];
            }
        }
        return t;
    }

    @Override
    public HookPoint point() {
        return point;
    }

    @Override
    public void onResidual(ResidualSlice slice) {
        int first = -1;
        int last = -1;
        for (int r = 0; r < slice.positions(); r++) {
            int pos = slice.firstPosition() + r;
            boolean on = switch (positions) {
                case ALL -> true;
                case PROMPT -> pos < promptLength;
                case GENERATED -> pos >= promptLength;
            };
            if (on) {
                if (first < 0) {
                    first = r;
                }
                last = r;
            }
        }
        if (first < 0) {
            return;
        }
        int n = last - first + 1;
        float[] data = slice.data();
        int base = slice.rowOffset(first);
        // Only the steered rows go through the SAE (one row per step while generating), normalized and uploaded
        // once for all edits, before any edit changes them: every edit reads the rows as they came in.
        List<LatentCodes> sets = null;
        if (readsSae) {
            float[] x = java.util.Arrays.copyOfRange(data, base, base + n * d);
            sae.spec().normalize(x, 0, n);
            sets = encode(x, n);
        }
        try {
            float[] codes = null;
            List<float[]> reconstructions = null;
            int biasEdit = 0;
            for (Edit e : edits) {
                switch (e.mode()) {
                    case ADD -> {
                        for (int r = 0; r < n; r++) {
                            axpy((float) e.strength(), e.latent(), data, base + r * d);
                        }
                    }
                    case CLAMP -> {
                        if (codes == null) {
                            codes = activations(sets.getFirst(), n);
                        }
                        for (int r = 0; r < n; r++) {
                            float current = codes[r * sae.spec().dSae() + e.latent()];
                            axpy((float) (e.strength() - current), e.latent(), data, base + r * d);
                        }
                    }
                    case BIAS -> {
                        if (reconstructions == null) {
                            reconstructions = reconstructions(sets, n);
                        }
                        float[] before = reconstructions.get(0);
                        float[] after = reconstructions.get(++biasEdit);
                        for (int i = 0; i < n * d; i++) {
                            data[base + i] += after[i] - before[i];
                        }
                    }
                }
            }
        } finally {
            if (sets != null) {
                sets.forEach(LatentCodes::close);
            }
        }
        for (int i = 0; i < n * d; i++) {
            if (!Float.isFinite(data[base + i])) {
                throw new IllegalStateException("steering made the residual non-finite at " + point + "; lower the "
                        + "strengths " + edits);
            }
        }
    }

    private void axpy(float a, int latent, float[] data, int at) {
        int row = latent * d;
        for (int j = 0; j < d; j++) {
            data[at + j] += a * decoder[row + j];
        }
    }

    /**
     * The codes of the normalized rows {@code x}: as they are, then with each bias edit's strength added to its
     * latent's pre-activation, in the order of the edits. One {@link Sae#encodeRaised} call, so an architecture that
     * can shares one encoder product between them; one row of a TopK SAE (a generated token) goes through the
     * bf16 screen instead, with the same result for half the memory traffic ({@link ScreenedTopK}).
     */
    private List<LatentCodes> encode(float[] x, int n) {
        int[] latents = biasLatents;
        float[] strengths = biasStrengths;
        if (n == 1 && screen != null) {
            List<LatentCodes> screened = screen.encode(x, latents, strengths);
            if (screened != null) {
                return screened;
            }
        }
        try (Tensor input = sae.device().upload(x, n, d)) {
            return sae.encodeRaised(input, latents, strengths);
        }
    }

    /** Dense latent activations [n, d_sae] from codes. */
    private float[] activations(LatentCodes codes, int n) {
        int latents = sae.spec().dSae();
        float[] out = new float[n * latents];
        switch (codes) {
            case LatentCodes.Sparse s -> {
                int k = s.values().cols();
                float[] v = s.values().toFloatArray();
                int[] idx = s.indices().toIntArray();
                for (int r = 0; r < n; r++) {
                    for (int j = 0; j < k; j++) {
                        if (idx[r * k + j] >= 0) {
                            out[r * latents + idx[r * k + j]] = v[r * k + j];
                        }
                    }
                }
            }
            case LatentCodes.Dense dense -> System.arraycopy(dense.activations().toFloatArray(), 0, out, 0, out.length);
        }
        return out;
    }

    /** The SAE's reconstructions (raw units) of each set of codes. */
    private List<float[]> reconstructions(List<LatentCodes> sets, int n) {
        try (Tensor out = sae.device().allocate(io.github.sae4j.api.backend.DType.F32, n, d)) {
            List<float[]> xHats = new java.util.ArrayList<>();
            for (LatentCodes codes : sets) {
                sae.decode(codes, out);
                float[] xHat = out.toFloatArray();
                sae.spec().denormalize(xHat, 0, n);
                xHats.add(xHat);
            }
            return xHats;
        }
    }
}
