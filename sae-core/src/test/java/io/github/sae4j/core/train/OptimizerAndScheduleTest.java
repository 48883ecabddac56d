package io.github.sae4j.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.sae.SaeParameter;
import io.github.sae4j.core.backend.java.JavaBackend;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OptimizerAndScheduleTest {

    @Test
    void warmUpIsLinearAndCosineDecaysToTheFloor() {
        LearningRateSchedule s = new LearningRateSchedule(1e-3, 10, 110, 0.1);
        assertThat(s.at(1)).isCloseTo(1e-4, within(1e-12));
        assertThat(s.at(5)).isCloseTo(5e-4, within(1e-12));
        assertThat(s.at(10)).isCloseTo(1e-3, within(1e-12));
        assertThat(s.at(60)).as("half way through the decay").isCloseTo(0.55e-3, within(1e-12));
        assertThat(s.at(110)).as("the last step reaches the floor").isCloseTo(1e-4, within(1e-12));
        for (long t = 11; t < 110; t++) {
            assertThat(s.at(t + 1)).isLessThanOrEqualTo(s.at(t));
        }
    }

    @Test
    void adamWsFirstStepMovesEachWeightByTheLearningRateAgainstItsGradient() {
        try (JavaBackend backend = new JavaBackend(1)) {
            Device d = backend.device();
            Tensor p = d.upload(new float[] {1, 1, 1, 0.5f}, 4);
            Tensor g = d.upload(new float[] {2, -3, 0, 1e-3f}, 4);
            try (AdamW adam = new AdamW(d, List.of(new SaeParameter("p", p, false)), 0.85, 0.9999, 6.25e-10, 0)) {
                // m_hat = g and v_hat = g^2 after one step, so the update is lr * g / |g| (0 where g = 0).
                adam.step(Map.of("p", g), 0.01, 1);
                assertThat(p.toFloatArray()).containsExactly(new float[] {0.99f, 1.01f, 1f, 0.49f}, within(1e-6f));
            }
        }
    }

    @Test
    void adamWDecaysWeightsDecoupledFromTheGradient() {
        try (JavaBackend backend = new JavaBackend(1)) {
            Device d = backend.device();
            Tensor p = d.upload(new float[] {2f}, 1);
            Tensor g = d.upload(new float[] {0f}, 1);
            try (AdamW adam = new AdamW(d, List.of(new SaeParameter("p", p, false)), 0.9, 0.999, 1e-8, 0.5)) {
                adam.step(Map.of("p", g), 0.1, 1);
                assertThat(p.toFloatArray()[0]).isCloseTo(2f * (1 - 0.1f * 0.5f), within(1e-6f));
            }
        }
    }

    @Test
    void latentsDieAfterTheThresholdInTokensAndReviveWhenTheyFire() {
        DeadLatentTracker t = new DeadLatentTracker(3, 100);
        t.update(new float[] {1, 0, 0}, 60);
        assertThat(t.deadCount()).isZero();
        t.update(new float[] {0, 2, 0}, 40);
        assertThat(t.mask()).containsExactly(0, 0, 1);
        assertThat(t.deadFraction()).isCloseTo(1.0 / 3, within(1e-12));
        t.update(new float[] {0, 0, 1}, 60);
        assertThat(t.mask()).as("latent 0: 100 tokens without firing; latent 2 fired").containsExactly(1, 0, 0);
        DeadLatentTracker restored = new DeadLatentTracker(3, 100);
        restored.restore(t.tokensSinceFired());
        assertThat(restored.mask()).containsExactly(t.mask());
    }

    @Test
    void impossibleSettingsAreRejectedWithTheirName() {
        TrainerConfig.Builder ok = TrainerConfig.builder().data("x").latents(8).steps(10);
        assertThat(ok.build().warmupSteps()).as("default warm-up: 5% of steps").isZero();
        assertThatThrownBy(() -> TrainerConfig.builder().data("x").latents(8).steps(10).learningRate(-1).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("learning_rate=-1.0");
        assertThatThrownBy(() -> TrainerConfig.builder().data("x").latents(0).steps(10).build())
                .hasMessageContaining("latents=0");
        assertThatThrownBy(() -> TrainerConfig.builder().data("x").latents(8).steps(10).beta2(1.0).build())
                .hasMessageContaining("beta2");
        assertThatThrownBy(() -> TrainerConfig.builder().data("x").latents(8).steps(10).normalize("layer").build())
                .hasMessageContaining("normalize=layer");
        assertThatThrownBy(() -> new io.github.sae4j.core.sae.TopKArchitecture().spec(16, 8, Map.of("k", 9), 1.0, Map.of()))
                .hasMessageContaining("k=9").hasMessageContaining("8 latents");
        assertThatThrownBy(() -> new io.github.sae4j.core.sae.TopKArchitecture().spec(16, 8, Map.of(), 1.0, Map.of()))
                .hasMessageContaining("needs setting 'k'");
        assertThatThrownBy(() -> new io.github.sae4j.core.sae.TopKArchitecture().spec(16, 8, Map.of("k", "x"), 1.0, Map.of()))
                .hasMessageContaining("must be an integer");
        assertThatThrownBy(() -> new io.github.sae4j.core.sae.TopKArchitecture().spec(16, 8, Map.of("k", 2, "kk", 1), 1.0, Map.of()))
                .hasMessageContaining("no setting(s) [kk]");
    }

    @Test
    void configsRoundTripThroughJson() throws Exception {
        TrainerConfig c = TrainerConfig.builder().data("d").latents(64).steps(100).setting("k", 4)
                .backendOptions(Map.of("threads", "2")).build();
        String json = TrainerConfig.json().writeValueAsString(c);
        assertThat(json).contains("\"learning_rate\"").contains("\"aux_k_coefficient\"");
        TrainerConfig back = TrainerConfig.json().readValue(json, TrainerConfig.class);
        assertThat(back).isEqualTo(c);
    }
}
