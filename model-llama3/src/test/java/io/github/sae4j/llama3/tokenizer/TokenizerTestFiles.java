package io.github.sae4j.llama3.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Locates the embedded tiny model and reads the golden safetensors file (I32 tensors and metadata only). */
final class TokenizerTestFiles {

    private TokenizerTestFiles() {}

    /** The repository root: the first directory up from {@code user.dir} that has {@code models/tiny-llama3}. */
    static Path repositoryRoot() {
        for (Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("models/tiny-llama3"))) {
                return p;
            }
        }
        throw new IllegalStateException("models/tiny-llama3 not found above " + System.getProperty("user.dir"));
    }

    static Path tinyModel() {
        return repositoryRoot().resolve("models/tiny-llama3");
    }

    static Path moduleDir() {
        return repositoryRoot().resolve("model-llama3");
    }

    /** A safetensors file: its I32 tensors as int arrays and its string metadata. */
    record Golden(Map<String, int[]> ints, Map<String, String> metadata) {}

    /** safetensors: u64 little-endian header length, JSON header {name: {dtype, shape, data_offsets}}, data. */
    static Golden readGolden(Path file) throws IOException {
        ByteBuffer all = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength = Math.toIntExact(all.getLong(0));
        JsonNode header = new ObjectMapper().readTree(new String(all.array(), 8, headerLength,
                java.nio.charset.StandardCharsets.UTF_8));
        int dataStart = 8 + headerLength;
        Map<String, int[]> ints = new HashMap<>();
        Map<String, String> metadata = new HashMap<>();
        for (Map.Entry<String, JsonNode> e : header.properties()) {
            if (e.getKey().equals("__metadata__")) {
                e.getValue().properties().forEach(m -> metadata.put(m.getKey(), m.getValue().asText()));
            } else if (e.getValue().path("dtype").asText().equals("I32")) {
                long begin = e.getValue().path("data_offsets").get(0).asLong();
                long end = e.getValue().path("data_offsets").get(1).asLong();
                int[] values = new int[Math.toIntExact((end - begin) / 4)];
                for (int i = 0; i < values.length; i++) {
                    values[i] = all.getInt(Math.toIntExact(dataStart + begin + 4L * i));
                }
                ints.put(e.getKey(), values);
            }
        }
        return new Golden(ints, metadata);
    }
}
