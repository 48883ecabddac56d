package io.github.sae4j.llama3.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.sae4j.api.model.ChatMessage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The tokenizer of the embedded tiny Llama 3 against the golden ids of {@code tools/reference/make_golden.py}. */
class Llama3TokenizerTinyModelTest {

    private static Llama3Tokenizer tokenizer;
    private static TokenizerTestFiles.Golden golden;

    @BeforeAll
    static void load() throws IOException {
        tokenizer = Llama3Tokenizer.fromHuggingFace(TokenizerTestFiles.tinyModel());
        golden = TokenizerTestFiles.readGolden(TokenizerTestFiles.moduleDir()
                .resolve("src/test/resources/golden/tiny-llama3/golden.safetensors"));
    }

    /** Every {@code <case>.text} of the golden metadata, with its ids ({@code .ids}, or {@code .prompt_ids}). */
    @Test
    void givenGoldenTextsWhenEncodedWithSpecialTokensThenIdsMatchReference() {
        Map<String, String> texts = new TreeMap<>();
        golden.metadata().forEach((k, v) -> {
            if (k.endsWith(".text")) {
                texts.put(k.substring(0, k.length() - ".text".length()), v);
            }
        });
        assertThat(texts).containsKeys("tok.0", "tok.5", "single_bos", "single_nobos", "chat", "gen.2");
        for (Map.Entry<String, String> c : texts.entrySet()) {
            int[] expected = golden.ints().containsKey(c.getKey() + ".ids") ? golden.ints().get(c.getKey() + ".ids")
                    : golden.ints().get(c.getKey() + ".prompt_ids");
            boolean bos = Boolean.parseBoolean(golden.metadata().getOrDefault(c.getKey() + ".bos", "false"));
            assertThat(tokenizer.encodeWithSpecialTokens(c.getValue(), bos))
                    .as("case %s, text %s", c.getKey(), c.getValue()).containsExactly(expected);
            assertThat(tokenizer.decode(expected)).as("decode of case %s", c.getKey())
                    .isEqualTo((bos ? "<|begin_of_text|>" : "") + c.getValue());
        }
    }

    @Test
    void givenOneUserMessageWhenChatEncodedWithGenerationPromptThenIdsMatchGoldenChat() {
        int[] ids = tokenizer.encodeChat(List.of(ChatMessage.user("What is the capital of France?")), true);

        assertThat(ids).containsExactly(golden.ints().get("chat.ids"));
        assertThat(tokenizer.encodeChat(List.of(ChatMessage.user("  What is the capital of France?\n ")), true))
                .as("content is trimmed like Jinja's trim").containsExactly(ids);
        assertThat(tokenizer.decode(tokenizer.encodeChat(
                List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi"), ChatMessage.assistant("Hello!")),
                false))).isEqualTo("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>");
    }

    @Test
    void givenSpecialTokenTextWhenEncodedPlainlyThenItStaysText() {
        String text = "<|eot_id|>";

        int[] plain = tokenizer.encode(text, false);

        assertThat(tokenizer.encodeWithSpecialTokens(text, false)).containsExactly(3849);
        assertThat(plain.length).isGreaterThan(1);
        assertThat(plain).doesNotContain(3849);
        assertThat(tokenizer.decode(plain)).isEqualTo(text);
        assertThat(tokenizer.decode(tokenizer.encodeChat(List.of(ChatMessage.user("a<|eot_id|>b")), false)))
                .as("chat content cannot forge turn markers")
                .isEqualTo("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\na<|eot_id|>b<|eot_id|>");
    }

