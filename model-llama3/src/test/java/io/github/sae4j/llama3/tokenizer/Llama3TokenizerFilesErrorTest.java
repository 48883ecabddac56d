package io.github.sae4j.llama3.tokenizer;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Broken tokenizer files fail with messages that name the file, the key and the fix. */
class Llama3TokenizerFilesErrorTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private ObjectNode copyTinyModel() throws IOException {
        Files.copy(TokenizerTestFiles.tinyModel().resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
        return (ObjectNode) JSON.readTree(TokenizerTestFiles.tinyModel().resolve("tokenizer.json").toFile());
    }

    private void write(ObjectNode tokenizerJson) throws IOException {
        JSON.writeValue(dir.resolve("tokenizer.json").toFile(), tokenizerJson);
    }

    @Test
    void givenNoTokenizerJsonWhenLoadedThenNoSuchFileNamesIt() throws IOException {
        copyTinyModel();

        assertThatThrownBy(() -> Llama3Tokenizer.fromHuggingFace(dir))
                .isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining(dir.resolve("tokenizer.json").toString())
                .hasMessageContaining("not found").hasMessageContaining("download");
    }

    @Test
    void givenTokenizerJsonWithoutMergesWhenLoadedThenMessageNamesTheKey() throws IOException {
        ObjectNode json = copyTinyModel();
        ((ObjectNode) json.get("model")).remove("merges");
        write(json);

        assertThatThrownBy(() -> Llama3Tokenizer.fromHuggingFace(dir))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tokenizer.json").hasMessageContaining("model.merges is missing")
                .hasMessageContaining("re-download");
    }

    @Test
    void givenMergeNamingUnknownTokenWhenLoadedThenMessageNamesMergeAndToken() throws IOException {
        ObjectNode json = copyTinyModel();
        ((ArrayNode) json.get("model").get("merges")).insert(0, "Ġ zzqq");
        write(json);

        assertThatThrownBy(() -> Llama3Tokenizer.fromHuggingFace(dir))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tokenizer.json").hasMessageContaining("merge 0 \"Ġ zzqq\"")
                .hasMessageContaining("\"zzqq\", which is not in the vocabulary");
    }

    @Test
    void givenGpt2PreTokenizerWhenLoadedThenRefusedAsNotLlama3() throws IOException {
        ObjectNode json = copyTinyModel();
        json.set("pre_tokenizer", JSON.readTree("{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true}"));
        write(json);

        assertThatThrownBy(() -> Llama3Tokenizer.fromHuggingFace(dir))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("pre_tokenizer").hasMessageContaining("Llama 3");
    }

    @Test
    void givenNoTokenizerConfigWhenLoadedThenNoSuchFileNamesIt() throws IOException {
        Files.copy(TokenizerTestFiles.tinyModel().resolve("tokenizer.json"), dir.resolve("tokenizer.json"));

        assertThatThrownBy(() -> Llama3Tokenizer.fromHuggingFace(dir))
                .isInstanceOf(NoSuchFileException.class).hasMessageContaining("tokenizer_config.json")
                .hasMessageContaining("bos_token");
    }

    @Test
    void givenMalformedGgufMergeWhenBuiltThenMessageNamesTheKeyAndIndex() {
        List<String> tokens = new java.util.ArrayList<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(String.valueOf(ByteLevel.charOf(b)));
        }
        assertThatThrownBy(() -> Llama3Tokenizer.fromVocabulary("m.gguf", tokens, List.of("ab"), null, -1,
                new int[0], null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("m.gguf tokenizer.ggml.merges[0] is \"ab\"");
        assertThatThrownBy(() -> Llama3Tokenizer.fromVocabulary("m.gguf", tokens.subList(0, 200), List.of(), null,
                -1, new int[0], null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no token for byte");
    }
}
