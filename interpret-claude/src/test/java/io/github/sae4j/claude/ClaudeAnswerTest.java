package io.github.sae4j.claude;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class ClaudeAnswerTest {

    @Test
    void readsThePlainJsonAnswer() {
        ClaudeAnswer a = ClaudeAnswer.parse("{\"common_semantic\": \"  feline nouns \", \"certainty\": 0.8}");

        assertThat(a.ok()).isTrue();
        assertThat(a.label()).isEqualTo("feline nouns");
        assertThat(a.certainty()).isEqualTo(0.8);
    }

    @Test
    void findsTheObjectInsideProseOrAFenceAndSkipsOtherObjects() {
        String fenced = "Here is my analysis.\n```json\n{\n  \"common_semantic\": \"dates in June\",\n"
                + "  \"certainty\": 0.6\n}\n```\nLet me know!";
        String afterAnotherObject = "Tokens: {\"a\": 1}. Answer: {'common_semantic': 'years', 'certainty': 1,}";

        assertThat(ClaudeAnswer.parse(fenced).label()).isEqualTo("dates in June");
        assertThat(ClaudeAnswer.parse(afterAnotherObject).label()).isEqualTo("years");
        assertThat(ClaudeAnswer.parse(afterAnotherObject).certainty()).isEqualTo(1.0);
    }

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {"0.75;0.75", "\"0.75\";0.75", "\"75%\";0.75", "75;0.75", "\" 40 % \";0.4",
            "0;0.0", "1;1.0"})
    void readsTheCertaintyAsANumberANumericStringOrAPercent(String certainty, double expected) {
        ClaudeAnswer a = ClaudeAnswer.parse("{\"common_semantic\": \"x\", \"certainty\": " + certainty + "}");

        assertThat(a.error()).isNull();
        assertThat(a.certainty()).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-12));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "I believe these are about cats.", "{\"common_semantic\": \"cats\"}",
            "{\"common_semantic\": \"\", \"certainty\": 0.5}", "{\"common_semantic\": 3, \"certainty\": 0.5}",
            "{\"common_semantic\": \"cats\", \"certainty\": \"high\"}",
            "{\"common_semantic\": \"cats\", \"certainty\": -0.1}",
            "{\"common_semantic\": \"cats\", \"certainty\": 250}",
            "{\"label\": \"cats\", \"certainty\": 0.5}",
            "{\"common_semantic\": \"cats\", \"certainty\": 0."})
    void callsAnAnswerWithoutAUsableLabelOrCertaintyMalformedAndSaysWhy(String text) {
        ClaudeAnswer a = ClaudeAnswer.parse(text);

        assertThat(a.ok()).isFalse();
        assertThat(a.label()).isNull();
        assertThat(a.error()).isNotBlank();
    }

    @Test
    void namesTheMissingField() {
        assertThat(ClaudeAnswer.parse("{\"common_semantic\": \"cats\"}").error()).contains("certainty");
        assertThat(ClaudeAnswer.parse("no json").error()).contains("common_semantic");
    }
}
