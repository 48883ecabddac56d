package io.github.sae4j.llama3.format;

import io.github.sae4j.api.backend.WeightFormat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The embedded tiny-llama3 in its three files: the readers must agree with each other on the same weights, which
 * also checks the GGUF dimension order and the dequantizers against an independent converter.
 */
class TinyLlama3FilesTest {

    private static SafetensorsModel hf;
    private static GgufFile f16;
    private static GgufFile q8;

    static Path modelDir() {
        for (Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath(); p != null; p = p.getParent()) {
            Path dir = p.resolve("models/tiny-llama3");
            if (Files.isDirectory(dir)) {
                return dir;
            }
        }
        return fail("no models/tiny-llama3 above " + System.getProperty("user.dir"));
    }

    @BeforeAll
    static void open() throws IOException {
        Path dir = modelDir();
        hf = SafetensorsModel.open(dir);
        f16 = GgufFile.open(dir.resolve("tiny-llama3-F16.gguf"));
        q8 = GgufFile.open(dir.resolve("tiny-llama3-Q8_0.gguf"));
    }

    @AfterAll
    static void close() {
        hf.close();
        f16.close();
        q8.close();
    }

    @Test
    void safetensorsHoldsHuggingFaceNamesInBf16() {
        assertThat(hf.names()).hasSize(1 + 6 * 9 + 1).first().isEqualTo("model.embed_tokens.weight");
        assertThat(hf.names()).contains("model.layers.0.self_attn.q_proj.weight", "model.norm.weight")
                .doesNotContain("lm_head.weight");
        assertThat(hf.metadata()).containsEntry("format", "pt");
        TensorData embed = hf.tensor("model.embed_tokens.weight");
        assertThat(embed.format()).isEqualTo(WeightFormat.BF16);
        assertThat(embed.shape()).containsExactly(4096, 256);
        assertThat(hf.tensor("model.layers.0.self_attn.k_proj.weight").shape()).containsExactly(64, 256);
        assertThat(hf.tensor("model.layers.5.input_layernorm.weight").toFloats()).hasSize(256);
    }

    @Test
    void ggufMetadataDescribesTheModel() {
        for (GgufFile g : new GgufFile[]{f16, q8}) {
            assertThat(g.version()).isEqualTo(3);
            assertThat(g.alignment()).isEqualTo(32);
            assertThat(g.architecture()).isEqualTo("llama");
            assertThat(g.integer("llama.block_count")).isEqualTo(6);
            assertThat(g.integer("llama.embedding_length")).isEqualTo(256);
            assertThat(g.integer("llama.feed_forward_length")).isEqualTo(512);
            assertThat(g.integer("llama.attention.head_count")).isEqualTo(8);
            assertThat(g.integer("llama.attention.head_count_kv")).isEqualTo(2);
            assertThat(g.integer("llama.context_length")).isEqualTo(512);
            assertThat(g.real("llama.rope.freq_base")).isEqualTo(500000.0);
            assertThat(g.real("llama.attention.layer_norm_rms_epsilon")).isEqualTo(1e-5, org.assertj.core.data.Offset.offset(1e-12));
            assertThat(g.string("tokenizer.ggml.model")).isEqualTo("gpt2");
            assertThat(g.stringArray("tokenizer.ggml.tokens")).hasSize(4096).startsWith("!", "\"");
            assertThat(g.integerArray("tokenizer.ggml.token_type")).hasSize(4096);
            assertThat(g.stringArray("tokenizer.ggml.merges")).isNotEmpty();
            assertThat(g.integer("tokenizer.ggml.bos_token_id")).isEqualTo(3840);
            assertThat(g.integer("tokenizer.ggml.eos_token_id")).isEqualTo(3849);
            assertThat(g.string("tokenizer.chat_template")).contains("start_header_id");
            assertThat(g.names()).hasSize(57).first().isEqualTo("rope_freqs.weight");
            assertThat(g.names()).contains("token_embd.weight", "blk.5.ffn_down.weight", "output_norm.weight")
                    .doesNotContain("output.weight");
            assertThat(g.tensor("rope_freqs.weight").shape()).containsExactly(16);
            assertThat(g.tensor("output_norm.weight").format()).isEqualTo(WeightFormat.F32);
        }
        assertThat(f16.integer("general.file_type")).isEqualTo(1);
        assertThat(q8.integer("general.file_type")).isEqualTo(7);
        assertThat(f16.tensor("token_embd.weight").format()).isEqualTo(WeightFormat.F16);
        assertThat(q8.tensor("token_embd.weight").format()).isEqualTo(WeightFormat.Q8_0);
    }

