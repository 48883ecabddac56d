package io.github.sae4j.llama3.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Pieces of Llama 3's split regex; expected lists from {@code hf_tokenizer.py}'s {@code pre_tokenize}. */
class Llama3PreTokenizerTest {

    @Test
    void contractionsAreCaseInsensitiveAndNumbersGoInThrees() {
        assertThat(Llama3PreTokenizer.split("It'S 12345 naïve!!\n\n  x"))
                .containsExactly("It", "'S", " ", "123", "45", " naïve", "!!\n\n", " ", " x");
    }

    /** Java's \s is ASCII-only without UNICODE_CHARACTER_CLASS; Llama 3 needs Unicode White_Space. */
    @Test
    void unicodeWhitespaceSplitsLikeAsciiWhitespace() {
        assertThat(Llama3PreTokenizer.split("a \u00a0b\u3000\u3000c")).containsExactly("a", " ", "\u00a0b", "\u3000",
                "\u3000c");
        assertThat(Llama3PreTokenizer.split("x\u0085y 'ſ")).containsExactly("x", "\u0085y", " '", "ſ");
    }

    @Test
    void whitespaceRunsLeaveOneSpaceForTheNextWord() {
        assertThat(Llama3PreTokenizer.split("  two  spaces,\ttab\nnewline\r\n\r\nend  ")).containsExactly(" ", " two",
                " ", " spaces", ",", "\ttab", "\n", "newline", "\r\n\r\n", "end", "  ");
    }

    @Test
    void surrogatePairsAreNeverSplit() {
        assertThat(Llama3PreTokenizer.split("😀😀 👍🏽")).containsExactly("😀😀", " 👍🏽");
    }
}
