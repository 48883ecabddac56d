package io.github.sae4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.sae4j.api.model.HookPoint;
import io.github.sae4j.api.model.LanguageModel;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.core.backend.java.JavaBackend;
import io.github.sae4j.core.eval.SplicedEvaluator;
import io.github.sae4j.core.sae.TopKArchitecture;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The spliced evaluation on closed-form SAEs, with the embedded model. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SplicedEvaluationTest {

    static final HookPoint HOOK = HookPoint.parse("blocks.3.hook_resid_post");
    LanguageModel model;
    JavaBackend backend;
    List<int[]> sentences;

    @BeforeAll
    void open() throws Exception {
        ModelOptions options = new ModelOptions();
        options.backend = "java";
        options.threads = 1;
        model = options.open();
        backend = new JavaBackend(1);
        sentences = List.of(model.tokenizer().encode("It is the duty of Congress to provide for the common defense.", false),
                model.tokenizer().encode("The whale rose from the sea and the boats pulled hard.", false),
                model.tokenizer().encode("We have paid the debt.", false));
    }

    @AfterAll
    void close() {
        model.close();
        backend.close();
    }

    /** A TopK SAE with 2d latents, k = 2d, encoder rows [I; -I], decoder [I; -I]: relu(x) - relu(-x) = x exactly. */
    Sae identity(int d) {
        SaeSpec spec = new TopKArchitecture().spec(d, 2 * d, Map.of("k", 2 * d), 1.0, Map.of());
        Sae sae = new TopKArchitecture().create(spec, backend.device());
        // Both matrices hold one row of d_in values per latent ([d_sae, d_in], as the java backend keeps them).
        assertThat(sae.parameter("W_enc").value().shape()).containsExactly(2 * d, d);
        float[] dec = new float[2 * d * d];
        for (int i = 0; i < d; i++) {
            dec[i * d + i] = 1f;
            dec[(d + i) * d + i] = -1f;
        }
        sae.parameter("W_enc").value().copyFrom(dec);
        sae.parameter("W_dec").value().copyFrom(dec);
        sae.parameter("b_enc").value().copyFrom(new float[2 * d]);
        sae.parameter("b_dec").value().copyFrom(new float[d]);
        return sae;
    }

    @Test
    void anIdentitySaeRecoversAllTheLossWithNoKlAndAZeroNormControl() {
        int d = model.info().dModel();
        try (Sae sae = identity(d)) {
            SplicedEvaluator.Result r = SplicedEvaluator.evaluate(model, sae, HOOK, sentences,
                    new SplicedEvaluator.Options(64, 2, 1));
            assertThat(r.lossRecovered()).isCloseTo(1.0, within(1e-3));
            assertThat(r.ceSae()).isCloseTo(r.ceClean(), within(1e-4));
            assertThat(r.klSae()).isCloseTo(0.0, within(1e-5));
            assertThat(r.klRandom()).as("a zero-norm error leaves the model as it was").isCloseTo(0.0, within(1e-5));
            assertThat(r.reconstruction().fvu()).isCloseTo(0.0, within(1e-6));
            assertThat(r.ceZero()).isGreaterThan(r.ceClean());
        }
    }

    @Test
    void droppingTheLowestLatentsCostsMoreTheMoreAreDroppedAndFrequentOnesCanBeRemovedToATargetL0() {
        int d = model.info().dModel();
        try (Sae sae = identity(d)) {
            SplicedEvaluator.Result r = SplicedEvaluator.evaluate(model, sae, HOOK, sentences,
                    new SplicedEvaluator.Options(64, 1, 1));
            SplicedEvaluator.Ablations ab = SplicedEvaluator.ablations(model, sae, HOOK, sentences,
                    new SplicedEvaluator.Options(64, 1, 1, 4, d / 2.0), r.ceClean(), r.ceZero());
            assertThat(ab.dropped()).hasSize(4).startsWith(1);
            // Each row has d positive slots of its 2d (one of x+ / x- per dimension): past d, nothing is left to drop.
            for (int i = 1; i < 4; i++) {
                assertThat(ab.mse()[i]).as("MSE after dropping %d", ab.dropped()[i])
                        .isGreaterThanOrEqualTo(ab.mse()[i - 1]);
            }
            assertThat(ab.mse()[1]).isGreaterThan(ab.mse()[0]);
            assertThat(ab.mse()[0]).isGreaterThan(0.0);
            // Every token has d active latents (one of x+ / x- per dimension); half of them must go.
            assertThat(ab.frequentDropped()).isGreaterThan(0);
            assertThat(ab.frequentL0()).isLessThanOrEqualTo(d / 2.0);
            assertThat(ab.frequentLossRecovered()).isLessThan(1.0);
        }
    }

    @Test
    void aZeroSaeRecoversNothing() {
        int d = model.info().dModel();
        SaeSpec spec = new TopKArchitecture().spec(d, 32, Map.of("k", 4), 1.0, Map.of());
        try (Sae sae = new TopKArchitecture().create(spec, backend.device())) {
            sae.parameter("W_enc").value().copyFrom(new float[d * 32]);
            sae.parameter("W_dec").value().copyFrom(new float[32 * d]);
            sae.parameter("b_enc").value().copyFrom(new float[32]);
            sae.parameter("b_dec").value().copyFrom(new float[d]);
            SplicedEvaluator.Result r = SplicedEvaluator.evaluate(model, sae, HOOK, sentences,
                    SplicedEvaluator.Options.defaults());
            assertThat(r.lossRecovered()).isCloseTo(0.0, within(1e-9));
            assertThat(r.ceSae()).isEqualTo(r.ceZero());
            assertThat(r.klSae()).isGreaterThan(0.0);
            assertThat(r.klRandom()).isGreaterThan(0.0);
        }
    }

    @Test
    void anSaeTrainedElsewhereIsRefused() {
        int d = model.info().dModel();
        SaeSpec spec = new TopKArchitecture().spec(d, 32, Map.of("k", 4), 1.0,
                Map.of("hook_point", "blocks.1.hook_resid_post"));
        try (Sae sae = new TopKArchitecture().create(spec, backend.device())) {
            assertThatThrownBy(() -> SplicedEvaluator.evaluate(model, sae, HOOK, sentences,
                    SplicedEvaluator.Options.defaults())).hasMessageContaining("trained at blocks.1.hook_resid_post");
        }
        SaeSpec wide = new TopKArchitecture().spec(d + 1, 32, Map.of("k", 4), 1.0, Map.of());
        try (Sae sae = new TopKArchitecture().create(wide, backend.device())) {
            assertThatThrownBy(() -> SplicedEvaluator.evaluate(model, sae, HOOK, sentences,
                    SplicedEvaluator.Options.defaults())).hasMessageContaining("d_model=" + d);
        }
    }
}
