package io.github.sae4j.core.steer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.sae4j.api.model.HookPoint;
import io.github.sae4j.api.model.ResidualSlice;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.core.backend.java.JavaBackend;
import io.github.sae4j.core.sae.TopKArchitecture;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The three steering modes on residual rows, with a random TopK SAE (input scale 2, to check the units). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SteeringTest {

    static final int D = 16;
    static final int LATENTS = 40;
    static final HookPoint HOOK = HookPoint.parse("blocks.0.hook_resid_post");
    JavaBackend backend;
    Sae sae;

    @BeforeAll
    void open() {
        backend = new JavaBackend(1);
        SaeSpec spec = new TopKArchitecture().spec(D, LATENTS, Map.of("k", 4), 2.0, Map.of());
        sae = new TopKArchitecture().create(spec, backend.device());
        sae.initialize(3, null);
    }

    @AfterAll
    void close() {
        sae.close();
        backend.close();
    }

    static float[] rows(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n * D];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    float[] steer(float[] x, int firstPosition, int promptLength, Steering.Positions where, Steering.Edit... edits) {
        float[] data = x.clone();
        new Steering(sae, HOOK, List.of(edits), where, promptLength)
                .onResidual(new ResidualSlice(0, new int[0], firstPosition, data, 0, x.length / D, D));
        return data;
    }

    float[] decoderRow(int latent) {
        float[] w = sae.parameter("W_dec").value().toFloatArray();
        float[] row = new float[D];
        for (int j = 0; j < D; j++) {
            row[j] = w[latent * D + j] / 2f;   // raw units: divided by the input scale
        }
        return row;
    }

    @Test
    void addPutsTheDecoderDirectionInRawUnits() {
        float[] x = rows(3, 1);
        float[] y = steer(x, 0, 0, Steering.Positions.ALL, new Steering.Edit(5, 3.0, Steering.Mode.ADD));
        float[] dir = decoderRow(5);
        for (int i = 0; i < x.length; i++) {
            assertThat(y[i] - x[i]).isCloseTo(3f * dir[i % D], within(1e-5f));
        }
    }

    @Test
    void zeroStrengthsLeaveTheResidualAsItWas() {
        float[] x = rows(4, 2);
        assertThat(steer(x, 0, 0, Steering.Positions.ALL, new Steering.Edit(1, 0, Steering.Mode.ADD))).containsExactly(x);
        float[] b = steer(x, 0, 0, Steering.Positions.ALL, new Steering.Edit(1, 0, Steering.Mode.BIAS));
        for (int i = 0; i < x.length; i++) {
            assertThat(b[i]).isCloseTo(x[i], within(1e-5f));
        }
    }

    @Test
    void clampSetsTheLatentAndKeepsTheErrorTerm() {
        float[] x = rows(2, 3);
        // x + (s - z_7) W_dec[7]: two clamps of the same rows differ by (s2 - s1) W_dec[7] whatever z_7 was.
        float[] four = steer(x, 0, 0, Steering.Positions.ALL, new Steering.Edit(7, 4.0, Steering.Mode.CLAMP));
        float[] one = steer(x, 0, 0, Steering.Positions.ALL, new Steering.Edit(7, 1.0, Steering.Mode.CLAMP));
        float[] dir = decoderRow(7);
        for (int i = 0; i < x.length; i++) {
            assertThat(four[i] - one[i]).isCloseTo(3f * dir[i % D], within(1e-4f));
        }
        assertThat(four).isNotEqualTo(x);
    }

    @Test
    void onlyTheChosenPositionsMove() {
        float[] x = rows(4, 4);
        // rows are positions 2..5; the prompt is positions 0..3
        float[] gen = steer(x, 2, 4, Steering.Positions.GENERATED, new Steering.Edit(0, 5.0, Steering.Mode.ADD));
        float[] prompt = steer(x, 2, 4, Steering.Positions.PROMPT, new Steering.Edit(0, 5.0, Steering.Mode.ADD));
        for (int j = 0; j < 2 * D; j++) {
            assertThat(gen[j]).as("prompt rows untouched").isEqualTo(x[j]);
            assertThat(prompt[2 * D + j]).as("generated rows untouched").isEqualTo(x[2 * D + j]);
        }
        assertThat(gen[2 * D]).isNotEqualTo(x[2 * D]);
        assertThat(prompt[0]).isNotEqualTo(x[0]);
    }

    @Test
    void unknownFeaturesAndNonFiniteStrengthsAreRefused() {
        assertThatThrownBy(() -> new Steering(sae, HOOK, List.of(new Steering.Edit(LATENTS, 1, Steering.Mode.ADD)),
                Steering.Positions.ALL, 0)).hasMessageContaining("feature 40 does not exist");
        assertThatThrownBy(() -> new Steering(sae, HOOK, List.of(new Steering.Edit(3, Double.NaN, Steering.Mode.ADD)),
                Steering.Positions.ALL, 0)).hasMessageContaining("finite");
        assertThatThrownBy(() -> steer(rows(1, 5), 0, 0, Steering.Positions.ALL,
                new Steering.Edit(3, 1e39, Steering.Mode.ADD)))
                .hasMessageContaining("non-finite");
    }

    @Test
    void givesTheSameBitsAsThePlainOneEncodePerEditVersion() {
        // rows are positions 1..5; the prompt is positions 0..2; ADD comes first to check the SAE reads the rows
        // as they came in, and two BIAS edits share the unsteered reconstruction.
        float[] x = rows(5, 6);
        List<List<Steering.Edit>> cases = List.of(
                List.of(new Steering.Edit(7, 4.0, Steering.Mode.CLAMP)),
                List.of(new Steering.Edit(9, 6.0, Steering.Mode.BIAS)),
                List.of(new Steering.Edit(2, 3.0, Steering.Mode.ADD), new Steering.Edit(9, 6.0, Steering.Mode.BIAS),
                        new Steering.Edit(11, -2.0, Steering.Mode.BIAS), new Steering.Edit(7, 1.5, Steering.Mode.CLAMP)));
        for (List<Steering.Edit> edits : cases) {
            for (Steering.Positions where : Steering.Positions.values()) {
                float[] fast = x.clone();
                new Steering(sae, HOOK, edits, where, 3)
                        .onResidual(new ResidualSlice(0, new int[0], 1, fast, 0, 5, D));
                assertThat(fast).as(edits + " " + where).isEqualTo(PlainSteering.steer(sae, x, 1, 3, where, edits));
            }
            // One row at a time, as in generation (through the TopK screen, ScreenedTopK).
            for (int row = 0; row < 5; row++) {
                float[] one = java.util.Arrays.copyOfRange(x, row * D, (row + 1) * D);
                float[] fast = one.clone();
                new Steering(sae, HOOK, edits, Steering.Positions.ALL, 3)
                        .onResidual(new ResidualSlice(0, new int[0], 4 + row, fast, 0, 1, D));
                assertThat(fast).as(edits + " row " + row).isEqualTo(PlainSteering.steer(sae, one, 4 + row, 3,
                        Steering.Positions.ALL, edits));
            }
        }
    }
}
