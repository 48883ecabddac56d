package io.github.sae4j.core.io;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The embedded default model (models/tiny-llama3, made by tools/tiny-llama3/build.sh) and the golden files of the
 * PyTorch reference are committed binaries: this checks that they are whole, agree with each other and open with
 * the project's own safetensors reader, so a bad rebuild or a damaged checkout fails here rather than in a later
 * stage.
 */
class EmbeddedModelFilesTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path repoRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("models/tiny-llama3"))) {
            dir = dir.getParent();
        }
        assertThat(dir).as("models/tiny-llama3 above %s", Path.of("").toAbsolutePath()).isNotNull();
        return dir;
    }

    private static Path model() {
        return repoRoot().resolve("models/tiny-llama3");
    }

    @Test
    void theModelFolderHoldsTheHuggingFaceAndGgufFilesWithinItsSizeLimit() throws IOException {
        long total;
        try (Stream<Path> files = Files.list(model())) {
            total = files.mapToLong(p -> p.toFile().length()).sum();
        }
        assertThat(total).as("models/tiny-llama3 in bytes").isLessThanOrEqualTo(25L * 1024 * 1024);
        for (String f : new String[] {"config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
            "tokenizer_config.json", "tiny-llama3-F16.gguf", "tiny-llama3-Q8_0.gguf", "MODEL.md", "loss.png"}) {
            assertThat(model().resolve(f)).as(f).isRegularFile();
        }
    }

    @Test
    void safetensorsHoldEveryLlamaTensorTheConfigImplies() throws IOException {
        JsonNode cfg = JSON.readTree(model().resolve("config.json").toFile());
        assertThat(cfg.get("model_type").asText()).isEqualTo("llama");
        assertThat(cfg.get("tie_word_embeddings").asBoolean()).isTrue();
        assertThat(cfg.get("rope_scaling").get("rope_type").asText()).isEqualTo("llama3");
        int d = cfg.get("hidden_size").asInt();
        int f = cfg.get("intermediate_size").asInt();
        int heads = cfg.get("num_attention_heads").asInt();
        int kvHeads = cfg.get("num_key_value_heads").asInt();
        int hd = cfg.get("head_dim").asInt();
        assertThat(kvHeads).as("grouped-query attention").isLessThan(heads);
        Map<String, int[]> expected = new LinkedHashMap<>();
        expected.put("model.embed_tokens.weight", new int[] {cfg.get("vocab_size").asInt(), d});
        expected.put("model.norm.weight", new int[] {d});
        for (int i = 0; i < cfg.get("num_hidden_layers").asInt(); i++) {
            String p = "model.layers." + i + ".";
            expected.put(p + "input_layernorm.weight", new int[] {d});
            expected.put(p + "post_attention_layernorm.weight", new int[] {d});
            expected.put(p + "self_attn.q_proj.weight", new int[] {heads * hd, d});
            expected.put(p + "self_attn.k_proj.weight", new int[] {kvHeads * hd, d});
            expected.put(p + "self_attn.v_proj.weight", new int[] {kvHeads * hd, d});
            expected.put(p + "self_attn.o_proj.weight", new int[] {d, heads * hd});
            expected.put(p + "mlp.gate_proj.weight", new int[] {f, d});
            expected.put(p + "mlp.up_proj.weight", new int[] {f, d});
            expected.put(p + "mlp.down_proj.weight", new int[] {d, f});
        }
        try (Safetensors.Reader r = Safetensors.open(model().resolve("model.safetensors"))) {
            assertThat(r.tensors().keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
            for (var e : expected.entrySet()) {
                Safetensors.Info info = r.info(e.getKey());
                assertThat(info.dtype()).as(e.getKey()).isEqualTo("BF16");
                assertThat(info.shape()).as(e.getKey()).containsExactly(e.getValue());
            }
        }
    }

    @Test
    void tokenizerHasLlama3SpecialTokensAfterTheBpeVocabulary() throws IOException {
        JsonNode cfg = JSON.readTree(model().resolve("config.json").toFile());
        JsonNode tok = JSON.readTree(model().resolve("tokenizer.json").toFile());
        JsonNode bpe = tok.get("model");
        assertThat(bpe.get("type").asText()).isEqualTo("BPE");
        assertThat(bpe.get("ignore_merges").asBoolean()).isTrue();
        int base = bpe.get("vocab").size();
        assertThat(base + tok.get("added_tokens").size()).isEqualTo(cfg.get("vocab_size").asInt());
        assertThat(bpe.get("merges").size()).isEqualTo(base - 256);
        Map<String, Integer> ids = new LinkedHashMap<>();
        tok.get("added_tokens").forEach(t -> ids.put(t.get("content").asText(), t.get("id").asInt()));
        assertThat(ids).containsEntry("<|begin_of_text|>", base).containsEntry("<|end_of_text|>", base + 1)
                .containsEntry("<|start_header_id|>", base + 6).containsEntry("<|end_header_id|>", base + 7)
                .containsEntry("<|eot_id|>", base + 9);
        assertThat(cfg.get("bos_token_id").asInt()).isEqualTo(base);
        JsonNode tokCfg = JSON.readTree(model().resolve("tokenizer_config.json").toFile());
        assertThat(tokCfg.get("chat_template").asText()).contains("<|start_header_id|>").contains("<|eot_id|>");
    }

    @Test
    void ggufFilesAreVersion3() throws IOException {
        for (String f : new String[] {"tiny-llama3-F16.gguf", "tiny-llama3-Q8_0.gguf"}) {
            byte[] head = new byte[24];
            try (InputStream in = Files.newInputStream(model().resolve(f))) {
                assertThat(in.readNBytes(head, 0, head.length)).isEqualTo(head.length);
            }
            ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
            assertThat(new String(head, 0, 4, java.nio.charset.StandardCharsets.US_ASCII)).as(f).isEqualTo("GGUF");
            b.position(4);
            assertThat(b.getInt()).as(f + " version").isEqualTo(3);
            assertThat(b.getLong()).as(f + " tensor count").isEqualTo(
                    // every HF tensor plus rope_freqs.weight
                    2 + 9L * JSON.readTree(model().resolve("config.json").toFile()).get("num_hidden_layers").asInt()
                            + 1);
        }
    }

    @Test
    void goldenFilesOpenWithTheJavaReaderAndStayUnderTwoMegabytes() throws IOException {
        Path golden = repoRoot().resolve("model-llama3/src/test/resources/golden/tiny-llama3/golden.safetensors");
        assertThat(golden.toFile().length()).isLessThan(2_000_000L);
        try (Safetensors.Reader r = Safetensors.open(golden)) {
            assertThat(r.metadata()).isNotEmpty();
            int hidden = JSON.readTree(model().resolve("config.json").toFile()).get("hidden_size").asInt();
            int checked = 0;
            for (Safetensors.Info info : r.tensors().values()) {
                if (info.dtype().equals("F32")) {
                    float[] v = r.readF32(info.name());
                    for (float x : v) {
                        assertThat(Float.isFinite(x)).as("%s holds only finite values", info.name()).isTrue();
                    }
                    if (info.name().endsWith(".hidden")) {
                        assertThat(info.shape()[info.shape().length - 1]).isEqualTo(hidden);
                    }
                    checked++;
                } else {
                    assertThat(info.dtype()).as(info.name()).isEqualTo("I32");
                    r.readI32(info.name());
                }
            }
            assertThat(checked).isGreaterThan(10);
        }
    }
}
