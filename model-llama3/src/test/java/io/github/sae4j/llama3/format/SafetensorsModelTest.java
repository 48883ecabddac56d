package io.github.sae4j.llama3.format;

import io.github.sae4j.api.backend.WeightFormat;
import io.github.sae4j.api.backend.WeightMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SafetensorsModelTest {

    @TempDir
    Path dir;

    private static float[] rounded(WeightFormat format, float[] x) {
        float[] out = x.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (format) {
                case F16 -> TestWeights.f16(x[i]);
                case BF16 -> TestWeights.bf16(x[i]);
                default -> x[i];
            };
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(value = WeightFormat.class, names = {"F32", "F16", "BF16"})
    void roundTripsEachDtypeThroughToFloatsAndAsMatrix(WeightFormat format) throws IOException {
        float[] w = TestWeights.values(3 * 5, 2f, 1);
        float[] norm = {1f, -0.5f, 3.25f, 1e-3f, 7f};
        Path file = new SafetensorsTestWriter()
                .tensor("w", format, new long[]{3, 5}, w)
                .tensor("norm", format, new long[]{5}, norm)
                .write(dir.resolve("m.safetensors"));

        try (SafetensorsModel model = SafetensorsModel.open(file)) {
            TensorData t = model.tensor("w");
            assertThat(t.format()).isEqualTo(format);
            assertThat(t.shape()).containsExactly(3, 5);
            assertThat(t.elements()).isEqualTo(15);
            assertThat(t.file()).isEqualTo(file);
            assertThat(t.toFloats()).containsExactly(rounded(format, w));
            WeightMatrix m = t.asMatrix();
            assertThat(m.rows()).isEqualTo(3);
            assertThat(m.cols()).isEqualTo(5);
            assertThat(m.name()).isEqualTo("w");
            assertThat(m.toFloats()).containsExactly(rounded(format, w));
            assertThat(model.tensor("norm").toFloats()).containsExactly(rounded(format, norm));
        }
    }

    @Test
    void keepsFileOrderAndMetadata() throws IOException {
        Path file = new SafetensorsTestWriter()
                .metadata("format", "pt")
                .tensor("z.weight", WeightFormat.F32, new long[]{1}, new float[]{1})
                .tensor("a.weight", WeightFormat.F32, new long[]{1}, new float[]{2})
                .tensor("m.weight", WeightFormat.F32, new long[]{1}, new float[]{3})
                .write(dir.resolve("m.safetensors"));

        try (SafetensorsModel model = SafetensorsModel.open(file)) {
            assertThat(model.names()).containsExactly("z.weight", "a.weight", "m.weight");
            assertThat(model.contains("a.weight")).isTrue();
            assertThat(model.contains("__metadata__")).isFalse();
            assertThat(model.metadata()).containsEntry("format", "pt").hasSize(1);
            assertThat(model.source()).isEqualTo(file.toString());
        }
    }

    @Test
    void opensADirectoryHoldingModelSafetensors() throws IOException {
        new SafetensorsTestWriter().tensor("x", WeightFormat.F32, new long[]{2}, new float[]{4, 5})
                .write(dir.resolve(SafetensorsModel.SINGLE_FILE));

        try (SafetensorsModel model = SafetensorsModel.open(dir)) {
            assertThat(model.tensor("x").toFloats()).containsExactly(4, 5);
        }
    }

    @Test
    void directoryWithoutModelFilesNamesWhatItLookedFor() throws IOException {
        new SafetensorsTestWriter().tensor("x", WeightFormat.F32, new long[]{1}, new float[]{1})
                .write(dir.resolve("other.safetensors"));

        assertThatThrownBy(() -> SafetensorsModel.open(dir))
                .isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining(dir.toString())
                .hasMessageContaining(SafetensorsModel.INDEX_FILE)
                .hasMessageContaining("other.safetensors");
    }

    private Path writeShardedModel(UnaryOperator<String> indexEdit) throws IOException {
        new SafetensorsTestWriter()
                .metadata("format", "pt")
                .tensor("model.layers.0.w", WeightFormat.BF16, new long[]{2, 2}, new float[]{1, 2, 3, 4})
                .tensor("model.embed", WeightFormat.F32, new long[]{2}, new float[]{5, 6})
                .write(dir.resolve("model-00001-of-00002.safetensors"));
        new SafetensorsTestWriter()
                .tensor("model.layers.1.w", WeightFormat.F16, new long[]{1, 2}, new float[]{7, 8})
                .write(dir.resolve("model-00002-of-00002.safetensors"));
        String index = """
                {"metadata": {"total_size": 28},
                 "weight_map": {
                   "model.embed": "model-00001-of-00002.safetensors",
                   "model.layers.0.w": "model-00001-of-00002.safetensors",
                   "model.layers.1.w": "model-00002-of-00002.safetensors"}}""";
        Files.writeString(dir.resolve(SafetensorsModel.INDEX_FILE), indexEdit.apply(index));
        return dir;
    }

    @Test
    void readsShardsThroughTheIndex() throws IOException {
        writeShardedModel(s -> s);

        try (SafetensorsModel model = SafetensorsModel.open(dir)) {
            assertThat(model.names()).containsExactly("model.embed", "model.layers.0.w", "model.layers.1.w");
            assertThat(model.tensor("model.layers.0.w").toFloats()).containsExactly(1, 2, 3, 4);
            assertThat(model.tensor("model.embed").toFloats()).containsExactly(5, 6);
            TensorData second = model.tensor("model.layers.1.w");
            assertThat(second.format()).isEqualTo(WeightFormat.F16);
            assertThat(second.toFloats()).containsExactly(7, 8);
            assertThat(second.file()).isEqualTo(dir.resolve("model-00002-of-00002.safetensors"));
            assertThat(model.metadata()).containsEntry("format", "pt").containsEntry("total_size", "28");
            assertThat(model.source()).endsWith(SafetensorsModel.INDEX_FILE);
        }
    }

    @Test
    void missingShardIsNamedWithTheIndex() throws IOException {
        writeShardedModel(s -> s.replace("model-00002-of-00002", "model-00002-of-00003"));

        assertThatThrownBy(() -> SafetensorsModel.open(dir))
                .isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("model-00002-of-00003.safetensors")
                .hasMessageContaining(SafetensorsModel.INDEX_FILE)
                .hasMessageContaining("model.layers.1.w");
    }

    @Test
    void indexNamingATensorItsShardLacksFails() throws IOException {
        writeShardedModel(s -> s.replace("\"model.layers.1.w\": \"model-00002-of-00002.safetensors\"",
                "\"model.layers.1.w\": \"model-00001-of-00002.safetensors\""));

        assertThatThrownBy(() -> SafetensorsModel.open(dir.resolve(SafetensorsModel.INDEX_FILE)))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(SafetensorsModel.INDEX_FILE)
                .hasMessageContaining("model.layers.1.w")
                .hasMessageContaining("model-00001-of-00002.safetensors")
                .hasMessageContaining("no such tensor");
    }

    @Test
    void missingTensorSuggestsCloseNames() throws IOException {
        Path file = new SafetensorsTestWriter()
                .tensor("model.layers.0.mlp.up_proj.weight", WeightFormat.F32, new long[]{1}, new float[]{1})
                .tensor("model.norm.weight", WeightFormat.F32, new long[]{1}, new float[]{1})
                .write(dir.resolve("m.safetensors"));

        try (SafetensorsModel model = SafetensorsModel.open(file)) {
            assertThatThrownBy(() -> model.tensor("model.layers.0.mlp.up_proj.weights"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(file.toString())
                    .hasMessageContaining("no tensor 'model.layers.0.mlp.up_proj.weights'")
                    .hasMessageContaining("closest: model.layers.0.mlp.up_proj.weight");
            assertThatThrownBy(() -> model.tensor("token_embd.weight"))
                    .hasMessageContaining("Hugging Face names");
        }
    }

    @Test
    void asMatrixOfAVectorExplainsTheRank() throws IOException {
        Path file = new SafetensorsTestWriter().tensor("norm", WeightFormat.F32, new long[]{2}, new float[]{1, 2})
                .write(dir.resolve("m.safetensors"));

        try (SafetensorsModel model = SafetensorsModel.open(file)) {
            assertThatThrownBy(() -> model.tensor("norm").asMatrix())
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(file.toString())
                    .hasMessageContaining("'norm'")
                    .hasMessageContaining("rank 1");
        }
    }

    @Test
    void closingUnmapsAndIsIdempotent() throws IOException {
        Path file = new SafetensorsTestWriter().tensor("x", WeightFormat.F32, new long[]{2}, new float[]{1, 2})
                .write(dir.resolve("m.safetensors"));
        SafetensorsModel model = SafetensorsModel.open(file);
        TensorData x = model.tensor("x");

        model.close();
        model.close();

        assertThatThrownBy(x::toFloats).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> model.tensor("x")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(file.toString());
    }

    // --- malformed files: each message names the file and the item ---

    @Test
    void fileShorterThanTheHeaderLength() throws IOException {
        Path file = Files.write(dir.resolve("short.safetensors"), new byte[]{1, 2, 3});

        assertThatThrownBy(() -> SafetensorsModel.open(file)).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("3 bytes is too short");
    }

    @Test
    void headerLengthPastTheEndOfTheFile() throws IOException {
        byte[] bytes = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).array();
        Path file = Files.write(dir.resolve("m.safetensors"), bytes);

        assertThatThrownBy(() -> SafetensorsModel.open(file)).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("header length 1000")
                .hasMessageContaining("16 bytes");
    }

    @Test
    void headerThatIsNotJson() throws IOException {
        Path file = SafetensorsTestWriter.writeRaw(dir.resolve("m.safetensors"), "{\"x\": [1, 2", new byte[0]);

        assertThatThrownBy(() -> SafetensorsModel.open(file)).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("not valid JSON");
    }

    @Test
    void dataOffsetsPastTheEndOfTheFile() throws IOException {
        Path file = SafetensorsTestWriter.writeRaw(dir.resolve("m.safetensors"),
                "{\"w\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", new byte[8]);

        assertThatThrownBy(() -> SafetensorsModel.open(file)).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("tensor 'w'")
                .hasMessageContaining("[0, 16]").hasMessageContaining("holds 8 bytes");
    }

    @Test
    void dataOffsetsBeginAfterEnd() throws IOException {
        Path file = SafetensorsTestWriter.writeRaw(dir.resolve("m.safetensors"),
                "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 4]}}", new byte[8]);

        assertThatThrownBy(() -> SafetensorsModel.open(file)).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("tensor 'w'")
                .hasMessageContaining("begin after end");
    }

    @Test
    void offsetsNotMatchingDtypeTimesShape() throws IOException {
        Path file = SafetensorsTestWriter.writeRaw(dir.resolve("m.safetensors"),
                "{\"w\": {\"dtype\": \"BF16\", \"shape\": [2, 3], \"data_offsets\": [0, 8]}}", new byte[16]);

        assertThatThrownBy(() -> SafetensorsModel.open(file)).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("tensor 'w'")
                .hasMessageContaining("BF16 [2, 3] needs 12 bytes").hasMessageContaining("hold 8");
    }

    @Test
    void malformedShapeIsNamed() throws IOException {
        Path file = SafetensorsTestWriter.writeRaw(dir.resolve("m.safetensors"),
                "{\"w\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", new byte[4]);

        assertThatThrownBy(() -> SafetensorsModel.open(file)).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("tensor 'w'")
                .hasMessageContaining("\"shape\"");
    }

    @Test
    void unsupportedDtypeFailsWhenReadNamingItAndTheSupportedOnes() throws IOException {
        Path file = new SafetensorsTestWriter()
                .tensor("ids", "I64", new long[]{2}, new byte[16])
                .tensor("odd", "F4_E2M1", new long[]{2}, new byte[1])
                .tensor("w", WeightFormat.F32, new long[]{1}, new float[]{1})
                .write(dir.resolve("m.safetensors"));

        try (SafetensorsModel model = SafetensorsModel.open(file)) {
            assertThat(model.tensor("w").toFloats()).containsExactly(1);
            assertThatThrownBy(() -> model.tensor("ids")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(file.toString()).hasMessageContaining("'ids'")
                    .hasMessageContaining("'I64'").hasMessageContaining("supported: F32, F16, BF16");
            assertThatThrownBy(() -> model.tensor("odd")).hasMessageContaining("'F4_E2M1'");
        }
    }

    @Test
    void overlappingTensorsAreRejected() throws IOException {
        Path file = SafetensorsTestWriter.writeRaw(dir.resolve("m.safetensors"),
                "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                        + " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", new byte[12]);

        assertThatThrownBy(() -> SafetensorsModel.open(file)).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("'a'").hasMessageContaining("'b'")
                .hasMessageContaining("overlap");
    }

    @Test
    void duplicateTensorNamesAreRejected() throws IOException {
        Path file = SafetensorsTestWriter.writeRaw(dir.resolve("m.safetensors"),
                "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
                        + " \"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", new byte[8]);

        assertThatThrownBy(() -> SafetensorsModel.open(file)).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("Duplicate field 'a'");
    }
}
