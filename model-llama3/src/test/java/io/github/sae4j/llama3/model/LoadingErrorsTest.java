package io.github.sae4j.llama3.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.sae4j.llama3.Llama3ModelProvider;
import io.github.sae4j.llama3.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model directory whose config contradicts its tensors fails with the tensor, the shapes and the file. */
class LoadingErrorsTest {

    @TempDir
    Path dir;

    Path modelWithConfig(Consumer<ObjectNode> edit) throws IOException {
        Path src = TestModels.tinyModel();
        for (String f : new String[] {"model.safetensors", "tokenizer.json", "tokenizer_config.json",
                "generation_config.json"}) {
            Files.createSymbolicLink(dir.resolve(f), src.resolve(f));
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = (ObjectNode) json.readTree(src.resolve("config.json").toFile());
        edit.accept(config);
        json.writeValue(dir.resolve("config.json").toFile(), config);
        return dir;
    }

    @Test
    void aShapeThatContradictsTheConfigNamesTheTensor() throws IOException {
        Path m = modelWithConfig(c -> c.put("intermediate_size", 640));
        assertThatThrownBy(() -> TestModels.open(m, 1, 64))
                .hasMessageContaining("model.layers.0.mlp.gate_proj.weight")
                .hasMessageContaining("[512, 256]").hasMessageContaining("[640, 256]")
                .hasMessageContaining("model.safetensors");
    }

    @Test
    void fewerLayersInTheConfigThanInTheFileIsAnError() throws IOException {
        Path m = modelWithConfig(c -> c.put("num_hidden_layers", 5));
        assertThatThrownBy(() -> TestModels.open(m, 1, 64)).hasMessageContaining("model.layers.5")
                .hasMessageContaining("5 layers");
    }

    @Test
    void moreLayersInTheConfigThanInTheFileNamesTheMissingTensor() throws IOException {
        Path m = modelWithConfig(c -> c.put("num_hidden_layers", 7));
        assertThatThrownBy(() -> TestModels.open(m, 1, 64)).hasMessageContaining("model.layers.6.input_layernorm.weight");
    }

    @Test
    void anUnsupportedRopeScalingIsNamed() throws IOException {
        Path m = modelWithConfig(c -> ((ObjectNode) c.get("rope_scaling")).put("rope_type", "yarn"));
        assertThatThrownBy(() -> TestModels.open(m, 1, 64)).hasMessageContaining("yarn").hasMessageContaining("config.json");
    }

    @Test
    void theProviderRecognizesLlamaDirectoriesAndGgufFilesOnly() throws IOException {
        Llama3ModelProvider p = new Llama3ModelProvider();
        assertThat(p.canOpen(TestModels.tinyModel())).isTrue();
        assertThat(p.canOpen(TestModels.tinyModel().resolve("tiny-llama3-Q8_0.gguf"))).isTrue();
        assertThat(p.canOpen(dir)).isFalse();
        assertThat(p.describe(TestModels.tinyModel())).contains("d_model 256").contains("6 layers").contains("BF16");
        assertThat(p.describe(TestModels.tinyModel().resolve("tiny-llama3-Q8_0.gguf"))).contains("GGUF v3")
                .contains("Q8_0");
        assertThatThrownBy(() -> p.open(TestModels.tinyModel(), Map.of("colour", "red")))
                .hasMessageContaining("colour").hasMessageContaining("backend, device, threads, chunk-rows");
    }
}
