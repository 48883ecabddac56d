package io.github.sae4j.claude;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.sae4j.api.label.ActivatingExample;
import io.github.sae4j.api.label.LatentExamples;
import java.util.List;
import org.junit.jupiter.api.Test;

class LabelPromptTest {

    static ActivatingExample example(List<String> tokens, float... activations) {
        return new ActivatingExample(1, tokens, activations, 0);
    }

    @Test
    void marksTokensAboveATenthOfTheStrongestActivationWithTheirStrength() {
        ActivatingExample e = example(List.of("Paris", " is", " in", " France", "."), 8, 0.5f, 0.9f, 4, 0);

        assertThat(LabelPrompt.marked(e, 8)).isEqualTo("«Paris|10» is «in|1» «France|5».");
    }

    @Test
    void escapesLineBreaksSoThatEachExampleIsOneLine() {
        ActivatingExample e = example(List.of("a", "\n", "b"), 0, 1, 0);

        assertThat(LabelPrompt.marked(e, 1)).isEqualTo("a«\\n|10»b");
    }

    @Test
    void showsAtMostTheRequestedNumberOfExamplesScaledToTheStrongestShown() {
        LatentExamples latent = new LatentExamples(3, List.of(
                example(List.of("one"), 2), example(List.of("two"), 1), example(List.of("three"), 100)));

        String prompt = LabelPrompt.current().render(latent, 2);

        assertThat(prompt).contains("Example 1:\n«one|10»").contains("Example 2:\n«two|5»")
                .doesNotContain("three").doesNotContain("{{examples}}");
        assertThat(prompt).contains("{\"common_semantic\": \"<short description>\", \"certainty\":");
    }

    @Test
    void aLatentWithoutExamplesStillGetsAPrompt() {
        assertThat(LabelPrompt.current().render(new LatentExamples(1, List.of()), 20))
                .contains("no activating examples");
    }

    @Test
    void theVersionNamesTheResourceTheTemplateComesFrom() {
        assertThat(LabelPrompt.VERSION).isEqualTo("v1");
        assertThat(LabelPrompt.class.getResource("prompt-" + LabelPrompt.VERSION + ".txt")).isNotNull();
        assertThat(LabelPrompt.current().template()).contains("{{examples}}");
    }
}
