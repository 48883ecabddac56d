package io.github.sae4j.core.steer;

import io.github.sae4j.api.backend.DType;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.sae.LatentCodes;
import io.github.sae4j.api.sae.Sae;
import java.util.Arrays;
import java.util.List;

/**
 * The slow, obvious twin of {@link Steering#onResidual}: every edit normalizes, uploads and encodes the rows again
 * (bias mode encodes and decodes twice per edit, raising the latent through {@link Sae#latentBias()}), as Steering
 * did before it shared that work between edits and the SAE shared one encoder product between bias mode's codes.
 */
final class PlainSteering {

    private PlainSteering() {
    }

    static float[] steer(Sae sae, float[] rows, int firstPosition, int promptLength, Steering.Positions where,
                         List<Steering.Edit> edits) {
        int d = sae.spec().dIn();
        int latents = sae.spec().dSae();
        double scale = sae.spec().inputScale();
        float[] w = sae.parameter("W_dec").value().toFloatArray();
        float[] data = rows.clone();
        int n = rows.length / d;
        int first = -1;
        int last = -1;
        for (int r = 0; r < n; r++) {
            int pos = firstPosition + r;
            boolean on = switch (where) {
                case ALL -> true;
                case PROMPT -> pos < promptLength;
                case GENERATED -> pos >= promptLength;
            };
            if (on) {
                first = first < 0 ? r : first;
                last = r;
            }
        }
        if (first < 0) {
            return data;
        }
        int m = last - first + 1;
        int base = first * d;
        float[] x = Arrays.copyOfRange(data, base, base + m * d);
        for (Steering.Edit e : edits) {
            switch (e.mode()) {
                case ADD -> add(data, base, m, d, w, scale, e.latent(), (float) e.strength());
                case CLAMP -> {
                    float[] z = activations(sae, x, m);
                    for (int r = 0; r < m; r++) {
                        add(data, base + r * d, 1, d, w, scale, e.latent(),
                                (float) (e.strength() - z[r * latents + e.latent()]));
                    }
                }
                case BIAS -> {
                    float[] before = reconstruct(sae, x, m, -1, 0);
                    float[] after = reconstruct(sae, x, m, e.latent(), (float) e.strength());
                    for (int i = 0; i < m * d; i++) {
                        data[base + i] += after[i] - before[i];
                    }
                }
            }
        }
        return data;
    }

    private static void add(float[] data, int at, int rows, int d, float[] w, double scale, int latent, float a) {
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < d; j++) {
                data[at + r * d + j] += a * (float) (w[latent * d + j] / scale);
            }
        }
    }

    private static float[] activations(Sae sae, float[] raw, int n) {
        int latents = sae.spec().dSae();
        float[] x = raw.clone();
        sae.spec().normalize(x, 0, n);
        float[] out = new float[n * latents];
        try (Tensor t = sae.device().upload(x, n, sae.spec().dIn());
             LatentCodes.Sparse codes = (LatentCodes.Sparse) sae.encode(t)) {
            int k = codes.values().cols();
            float[] v = codes.values().toFloatArray();
            int[] idx = codes.indices().toIntArray();
            for (int i = 0; i < n * k; i++) {
                if (idx[i] >= 0) {
                    out[(i / k) * latents + idx[i]] = v[i];
                }
            }
        }
        return out;
    }

    private static float[] reconstruct(Sae sae, float[] raw, int n, int latent, float bias) {
        Tensor bEnc = sae.latentBias();
        float[] saved = bEnc.toFloatArray();
        if (latent >= 0) {
            float[] biased = saved.clone();
            biased[latent] += bias;
            bEnc.copyFrom(biased);
        }
        int d = sae.spec().dIn();
        try {
            float[] x = raw.clone();
            sae.spec().normalize(x, 0, n);
            try (Tensor t = sae.device().upload(x, n, d); Tensor out = sae.device().allocate(DType.F32, n, d);
                 LatentCodes codes = sae.encode(t)) {
                sae.decode(codes, out);
                float[] xHat = out.toFloatArray();
                sae.spec().denormalize(xHat, 0, n);
                return xHat;
            }
        } finally {
            bEnc.copyFrom(saved);
        }
    }
}
