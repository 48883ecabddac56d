package io.github.sae4j.llama3.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.sae4j.api.model.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Decoding is lossless and streaming never emits a broken character. */
class Llama3TokenizerRoundTripTest {

    static final List<String> TEXTS = List.of(
            "", " ", "\r", "a\rb", "\r\n\r\n", "\n\n\n", " ".repeat(37), "\t \t", "x" + " ".repeat(9) + "y",
            "😀", "👨‍👩‍👧‍👦", "🇫🇷", "👍🏽 ok", "emoji😀😀inside", "日本語のテキスト", "中文，标点！", "한국어",
            "e\u0301\u0302\u0303", "Z\u0351\u0327a\u0356", "שלום עולם", "مرحبا ١٢٣", "\u202eover\u202c",
            "\u0000\u0001\u0007\u001b[0m\u007f", "\u00a0\u2028\u2029\u3000\u0085\ufeff", "𝔘𝔫𝔦 𠜎𠜱",
            "\uffff\ufffd", "<|eot_id|> <|begin_of_text|>", "It'S DON'T 'll", "1234567890123",
            "mixed: naïve café — “quoted” 😀 日本 🏳️‍🌈 עברית");

    private static Llama3Tokenizer tokenizer;

    @BeforeAll
    static void load() throws IOException {
        tokenizer = Llama3Tokenizer.fromHuggingFace(TokenizerTestFiles.tinyModel());
    }

    @Test
    void givenVariedUnicodeWhenEncodedThenDecodeRestoresIt() {
        for (String text : TEXTS) {
            assertThat(tokenizer.decode(tokenizer.encode(text, false))).as("plain %s", text).isEqualTo(text);
            assertThat(tokenizer.decode(tokenizer.encodeWithSpecialTokens(text, false))).as("special %s", text)
                    .isEqualTo(text);
        }
    }

    @Test
    void givenMultiByteCharactersWhenStreamedTokenByTokenThenNoPushEmitsReplacementCharacters() {
        for (String text : TEXTS) {
            if (text.contains("\ufffd")) {
                continue;
            }
            int[] ids = tokenizer.encode(text, false);
            Tokenizer.StreamingDecoder decoder = tokenizer.streamingDecoder();
            StringBuilder out = new StringBuilder();
            for (int id : ids) {
                String piece = decoder.push(id);
                assertThat(piece).as("push in %s", text).doesNotContain("\ufffd");
                out.append(piece);
            }
            out.append(decoder.finish());
            assertThat(out.toString()).isEqualTo(text);
        }
    }

    @Test
    void givenEmojiSplitOverByteTokensWhenStreamedThenEmittedOnceComplete() {
        byte[] utf8 = "😀".getBytes(StandardCharsets.UTF_8);
        int[] byteIds = new int[utf8.length];
        for (int i = 0; i < utf8.length; i++) {
            byteIds[i] = byteTokenId(utf8[i]);
        }
        Tokenizer.StreamingDecoder decoder = tokenizer.streamingDecoder();

        assertThat(decoder.push(byteIds[0])).isEmpty();
        assertThat(decoder.push(byteIds[1])).isEmpty();
        assertThat(decoder.push(byteIds[2])).isEmpty();
        assertThat(decoder.push(byteIds[3])).isEqualTo("😀");
        assertThat(decoder.push(byteIds[0])).isEmpty();
        assertThat(decoder.finish()).isEqualTo("\ufffd");
        assertThat(decoder.finish()).isEmpty();
    }

    private static int byteTokenId(byte b) {
        for (int id = 0; id < tokenizer.vocabSize(); id++) {
            byte[] bytes = tokenizer.bytesOf(id);
            if (bytes.length == 1 && bytes[0] == b) {
                return id;
            }
        }
        throw new AssertionError("no byte token for " + b);
    }

    @Test
    void completePrefixHoldsBackOnlyAnIncompleteTrailingSequence() {
        assertThat(Utf8StreamingDecoder.completePrefix(new byte[] {'a', (byte) 0xF0, (byte) 0x9F})).isEqualTo(1);
        assertThat(Utf8StreamingDecoder.completePrefix(new byte[] {(byte) 0xC3, (byte) 0xA9})).isEqualTo(2);
        assertThat(Utf8StreamingDecoder.completePrefix(new byte[] {'a', (byte) 0xE6})).isEqualTo(1);
        assertThat(Utf8StreamingDecoder.completePrefix(new byte[] {'a', (byte) 0x80, (byte) 0x80}))
                .as("stray continuation bytes are not held").isEqualTo(3);
        assertThat(Utf8StreamingDecoder.completePrefix(new byte[] {(byte) 0xFF})).isEqualTo(1);
    }

    @Test
    void tokenTextShowsPartialBytesAsReplacementCharacters() {
        assertThat(tokenizer.tokenText(byteTokenId((byte) 0xF0))).isEqualTo("\ufffd");
        assertThat(tokenizer.tokenText(tokenizer.encode(" the", false)[0])).isEqualTo(" the");
    }
}