    @Test
    void givenTinyModelFilesThenSpecialIdsComeFromTheConfigs() {
        assertThat(tokenizer.bosToken()).isEqualTo(3840);
        assertThat(tokenizer.stopTokens()).containsExactly(3841, 3848, 3849);
        assertThat(tokenizer.vocabSize()).isEqualTo(4096);
        assertThat(tokenizer.specialToken("<|eot_id|>")).isEqualTo(3849);
        assertThat(tokenizer.specialToken("<|nope|>")).isEqualTo(-1);
        assertThat(tokenizer.tokenText(3849)).isEqualTo("<|eot_id|>");
        assertThat(tokenizer.encode("Hello world", true)).startsWith(3840);
    }

    /** GGUF stores the same vocabulary as lists by id; both factories must encode alike. */
    @Test
    void givenGgufStyleListsWhenBuiltFromVocabularyThenEncodingEqualsHuggingFaceFiles() throws IOException {
        JsonNode json = new ObjectMapper().readTree(TokenizerTestFiles.tinyModel().resolve("tokenizer.json").toFile());
        String[] tokens = new String[4096];
        int[] types = new int[4096];
        json.path("model").path("vocab").properties().forEach(e -> {
            tokens[e.getValue().asInt()] = e.getKey();
            types[e.getValue().asInt()] = 1;
        });
        for (JsonNode a : json.path("added_tokens")) {
            tokens[a.path("id").asInt()] = a.path("content").asText();
            types[a.path("id").asInt()] = 3;
        }
        List<String> merges = new ArrayList<>();
        json.path("model").path("merges").forEach(m -> merges.add(m.isTextual() ? m.asText()
                : m.get(0).asText() + " " + m.get(1).asText()));

        Llama3Tokenizer gguf = Llama3Tokenizer.fromVocabulary("tiny.gguf", Arrays.asList(tokens), merges, types, 3840,
                new int[] {3841, 3848, 3849}, tokenizer.chatTemplate());

        for (String text : golden.metadata().entrySet().stream().filter(e -> e.getKey().endsWith(".text"))
                .map(Map.Entry::getValue).toList()) {
            assertThat(gguf.encodeWithSpecialTokens(text, true)).as(text)
                    .containsExactly(tokenizer.encodeWithSpecialTokens(text, true));
            assertThat(gguf.encode(text, false)).as(text).containsExactly(tokenizer.encode(text, false));
        }
        assertThat(gguf.encodeChat(List.of(ChatMessage.user("What is the capital of France?")), true))
                .containsExactly(golden.ints().get("chat.ids"));
        assertThat(gguf.vocabSize()).isEqualTo(4096);
    }

    @Test
    void givenTemplateWithoutLlama3HeadersWhenChatEncodedThenUnsupported() {
        Llama3Tokenizer chatml = Llama3Tokenizer.fromVocabulary("chatml.gguf", bytesOnlyVocabulary(), List.of(), null,
                -1, new int[0], "{% for m in messages %}<|im_start|>{{ m.role }}{% endfor %}");
        Llama3Tokenizer none = Llama3Tokenizer.fromVocabulary("plain.gguf", bytesOnlyVocabulary(), List.of(), null,
                -1, new int[0], null);

        assertThatThrownBy(() -> chatml.encodeChat(List.of(ChatMessage.user("hi")), true))
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("chatml.gguf").hasMessageContaining("<|start_header_id|>");
        assertThatThrownBy(() -> none.encodeChat(List.of(ChatMessage.user("hi")), true))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("no chat template");
        assertThat(none.decode(none.encode("héllo 😀", false))).isEqualTo("héllo 😀");
        assertThat(none.encode("abc", false)).hasSize(3);
    }

    private static List<String> bytesOnlyVocabulary() {
        List<String> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(String.valueOf(ByteLevel.charOf(b)));
        }
        return tokens;
    }

    @Test
    void jinjaTrimStripsPythonWhitespaceOnly() {
        assertThat(Llama3Tokenizer.jinjaTrim(" \t\n\u00a0\u3000\u001c x y \u2028\r")).isEqualTo("x y");
        assertThat(Llama3Tokenizer.jinjaTrim("\u200bx\u200b")).isEqualTo("\u200bx\u200b");
    }
}
