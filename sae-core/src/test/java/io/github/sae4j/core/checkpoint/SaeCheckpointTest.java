package io.github.sae4j.core.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.backend.java.JavaBackend;
import io.github.sae4j.core.io.Safetensors;
import io.github.sae4j.core.sae.TopKArchitecture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SaeCheckpointTest {

    @TempDir
    Path dir;

    @Test
    void savesSaeLensLayoutAndLoadsBackIdentically() throws IOException {
        try (JavaBackend backend = new JavaBackend(1)) {
            SaeSpec spec = new TopKArchitecture().spec(6, 10, Map.of("k", 3), 2.0, Map.of("model", "m", "hook_point", "h"));
            Path out = dir.resolve("sae");
            float[] encoderRows;
            try (Sae sae = new TopKArchitecture().create(spec, backend.device())) {
                sae.initialize(5, new float[] {1, 2, 3, 4, 5, 6});
                sae.parameter("W_enc").value().copyFrom(io.github.sae4j.core.backend.BackendConformanceSuite.random(1, 60, 1));
                encoderRows = sae.parameter("W_enc").value().toFloatArray();
                SaeCheckpoint.save(sae, out);
            }
            try (Safetensors.Reader r = Safetensors.open(out.resolve(SaeCheckpoint.WEIGHTS))) {
                assertThat(r.tensors().keySet()).containsExactly("W_enc", "W_dec", "b_enc", "b_dec");
                assertThat(r.info("W_enc").shape()).as("W_enc is [d_in, d_sae]").containsExactly(6, 10);
                assertThat(r.info("W_dec").shape()).as("W_dec is [d_sae, d_in]").containsExactly(10, 6);
                float[] stored = r.readF32("W_enc");
                assertThat(stored[2 * 10 + 7]).as("W_enc[2][7] = encoder row 7, input 2").isEqualTo(encoderRows[7 * 6 + 2]);
            }
            assertThat(Files.readString(out.resolve("cfg.json"))).contains("\"d_in\" : 6").contains("\"input_scale\" : 2.0")
                    .contains("\"architecture\" : \"topk\"");
            try (Sae loaded = SaeCheckpoint.load(out, backend.device(), Plugins.architectures())) {
                assertThat(loaded.spec()).isEqualTo(spec);
                assertThat(loaded.parameter("W_enc").value().toFloatArray()).containsExactly(encoderRows);
            }
        }
    }

    @Test
    void aCheckpointWhoseTensorsDisagreeWithItsConfigIsRejected() throws IOException {
        try (JavaBackend backend = new JavaBackend(1)) {
            SaeSpec spec = new TopKArchitecture().spec(6, 10, Map.of("k", 3), 1.0, Map.of());
            Path out = dir.resolve("sae");
            try (Sae sae = new TopKArchitecture().create(spec, backend.device())) {
                sae.initialize(5, null);
                SaeCheckpoint.save(sae, out);
            }
            Files.writeString(out.resolve("cfg.json"), Files.readString(out.resolve("cfg.json")).replace("\"d_in\" : 6", "\"d_in\" : 8"));
            assertThatThrownBy(() -> SaeCheckpoint.load(out, backend.device(), Plugins.architectures()))
                    .isInstanceOf(IOException.class).hasMessageContaining("W_enc").hasMessageContaining("[6, 10]")
                    .hasMessageContaining("d_in=8");
            assertThatThrownBy(() -> SaeCheckpoint.load(dir.resolve("nothing"), backend.device(), Plugins.architectures()))
                    .isInstanceOf(IOException.class).hasMessageContaining("no cfg.json");
        }
    }

    @Test
    void anUnknownArchitectureNamesTheInstalledOnes() throws IOException {
        Path out = dir.resolve("sae");
        Files.createDirectories(out);
        Files.writeString(out.resolve("cfg.json"), "{\"architecture\":\"jumprelu\",\"d_in\":4,\"d_sae\":8}");
        try (JavaBackend backend = new JavaBackend(1)) {
            assertThatThrownBy(() -> SaeCheckpoint.load(out, backend.device(), Plugins.architectures()))
                    .hasMessageContaining("No SAE architecture named 'jumprelu'").hasMessageContaining("relu, stack, topk");
        }
        assertThat(Plugins.architectures().names()).containsAll(List.of("relu", "topk"));
    }
}
