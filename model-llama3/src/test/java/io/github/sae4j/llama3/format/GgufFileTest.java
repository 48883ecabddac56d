package io.github.sae4j.llama3.format;

import io.github.sae4j.api.backend.WeightFormat;
import io.github.sae4j.api.backend.WeightMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static io.github.sae4j.llama3.format.GgufTestWriter.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class GgufFileTest {

    @TempDir
    Path dir;

    /** What the format's reference decoder must give for values encoded by the test writer. */
    private static float[] decoded(WeightFormat format, float[] x) {
        byte[] bytes = TestWeights.encode(format, x);
        float[] out = new float[x.length];
        format.dequantize(java.lang.foreign.MemorySegment.ofArray(bytes), 0, out, 0, x.length);
        return out;
    }

    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void roundTripsEachTypeThroughToFloatsAndAsMatrix(WeightFormat format) throws IOException {
        float[] w = TestWeights.values(4 * 64, 0.5f, 7);
        Path file = new GgufTestWriter()
                .kv("general.architecture", STRING, "llama")
                .tensor("blk.0.ffn_up.weight", format, new long[]{4, 64}, w)
                .tensor("output_norm.weight", WeightFormat.F32, new long[]{3}, new float[]{1, 2, 3})
                .write(dir.resolve("m.gguf"));

        try (GgufFile gguf = GgufFile.open(file)) {
            TensorData t = gguf.tensor("blk.0.ffn_up.weight");
            assertThat(t.format()).isEqualTo(format);
            assertThat(t.shape()).containsExactly(4, 64);
            assertThat(t.file()).isEqualTo(file);
            float[] got = t.toFloats();
            WeightMatrix m = t.asMatrix();
            assertThat(m.rows()).isEqualTo(4);
            assertThat(m.cols()).isEqualTo(64);
            assertThat(m.toFloats()).containsExactly(got);
            switch (format) {
                case F32 -> assertThat(got).containsExactly(w);
                case F16 -> assertThat(got).containsExactly(decoded(format, w));
                case BF16 -> assertThat(got).containsExactly(decoded(format, w));
                // Quantized: the original within half a step (plus the fp16 rounding of the scale).
                case Q8_0 -> assertThat(got).containsExactly(w, within(0.5f / 127 * 0.5f * 1.07f));
                // Q4_0 clamps the opposite extreme to 7 steps, so there the error is up to a whole step.
                case Q4_0 -> assertThat(got).containsExactly(w, within(0.5f / 8 * 1.07f));
            }
            assertThat(gguf.tensor("output_norm.weight").toFloats()).containsExactly(1, 2, 3);
        }
    }

    @Test
    void quantizedBlocksDecodeToTheWriterValuesExactly() throws IOException {
        float[] w = TestWeights.values(2 * 32, 3f, 11);
        w[5] = -3.5f; // the largest magnitude is negative: Q4_0's scale takes its sign
        Path file = new GgufTestWriter()
                .tensor("q8", WeightFormat.Q8_0, new long[]{2, 32}, w)
                .tensor("q4", WeightFormat.Q4_0, new long[]{2, 32}, w)
                .write(dir.resolve("m.gguf"));

        try (GgufFile gguf = GgufFile.open(file)) {
            assertThat(gguf.tensor("q8").toFloats()).containsExactly(decoded(WeightFormat.Q8_0, w));
            float[] q4 = gguf.tensor("q4").toFloats();
            assertThat(q4).containsExactly(decoded(WeightFormat.Q4_0, w));
            assertThat(q4[5]).isEqualTo(-3.5f, within(1e-3f));
        }
    }

    @Test
    void readsEveryMetadataValueType() throws IOException {
        Path file = new GgufTestWriter()
                .kv("general.architecture", STRING, "llama")
                .kv("u8", U8, 200L).kv("i8", I8, -5L).kv("u16", U16, 60000L).kv("i16", I16, -30000L)
                .kv("u32", U32, 4_000_000_000L).kv("i32", I32, -2_000_000_000L)
                .kv("u64", U64, Long.MAX_VALUE).kv("i64", I64, -7L)
                .kv("f32", F32, 0.25).kv("f64", F64, 1e-300).kv("bool", BOOL, true)
                .array("tokens", STRING, List.of("a", "b c", "ü"))
                .array("types", I32, List.of(1L, -2L, 3L))
                .array("scores", F32, List.of(0.5, -1.5))
                .array("nested", ARRAY, List.of(new Nested(U8, List.of(1L, 2L)), new Nested(U8, List.of())))
                .write(dir.resolve("m.gguf"));

        try (GgufFile gguf = GgufFile.open(file)) {
            assertThat(gguf.version()).isEqualTo(3);
            assertThat(gguf.architecture()).isEqualTo("llama");
            assertThat(gguf.integer("u8")).isEqualTo(200);
            assertThat(gguf.integer("i8")).isEqualTo(-5);
            assertThat(gguf.integer("u16")).isEqualTo(60000);
            assertThat(gguf.integer("i16")).isEqualTo(-30000);
            assertThat(gguf.integer("u32")).isEqualTo(4_000_000_000L);
            assertThat(gguf.integer("i32")).isEqualTo(-2_000_000_000L);
            assertThat(gguf.integer("u64")).isEqualTo(Long.MAX_VALUE);
            assertThat(gguf.integer("i64")).isEqualTo(-7);
            assertThat(gguf.real("f32")).isEqualTo(0.25);
            assertThat(gguf.real("f64")).isEqualTo(1e-300);
            assertThat(gguf.real("u8")).isEqualTo(200.0);
            assertThat(gguf.bool("bool")).isTrue();
            assertThat(gguf.metadata().get("bool")).isEqualTo(Boolean.TRUE);
            assertThat(gguf.stringArray("tokens")).containsExactly("a", "b c", "ü");
            assertThat(gguf.integerArray("types")).containsExactly(1, -2, 3);
            assertThat(gguf.realArray("scores")).containsExactly(0.5, -1.5);
            assertThat(gguf.metadata().get("nested")).isEqualTo(List.of(List.of(1L, 2L), List.of()));
            assertThat(gguf.metadataType("types")).contains("array[i32]");
            assertThat(gguf.metadataType("u32")).contains("u32");
            assertThat(gguf.metadata().keySet()).startsWith("general.architecture", "u8", "i8");
            assertThat(gguf.optionalInteger("absent")).isEmpty();
            assertThat(gguf.optionalString("absent")).isEmpty();
            assertThat(gguf.optionalReal("absent")).isEmpty();
            assertThat(gguf.optionalStringArray("absent")).isEmpty();
            assertThat(gguf.names()).isEmpty();
        }
    }

    @Test
    void missingOrMistypedKeysAreNamed() throws IOException {
        Path file = new GgufTestWriter()
                .kv("llama.block_count", U32, 6L)
                .kv("general.name", STRING, "tiny")
                .array("tokenizer.ggml.tokens", STRING, List.of("a"))
                .write(dir.resolve("m.gguf"));

        try (GgufFile gguf = GgufFile.open(file)) {
            assertThatThrownBy(() -> gguf.integer("llama.block_cnt")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(file.toString())
                    .hasMessageContaining("no metadata key 'llama.block_cnt'")
                    .hasMessageContaining("closest: llama.block_count");
            assertThatThrownBy(() -> gguf.integer("general.name")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(file.toString()).hasMessageContaining("'general.name'")
                    .hasMessageContaining("should be an integer (u8, i8, u16, i16, u32, i32, u64, i64)")
                    .hasMessageContaining("is string 'tiny'");
            assertThatThrownBy(() -> gguf.string("llama.block_count"))
                    .hasMessageContaining("should be a string").hasMessageContaining("is u32 6");
            assertThatThrownBy(() -> gguf.integerArray("tokenizer.ggml.tokens"))
                    .hasMessageContaining("should be an array of integers").hasMessageContaining("array[string]");
            assertThatThrownBy(gguf::architecture).hasMessageContaining("general.architecture");
        }
    }

    @Test
    void acceptsVersion2() throws IOException {
        Path file = new GgufTestWriter().version(2).kv("general.architecture", STRING, "llama")
                .tensor("w", WeightFormat.F32, new long[]{2}, new float[]{1, 2}).write(dir.resolve("m.gguf"));

        try (GgufFile gguf = GgufFile.open(file)) {
            assertThat(gguf.version()).isEqualTo(2);
            assertThat(gguf.tensor("w").toFloats()).containsExactly(1, 2);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 4, 0x03000000})
    void rejectsOtherVersions(int version) throws IOException {
        Path file = new GgufTestWriter().version(version).write(dir.resolve("m.gguf"));

        assertThatThrownBy(() -> GgufFile.open(file)).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("unsupported GGUF version " + Integer.toUnsignedString(version))
                .hasMessageContaining("supported: 2, 3");
    }

    @Test
    void rejectsWrongMagic() throws IOException {
        Path file = new GgufTestWriter().magic(0x4c4c5547).write(dir.resolve("m.gguf"));

        assertThatThrownBy(() -> GgufFile.open(file)).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("not a GGUF file")
                .hasMessageContaining("found 0x4c4c5547 ('GULL')");
    }

    @Test
    void honoursGeneralAlignment() throws IOException {
        Path file = new GgufTestWriter().alignment(64)
                .tensor("a", WeightFormat.F32, new long[]{3}, new float[]{1, 2, 3})
                .tensor("b", WeightFormat.F32, new long[]{2}, new float[]{4, 5})
                .write(dir.resolve("m.gguf"));

        try (GgufFile gguf = GgufFile.open(file)) {
            assertThat(gguf.alignment()).isEqualTo(64);
            assertThat(gguf.tensor("a").toFloats()).containsExactly(1, 2, 3);
            assertThat(gguf.tensor("b").toFloats()).containsExactly(4, 5);
        }
    }

    @Test
    void unsupportedTypeFailsAtTensorTimeNotOpenTime() throws IOException {
        Path file = new GgufTestWriter()
                .rawTensor("blk.0.attn_q.weight", 12, new long[]{256, 2}, new byte[2 * 144])
                .tensor("output_norm.weight", WeightFormat.F32, new long[]{2}, new float[]{1, 2})
                .write(dir.resolve("m.gguf"));

        try (GgufFile gguf = GgufFile.open(file)) {
            assertThat(gguf.names()).containsExactly("blk.0.attn_q.weight", "output_norm.weight");
            assertThat(gguf.tensorType("blk.0.attn_q.weight")).isEqualTo("Q4_K");
            assertThat(gguf.tensor("output_norm.weight").toFloats()).containsExactly(1, 2);
            assertThatThrownBy(() -> gguf.tensor("blk.0.attn_q.weight")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(file.toString()).hasMessageContaining("'blk.0.attn_q.weight'")
                    .hasMessageContaining("ggml type 12 (Q4_K)")
                    .hasMessageContaining("supported: F32 (0), F16 (1), BF16 (30), Q8_0 (8), Q4_0 (2)");
        }
    }

    @Test
    void missingTensorSuggestsCloseNamesAndTheNamingConvention() throws IOException {
        Path file = new GgufTestWriter()
                .tensor("blk.0.attn_norm.weight", WeightFormat.F32, new long[]{1}, new float[]{1})
                .tensor("blk.0.ffn_norm.weight", WeightFormat.F32, new long[]{1}, new float[]{1})
                .write(dir.resolve("m.gguf"));

        try (GgufFile gguf = GgufFile.open(file)) {
            assertThatThrownBy(() -> gguf.tensor("blk.0.attn_norm")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(file.toString()).hasMessageContaining("no tensor 'blk.0.attn_norm'")
                    .hasMessageContaining("closest: blk.0.attn_norm.weight");
            assertThatThrownBy(() -> gguf.tensor("model.norm.weight")).hasMessageContaining("llama.cpp names");
        }
    }

    @Test
    void truncatedMetadataNamesTheKey() throws IOException {
        byte[] full = new GgufTestWriter().kv("general.architecture", STRING, "llama")
                .kv("llama.block_count", U32, 6L).bytes();
        // cut inside the u32 value of the second key (the writer pads the end, so count from the start)
        int cut = 24 + 8 + "general.architecture".length() + 4 + 8 + "llama".length()
                + 8 + "llama.block_count".length() + 4 + 2;
        Path file = Files.write(dir.resolve("m.gguf"), Arrays.copyOf(full, cut));

        assertThatThrownBy(() -> GgufFile.open(file)).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("truncated")
                .hasMessageContaining("metadata key 'llama.block_count'");
    }

    @Test
    void absurdStringLengthIsRejectedBeforeAllocating() throws IOException {
        byte[] bytes = new GgufTestWriter().kv("general.name", STRING, "tiny").bytes();
        // the key's length field sits right after the 24-byte preamble
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(24, 1L << 40);
        Path file = Files.write(dir.resolve("m.gguf"), bytes);

        assertThatThrownBy(() -> GgufFile.open(file)).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("string length " + (1L << 40))
                .hasMessageContaining("metadata entry #0");
    }

    @Test
    void absurdCountsAreRejected() throws IOException {
        byte[] bytes = new GgufTestWriter().bytes();
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(8, 1L << 50);
        Path file = Files.write(dir.resolve("m.gguf"), bytes);

        assertThatThrownBy(() -> GgufFile.open(file)).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("tensor count " + (1L << 50));
    }

    @Test
    void absurdArrayLengthIsRejected() throws IOException {
        byte[] bytes = new GgufTestWriter().array("tokenizer.ggml.scores", F32, List.of(1.0)).bytes();
        int countAt = 24 + 8 + "tokenizer.ggml.scores".length() + 4 + 4;
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(countAt, 1L << 40);
        Path file = Files.write(dir.resolve("m.gguf"), bytes);

        assertThatThrownBy(() -> GgufFile.open(file)).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("'tokenizer.ggml.scores'")
                .hasMessageContaining("array of " + (1L << 40) + " f32");
    }

    @Test
    void tensorDataPastTheEndOfTheFile() throws IOException {
        byte[] full = new GgufTestWriter()
                .tensor("token_embd.weight", WeightFormat.F16, new long[]{2, 32}, new float[64]).bytes();
        Path file = Files.write(dir.resolve("m.gguf"), Arrays.copyOf(full, full.length - 10));

        assertThatThrownBy(() -> GgufFile.open(file)).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("'token_embd.weight'")
                .hasMessageContaining("F16 [2, 32] needs bytes [0, 128)")
                .hasMessageContaining("holds 118 bytes");
    }

    @Test
    void rowsThatAreNotWholeBlocksAreRejected() throws IOException {
        Path file = new GgufTestWriter()
                .rawTensor("w", 8, new long[]{48, 2}, new byte[3 * 34])
                .write(dir.resolve("m.gguf"));

        assertThatThrownBy(() -> GgufFile.open(file)).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("'w'")
                .hasMessageContaining("Q8_0").hasMessageContaining("multiple of its block size 32")
                .hasMessageContaining("[2, 48]");
    }

    @Test
    void tooShortFileIsNotGguf() throws IOException {
        Path file = Files.write(dir.resolve("m.gguf"), new byte[]{'G', 'G'});

        assertThatThrownBy(() -> GgufFile.open(file)).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("too short");
    }

    @Test
    void closingUnmaps() throws IOException {
        Path file = new GgufTestWriter().tensor("w", WeightFormat.F32, new long[]{1}, new float[]{1})
                .write(dir.resolve("m.gguf"));
        GgufFile gguf = GgufFile.open(file);
        TensorData w = gguf.tensor("w");

        gguf.close();
        gguf.close();

        assertThatThrownBy(w::toFloats).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> gguf.tensor("w")).isInstanceOf(IllegalStateException.class);
    }
}
