package io.github.sae4j.core.steer;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.sae.LatentCodes;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.core.backend.java.JavaBackend;
import io.github.sae4j.core.sae.TopKArchitecture;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The bf16 screen gives exactly the TopK SAE's codes: plain and with latents raised, ties and all. */
class ScreenedTopKTest {

    @Test
    void screenedCodesAreTheSaesCodesBitForBit() {
        int d = 64;
        int latents = 512;
        int k = 16;
        SplittableRandom r = new SplittableRandom(11);
        try (JavaBackend backend = new JavaBackend(2)) {
            SaeSpec spec = new TopKArchitecture().spec(d, latents, Map.of("k", k), 1.0, Map.of());
            try (Sae sae = new TopKArchitecture().create(spec, backend.device())) {
                sae.initialize(5, null);
                // Trained-looking biases, and pairs of identical encoder rows: exact ties in the pre-activations.
                float[] bEnc = new float[latents];
                for (int j = 0; j < latents; j++) {
                    bEnc[j] = (float) (0.3 * r.nextGaussian());
                }
                float[] rows = sae.parameter("W_enc").value().toFloatArray();
                for (int j = 0; j < 40; j += 2) {
                    System.arraycopy(rows, j * d, rows, (j + 1) * d, d);
                    bEnc[j + 1] = bEnc[j];
                }
                sae.parameter("W_enc").value().copyFrom(rows);
                sae.parameter("b_enc").value().copyFrom(bEnc);
                float[] bDec = new float[d];
                for (int p = 0; p < d; p++) {
                    bDec[p] = (float) r.nextGaussian();
                }
                sae.parameter("b_dec").value().copyFrom(bDec);
                ScreenedTopK screen = ScreenedTopK.of(sae);
                assertThat(screen).isNotNull();

                int compared = 0;
                for (int trial = 0; trial < 300; trial++) {
                    double scale = new double[] {1e-3, 1, 30}[trial % 3];
                    float[] x = new float[d];
                    for (int p = 0; p < d; p++) {
                        x[p] = (float) (scale * r.nextGaussian());
                    }
                    if (trial % 10 == 0) {
                        x = bDec.clone(); // every pre-activation is b_enc: many exact ties
                    }
                    int[] raised = {r.nextInt(latents), r.nextInt(40), r.nextInt(latents)};
                    float[] strengths = {(float) (10 * r.nextGaussian()), 4f, (float) r.nextGaussian()};
                    List<LatentCodes> fast = screen.encode(x, raised, strengths);
                    List<LatentCodes> slow;
                    try (Tensor t = backend.device().upload(x, 1, d)) {
                        slow = sae.encodeRaised(t, raised, strengths);
                    }
                    assertThat(fast).hasSameSizeAs(slow);
                    for (int s = 0; s < fast.size(); s++) {
                        LatentCodes.Sparse a = (LatentCodes.Sparse) fast.get(s);
                        LatentCodes.Sparse b = (LatentCodes.Sparse) slow.get(s);
                        assertThat(a.indices().toIntArray()).as("trial %d set %d", trial, s)
                                .containsExactly(b.indices().toIntArray());
                        float[] av = a.values().toFloatArray();
                        float[] bv = b.values().toFloatArray();
                        for (int i = 0; i < k; i++) {
                            assertThat(Float.floatToRawIntBits(av[i])).as("trial %d set %d value %d", trial, s, i)
                                    .isEqualTo(Float.floatToRawIntBits(bv[i]));
                        }
                        compared++;
                    }
                    fast.forEach(LatentCodes::close);
                    slow.forEach(LatentCodes::close);
                }
                assertThat(compared).isEqualTo(1200);
                float[] bad = new float[d];
                bad[3] = Float.NaN;
                assertThat(screen.encode(bad, new int[0], new float[0])).as("not finite: the caller encodes").isNull();
            }
        }
    }

    @Test
    void largestAndBf16Rounding() {
        SplittableRandom r = new SplittableRandom(2);
        for (int t = 0; t < 50; t++) {
            float[] v = new float[1 + r.nextInt(300)];
            for (int i = 0; i < v.length; i++) {
                v[i] = r.nextInt(5) == 0 ? 1f : (float) r.nextGaussian();
            }
            int m = 1 + r.nextInt(v.length);
            float[] sorted = v.clone();
            Arrays.sort(sorted);
            int[] top = ScreenedTopK.largest(v, m);
            for (int i = 0; i < m; i++) {
                assertThat(v[top[i]]).isEqualTo(sorted[v.length - 1 - i]);
            }
        }
        assertThat(Float.intBitsToFloat(ScreenedTopK.bf16(1f) << 16)).isEqualTo(1f);
        assertThat(Float.intBitsToFloat(ScreenedTopK.bf16(-3.14159f) << 16)).isEqualTo(-3.140625f);
        // halfway between two bf16 values rounds to even
        assertThat(ScreenedTopK.bf16(Float.intBitsToFloat(0x3f808000))).isEqualTo((short) 0x3f80);
        assertThat(ScreenedTopK.bf16(Float.intBitsToFloat(0x3f818000))).isEqualTo((short) 0x3f82);
    }

    @Test
    void otherArchitecturesAreNotScreened() {
        try (JavaBackend backend = new JavaBackend(1)) {
            var relu = new io.github.sae4j.core.sae.ReluL1Architecture();
            try (Sae sae = relu.create(relu.spec(8, 16, Map.of(), 1.0, Map.of()), backend.device())) {
                assertThat(ScreenedTopK.of(sae)).isNull();
            }
        }
    }
}
