package io.github.sae4j.serve;

import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.model.HookPoint;
import io.github.sae4j.api.model.LanguageModel;
import io.github.sae4j.api.model.ResidualHook;
import io.github.sae4j.api.model.ResidualSlice;
import io.github.sae4j.api.sae.LatentCodes;
import io.github.sae4j.api.sae.Sae;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Runs a text through the model and the SAE and says which latents fire on each token. */
final class TokenReadout {

    /** A latent and its activation on one token. */
    record Firing(int latent, float activation) {
    }

    /** One token: its text and its strongest latents, strongest first. */
    record TokenLatents(int id, String text, List<Firing> latents) {
    }

    private TokenReadout() {
    }

    /**
     * @param strongest how many latents to keep per token (the strongest)
     */
    static List<TokenLatents> read(LanguageModel model, Sae sae, HookPoint hook, int[] ids, int strongest) {
        int d = sae.spec().dIn();
        float[][] residual = new float[1][];
        model.forward(List.of(ids), List.of(new ResidualHook() {
            @Override
            public HookPoint point() {
                return hook;
            }

            @Override
            public void onResidual(ResidualSlice slice) {
                int from = slice.rowOffset(0);
                residual[0] = Arrays.copyOfRange(slice.data(), from, from + slice.positions() * slice.dModel());
            }
        }), null);
        int n = ids.length;
        float[] x = residual[0];
        sae.spec().normalize(x, 0, n);
        int latents = sae.spec().dSae();
        List<TokenLatents> out = new ArrayList<>(n);
        try (Tensor t = sae.device().upload(x, n, d); LatentCodes codes = sae.encode(t)) {
            float[] values;
            int[] indices;
            int width;
            switch (codes) {
                case LatentCodes.Sparse s -> {
                    width = s.values().cols();
                    values = s.values().toFloatArray();
                    indices = s.indices().toIntArray();
                }
                case LatentCodes.Dense dense -> {
                    width = latents;
                    values = dense.activations().toFloatArray();
                    indices = new int[n * latents];
                    for (int i = 0; i < indices.length; i++) {
                        indices[i] = i % latents;
                    }
                }
            }
            for (int r = 0; r < n; r++) {
                List<Firing> f = new ArrayList<>();
                for (int j = 0; j < width; j++) {
                    int l = indices[r * width + j];
                    float v = values[r * width + j];
                    if (l >= 0 && v > 0) {
                        f.add(new Firing(l, v));
                    }
                }
                f.sort((a, b) -> Float.compare(b.activation(), a.activation()));
                out.add(new TokenLatents(ids[r], model.tokenizer().tokenText(ids[r]),
                        List.copyOf(f.subList(0, Math.min(strongest, f.size())))));
            }
        }
        return out;
    }
}
