package io.github.sae4j.openwebtext.split;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SentenceSplittersTest {

    @Test
    void knowsTheRulesAndOpenNlpByNameWithRulesAsTheDefault() {
        assertThat(SentenceSplitters.names()).containsExactly("rules", "opennlp");
        assertThat(SentenceSplitters.DEFAULT).isEqualTo("rules");
        assertThat(SentenceSplitters.create("rules")).isInstanceOf(RuleSentenceSplitter.class);
        assertThat(SentenceSplitters.create("opennlp")).isInstanceOf(OpenNlpSentenceSplitter.class);
    }

    @Test
    void anUnknownNameIsRejectedWithTheNamesThatExist() {
        assertThatThrownBy(() -> SentenceSplitters.create("punkt"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'punkt'").hasMessageContaining("[rules, opennlp]");
        assertThatThrownBy(() -> SentenceSplitters.create(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void openNlpReadsItsEnglishModelFromTheClasspathAndMapsSpansToTrimmedOffsets() {
        OpenNlpSentenceSplitter splitter = new OpenNlpSentenceSplitter();
        assertThat(splitter.modelName()).startsWith("opennlp-en-").contains("-sentence-").endsWith(".bin");
        String text = " The cat sat.  The dog ran away.\n\nA new paragraph.";
        assertThat(splitter.split(text).stream().map(s -> s.of(text)))
                .containsExactly("The cat sat.", "The dog ran away.", "A new paragraph.");
    }
}