    @ParameterizedTest
    @CsvSource({
            "token_embd.weight, model.embed_tokens.weight",
            "blk.0.ffn_down.weight, model.layers.0.mlp.down_proj.weight",
            "blk.3.attn_v.weight, model.layers.3.self_attn.v_proj.weight",
            "blk.5.attn_output.weight, model.layers.5.self_attn.o_proj.weight",
            "output_norm.weight, model.norm.weight"})
    void f16GgufIsTheFp16RoundingOfTheSafetensors(String gguf, String hfName) {
        TensorData g = f16.tensor(gguf);
        TensorData h = hf.tensor(hfName);
        assertThat(g.shape()).containsExactly(h.shape());
        float[] source = h.toFloats();
        float[] expected = new float[source.length];
        for (int i = 0; i < source.length; i++) {
            // 1-D norms are F32 in the GGUF, so exact; matrices are the fp16 rounding of the BF16 source
            expected[i] = g.format() == WeightFormat.F32 ? source[i] : TestWeights.f16(source[i]);
        }
        assertSameFloats(gguf, g.toFloats(), expected);
        if (g.rank() == 2) {
            assertSameFloats(gguf + " as matrix", g.asMatrix().toFloats(), expected);
        }
    }

    /** AssertJ's containsExactly is quadratic on million-element arrays; this says where they first differ. */
    private static void assertSameFloats(String what, float[] actual, float[] expected) {
        int i = java.util.Arrays.mismatch(actual, expected);
        if (i >= 0) {
            fail("%s differs first at %d: %s, expected %s", what, i,
                    i < actual.length ? actual[i] : "(end)", i < expected.length ? expected[i] : "(end)");
        }
    }

    @ParameterizedTest
    @CsvSource({
            "token_embd.weight, model.embed_tokens.weight",
            "blk.0.ffn_down.weight, model.layers.0.mlp.down_proj.weight",
            "blk.2.ffn_gate.weight, model.layers.2.mlp.gate_proj.weight",
            "blk.4.attn_v.weight, model.layers.4.self_attn.v_proj.weight"})
    void q8GgufIsWithinEachBlocksQuantizationBound(String gguf, String hfName) {
        TensorData g = q8.tensor(gguf);
        assertThat(g.format()).isEqualTo(WeightFormat.Q8_0);
        assertThat(g.shape()).containsExactly(hf.tensor(hfName).shape());
        float[] x = hf.tensor(hfName).toFloats();
        float[] q = g.asMatrix().toFloats();
        MemorySegment data = g.data();
        for (int b = 0; b < x.length / 32; b++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[32 * b + j]));
            }
            float exact = amax / 127;
            float d = Float.float16ToFloat(data.get(
                    ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 34L * b));
            assertThat(d).as("scale of block %d", b).isEqualTo(TestWeights.f16(exact));
            // half a step, plus the scale's fp16 rounding carried through |q| <= 127
            float bound = exact / 2 + 127 * Math.abs(d - exact) + 1e-6f * exact;
            for (int j = 0; j < 32; j++) {
                int i = 32 * b + j;
                if (Math.abs(q[i] - x[i]) > bound) {
                    fail("%s[%d]: |%s - %s| > %s", gguf, i, q[i], x[i], bound);
                }
            }
        }
    }

    @Test
    void tensorsAreZeroCopySlicesOfTheMapping() {
        TensorData rope = f16.tensor("rope_freqs.weight");
        TensorData embed = f16.tensor("token_embd.weight");
        TensorData norm = f16.tensor("blk.0.attn_norm.weight");
        for (TensorData t : new TensorData[]{rope, embed, norm}) {
            assertThat(t.data().isNative()).as(t.name()).isTrue();
            assertThat(t.data().isMapped()).as(t.name()).isTrue();
            assertThat(t.data().isReadOnly()).as(t.name()).isTrue();
        }
        // offsets 0, 64 and 2097216 in the file's tensor table: the slices sit exactly that far apart
        assertThat(embed.data().address() - rope.data().address()).isEqualTo(64);
        assertThat(norm.data().address() - rope.data().address()).isEqualTo(2097216);
        assertThat(f16.tensor("token_embd.weight").data().address()).isEqualTo(embed.data().address());

        TensorData hfEmbed = hf.tensor("model.embed_tokens.weight");
        assertThat(hfEmbed.data().isMapped()).isTrue();
        assertThat(hfEmbed.data().byteSize()).isEqualTo(4096L * 256 * 2);
    }
}
