package io.github.sae4j.core.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {

    @TempDir
    Path dir;

    @Test
    void writesTheStandardLayoutThatAnyReaderParses() throws IOException {
        Path file = dir.resolve("t.safetensors");
        float[] w = {1.5f, -2f, 3.25f, 0f, 7f, 8f};
        long[] counters = {1L << 40, 2};
        Safetensors.write(file, List.of(Safetensors.Array.f32("W", w, 2, 3), Safetensors.Array.i64("c", counters, 2)),
                Map.of("format", "test"));

        // Decode by hand, following the format's specification and nothing of ours.
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = b.getLong();
        assertThat(n % 8).as("header padded to 8 bytes").isZero();
        JsonNode header = new ObjectMapper().readTree(new String(bytes, 8, (int) n, StandardCharsets.UTF_8).strip());
        assertThat(header.get("__metadata__").get("format").asText()).isEqualTo("test");
        JsonNode wInfo = header.get("W");
        assertThat(wInfo.get("dtype").asText()).isEqualTo("F32");
        assertThat(wInfo.get("shape").toString()).isEqualTo("[2,3]");
        int begin = wInfo.get("data_offsets").get(0).asInt();
        float[] decoded = new float[6];
        ByteBuffer data = ByteBuffer.wrap(bytes, 8 + (int) n + begin, 24).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 6; i++) {
            decoded[i] = data.getFloat();
        }
        assertThat(decoded).containsExactly(w);
        assertThat(header.get("c").get("data_offsets").toString()).isEqualTo("[24,40]");

        try (Safetensors.Reader r = Safetensors.open(file)) {
            assertThat(r.readF32("W", 2, 3)).containsExactly(w);
            assertThat(r.readI64("c")).containsExactly(counters);
            assertThatThrownBy(() -> r.readF32("W", 3, 2)).hasMessageContaining("has shape [2, 3], expected [3, 2]");
            assertThatThrownBy(() -> r.readF32("missing")).hasMessageContaining("no tensor 'missing'");
        }
    }

    @Test
    void truncatedAndGarbageFilesAreRejectedWithTheirName() throws IOException {
        Path file = dir.resolve("t.safetensors");
        Safetensors.write(file, List.of(Safetensors.Array.f32("W", new float[1000], 1000)), Map.of());
        byte[] bytes = Files.readAllBytes(file);
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length - 100));
        assertThatThrownBy(() -> Safetensors.open(cut).close()).isInstanceOf(IOException.class)
                .hasMessageContaining("cut.safetensors").hasMessageContaining("truncated");
        Path garbage = dir.resolve("garbage.safetensors");
        Files.writeString(garbage, "this is not a tensor file at all, just text");
        assertThatThrownBy(() -> Safetensors.open(garbage).close()).isInstanceOf(IOException.class)
                .hasMessageContaining("garbage.safetensors");
    }

    @Test
    void atomicWritesLeaveNothingBehindOnFailure() throws IOException {
        Path target = dir.resolve("out");
        assertThatThrownBy(() -> AtomicFiles.writeDirectory(target, tmp -> {
            Files.writeString(tmp.resolve("half"), "x");
            throw new IOException("disk full");
        })).hasMessage("disk full");
        try (var s = Files.list(dir)) {
            assertThat(s.toList()).as("no target and no temporary directory").isEmpty();
        }
        AtomicFiles.writeDirectory(target, tmp -> Files.writeString(tmp.resolve("a"), "1"));
        AtomicFiles.writeDirectory(target, tmp -> Files.writeString(tmp.resolve("b"), "2"));
        try (var s = Files.list(target)) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).as("replaced whole").containsExactly("b");
        }
    }
}
