package io.github.sae4j.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.backend.DType;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.sae.AuxKSettings;
import io.github.sae4j.api.sae.LatentCodes;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeParameter;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.api.sae.TrainingContext;
import io.github.sae4j.api.sae.TrainingStepResult;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.checkpoint.SaeCheckpoint;
import io.github.sae4j.core.sae.TopKArchitecture;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Latent sharding against the unsharded TopK SAE, on logical devices of the java backend: the same selection, loss
 * and gradients for one step, the same weights after a short run, exact resume, and a normal checkpoint.
 */
class LatentShardingTest {

    static final int D_IN = 16;
    static final int LATENTS = 40;
    static final int ROWS = 64;

    static SaeSpec spec() {
        return new SaeSpec(TopKArchitecture.NAME, D_IN, LATENTS, Map.of("k", 4), 1.0, Map.of());
    }

    static TrainerConfig config(int devices) {
        List<Integer> list = new ArrayList<>();
        for (int d = 0; d < devices; d++) {
            list.add(d);
        }
        return TrainerConfig.builder().data("unused").latents(LATENTS).setting("k", 4).batchSize(ROWS).steps(10)
                .devices(list).shardLatents(true).build();
    }

    static float[] gaussian(long seed, int n, double scale) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) (random.nextGaussian() * scale);
        }
        return out;
    }

    /** The largest |a - b| over the largest |a|. */
    static double relativeDifference(float[] a, float[] b) {
        double diff = 0;
        double scale = 0;
        for (int i = 0; i < a.length; i++) {
            diff = Math.max(diff, Math.abs(a[i] - b[i]));
            scale = Math.max(scale, Math.abs(a[i]));
        }
        return diff / scale;
    }

    /** A slice's gradients laid side by side into the unsharded layout ([d_sae, d_in] rows, [d_sae], b_dec). */
    static Map<String, float[]> gatheredGradients(LatentShards shards) {
        Map<String, float[]> out = new LinkedHashMap<>();
        out.put("W_enc", new float[LATENTS * D_IN]);
        out.put("W_dec", new float[LATENTS * D_IN]);
        out.put("b_enc", new float[LATENTS]);
        int first = 0;
        for (int s = 0; s < shards.widths().size(); s++) {
            Map<String, Tensor> g = shards.gradients(s);
            g.get("W_enc").copyTo(out.get("W_enc"), first * D_IN);
            g.get("W_dec").copyTo(out.get("W_dec"), first * D_IN);
            g.get("b_enc").copyTo(out.get("b_enc"), first);
            first += shards.widths().get(s);
        }
        out.put("b_dec", shards.gradients(0).get("b_dec").toFloatArray());
        return out;
    }

    /**
     * One step with every third latent dead (so AuxK selects across slices too). The selection is the same, index
     * for index: the pre-activations of a slice are the unsharded ones (the same dot products), and the merge keeps
     * the backend's order and tie rule. Loss and gradients differ only in the order floats are summed (x_hat and
     * e_hat as a sum of per-device parts, the b_dec gradient as a sum of per-device products): observed differences
     * are at float epsilon (1e-7 of the largest); 1e-5 fails on any real difference (a lost slice, a wrong latent).
     */
    @ParameterizedTest
    @ValueSource(ints = {2, 3})
    void oneShardedStepEqualsTheUnshardedStep(int devices) {
        SaeSpec spec = spec();
        float[] mean = gaussian(1, D_IN, 0.3);
        float[] batch = gaussian(2, ROWS * D_IN, 1.0);
        float[] deadMask = new float[LATENTS];
        int deadCount = 0;
        for (int c = 0; c < LATENTS; c += 3) {
            deadMask[c] = 1f;
            deadCount++;
        }
        AuxKSettings auxK = new AuxKSettings(8, 1f / 32);
        try (Backend backend = Plugins.openBackend("java", Map.of("threads", "3", "devices", "3"))) {
            List<Device> list = backend.devices().subList(0, devices);
            Device home = list.getFirst();
            try (Sae plain = new TopKArchitecture().create(spec, home);
                 LatentShards shards = LatentShards.open(spec, list, config(devices));
                 Tensor x = home.upload(batch, ROWS, D_IN);
                 Tensor mask = home.upload(deadMask, LATENTS);
                 Tensor fired = home.allocate(DType.F32, LATENTS)) {
                plain.initialize(7, mean);
                UnitNormDecoderConstraint.of(plain).renormalize();
                shards.initialize(7, mean);
                Map<String, Tensor> gradients = new LinkedHashMap<>();
                for (SaeParameter p : plain.parameters()) {
                    gradients.put(p.name(), home.allocate(DType.F32, p.value().shape()));
                }
                home.ops().fill(fired, 0f);
                TrainingStepResult expected = plain.trainingStep(x, TrainingContext.of(mask, deadCount, auxK, fired),
                        gradients);
                DataParallelReplicas.Step actual = shards.step(batch, deadMask, deadCount, auxK);

                try (LatentCodes codes = plain.encode(x)) {
                    int[] ids = ((LatentCodes.Sparse) codes).indices().toIntArray();
                    assertThat(shards.lastSelection().ids()).as("the global top-k on %d devices", devices)
                            .containsExactly(ids);
                }
                assertThat(actual.firedCounts()).as("firing counts").containsExactly(fired.toFloatArray());
                assertThat(actual.result().l0()).isEqualTo(expected.l0());
                assertThat(expected.terms().get("auxk")).as("AuxK ran").isPositive();
                for (String term : List.of("fvu", "auxk")) {
                    assertThat(actual.result().terms().get(term))
                            .as("%s on %d devices", term, devices)
                            .isCloseTo(expected.terms().get(term), org.assertj.core.data.Percentage.withPercentage(1e-3));
                }
                Map<String, float[]> sharded = gatheredGradients(shards);
                for (Map.Entry<String, Tensor> e : gradients.entrySet()) {
                    double d = relativeDifference(e.getValue().toFloatArray(), sharded.get(e.getKey()));
                    System.out.printf("%d devices: gradient %s differs by %.2g of the largest%n", devices, e.getKey(), d);
                    assertThat(d).as("gradient of %s on %d devices, relative to the largest", e.getKey(), devices)
                            .isLessThan(1e-5);
                }
                gradients.values().forEach(Tensor::close);
            }
        }
    }

    @Test
    void mergeKeepsTheBackendsOrderAndBreaksTiesToTheLowerLatent() {
        // Two slices of 3 latents (ids 0-2, 3-5): a tie at 2.0 between latent 1 and latent 4, an empty slot.
        float[][] values = {{2f, 1f}, {3f, 2f}};
        int[][] ids = {{1, 0}, {0, 1}};
        LatentShards.Selection s = LatentShards.merge(1, 3, values, ids, new int[] {0, 3});
        assertThat(s.values()).containsExactly(3f, 2f, 2f);
        assertThat(s.ids()).containsExactly(3, 1, 4);
        LatentShards.Selection short_ = LatentShards.merge(1, 3, new float[][] {{5f}, {0f}},
                new int[][] {{0}, {-1}}, new int[] {0, 3});
        assertThat(short_.ids()).containsExactly(0, -1, -1);
    }

    /** A checkpoint of a sharded SAE is a normal one: it loads as a TopK SAE and encodes as the sharded SAE does. */
    @Test
    void aShardedCheckpointLoadsAsANormalSaeAndEncodesIdentically(@TempDir Path dir) throws IOException {
        SaeSpec spec = spec();
        float[] batch = gaussian(4, ROWS * D_IN, 1.0);
        try (Backend backend = Plugins.openBackend("java", Map.of("threads", "3", "devices", "3"));
             LatentShards shards = LatentShards.open(spec, backend.devices(), config(3))) {
            Device home = backend.devices().getFirst();
            shards.initialize(5, gaussian(3, D_IN, 0.3));
            for (long step = 1; step <= 3; step++) {
                shards.step(batch, new float[LATENTS], 0, null);
                shards.update(1e-2, step);
            }
            shards.save(dir.resolve("sae"));
            try (Sae loaded = SaeCheckpoint.load(dir.resolve("sae"), home, Plugins.architectures());
                 Tensor x = home.upload(batch, ROWS, D_IN);
                 LatentCodes a = shards.sae().encode(x);
                 LatentCodes b = loaded.encode(x);
                 Tensor xHatA = home.allocate(DType.F32, ROWS, D_IN);
                 Tensor xHatB = home.allocate(DType.F32, ROWS, D_IN)) {
                assertThat(loaded).isNotNull().extracting(s -> s.spec().dSae()).isEqualTo(LATENTS);
                LatentCodes.Sparse sa = (LatentCodes.Sparse) a;
                LatentCodes.Sparse sb = (LatentCodes.Sparse) b;
                assertThat(sa.indices().toIntArray()).containsExactly(sb.indices().toIntArray());
                assertThat(sa.values().toFloatArray()).containsExactly(sb.values().toFloatArray());
                shards.sae().decode(a, xHatA);
                loaded.decode(b, xHatB);
                assertThat(relativeDifference(xHatB.toFloatArray(), xHatA.toFloatArray())).isLessThan(1e-6);
            }
        }
    }
}
