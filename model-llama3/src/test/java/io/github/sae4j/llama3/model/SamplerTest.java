package io.github.sae4j.llama3.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.sae4j.api.model.GenerationOptions;
import org.junit.jupiter.api.Test;

class SamplerTest {

    @Test
    void picksFromFiniteLogitsAndRefusesOverflowedOnes() {
        Sampler greedy = new Sampler(GenerationOptions.greedy(4));
        assertThat(greedy.next(new float[] {0f, 3f, 1f})).isEqualTo(1);
        Sampler sampled = new Sampler(new GenerationOptions(4, 0.8f, 0.95f, 7));
        assertThat(sampled.next(new float[] {-50f, 40f, -50f})).isEqualTo(1);
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            assertThatThrownBy(() -> greedy.next(new float[] {0f, bad, 1f})).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("not finite").hasMessageContaining("lower the strength");
            assertThatThrownBy(() -> sampled.next(new float[] {0f, bad, 1f}))
                    .isInstanceOf(IllegalStateException.class);
        }
    }
}
