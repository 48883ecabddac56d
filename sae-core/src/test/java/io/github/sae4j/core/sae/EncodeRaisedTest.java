package io.github.sae4j.core.sae;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.sae.LatentCodes;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.core.backend.java.JavaBackend;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** TopK's one-product {@code encodeRaised} against the SPI's default (raise the latent bias, encode again). */
class EncodeRaisedTest {

    static final int D = 24;
    static final int LATENTS = 96;

    @Test
    void topKRaisesLatentsAsTheDefaultDoes() {
        try (JavaBackend backend = new JavaBackend(1)) {
            SaeSpec spec = new TopKArchitecture().spec(D, LATENTS, Map.of("k", 5), 1.0, Map.of());
            try (Sae sae = new TopKArchitecture().create(spec, backend.device())) {
                sae.initialize(9, null);
                SplittableRandom r = new SplittableRandom(4);
                float[] x = new float[7 * D];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) r.nextGaussian();
                }
                int[] latents = {3, 50, 3};
                float[] strengths = {6f, 2.5f, -4f};
                try (Tensor t = backend.device().upload(x, 7, D)) {
                    List<LatentCodes> fast = sae.encodeRaised(t, latents, strengths);
                    Sae plain = new DefaultOnly(sae);
                    List<LatentCodes> slow = plain.encodeRaised(t, latents, strengths);
                    assertThat(fast).hasSize(4);
                    for (int i = 0; i < fast.size(); i++) {
                        LatentCodes.Sparse f = (LatentCodes.Sparse) fast.get(i);
                        LatentCodes.Sparse s = (LatentCodes.Sparse) slow.get(i);
                        assertThat(f.indices().toIntArray()).as("set %d", i).containsExactly(s.indices().toIntArray());
                        assertThat(f.values().toFloatArray()).as("set %d", i).containsExactly(s.values().toFloatArray());
                    }
                    // Raising latent 3 by 6 puts it among the active latents of every row.
                    int[] idx = ((LatentCodes.Sparse) fast.get(1)).indices().toIntArray();
                    for (int row = 0; row < 7; row++) {
                        boolean has = false;
                        for (int j = 0; j < 5; j++) {
                            has |= idx[row * 5 + j] == 3;
                        }
                        assertThat(has).as("row %d", row).isTrue();
                    }
                    assertThat(sae.latentBias().toFloatArray()).as("the latent bias is left as it was")
                            .containsOnly(0f);
                    fast.forEach(LatentCodes::close);
                    slow.forEach(LatentCodes::close);
                    assertThatThrownBy(() -> sae.encodeRaised(t, new int[] {1}, new float[0]))
                            .hasMessageContaining("1 latents but 0 strengths");
                }
            }
        }
    }

    /** The SAE with only the SPI's default {@code encodeRaised}. */
    private record DefaultOnly(Sae inner) implements Sae {
        public SaeSpec spec() { return inner.spec(); }
        public io.github.sae4j.api.backend.Device device() { return inner.device(); }
        public List<io.github.sae4j.api.sae.SaeParameter> parameters() { return inner.parameters(); }
        public void initialize(long seed, float[] dataMean) { inner.initialize(seed, dataMean); }
        public Tensor latentBias() { return inner.latentBias(); }
        public LatentCodes encode(Tensor x) { return inner.encode(x); }
        public void decode(LatentCodes codes, Tensor out) { inner.decode(codes, out); }
        public io.github.sae4j.api.sae.TrainingStepResult trainingStep(Tensor x,
                io.github.sae4j.api.sae.TrainingContext context, Map<String, Tensor> gradients) {
            return inner.trainingStep(x, context, gradients);
        }
        public void close() { }
    }
}
