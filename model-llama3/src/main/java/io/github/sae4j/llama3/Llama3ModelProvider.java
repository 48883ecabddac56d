package io.github.sae4j.llama3;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.backend.BackendProvider;
import io.github.sae4j.api.model.LanguageModel;
import io.github.sae4j.api.model.LanguageModelProvider;
import io.github.sae4j.api.plugin.PluginRegistry;
import io.github.sae4j.llama3.format.GgufFile;
import io.github.sae4j.llama3.format.TensorData;
import io.github.sae4j.llama3.model.Llama3Model;
import io.github.sae4j.llama3.model.LlamaConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Registers Llama 3.x as the model plugin {@code llama3}: Hugging Face directories and GGUF files.
 * Options: {@code backend} (default {@code java}), {@code device} (index, default 0), {@code threads} (passed to
 * the backend), {@code chunk-rows} (tokens per forward chunk, default {@value Llama3Model#DEFAULT_CHUNK_ROWS}).
 */
public final class Llama3ModelProvider implements LanguageModelProvider {

    @Override
    public String name() {
        return "llama3";
    }

    @Override
    public String description() {
        return "Llama 3.0/3.1/3.2: Hugging Face safetensors (F32/F16/BF16) or GGUF (F32/F16/BF16/Q8_0/Q4_0), memory-mapped";
    }

    @Override
    public boolean canOpen(Path path) {
        if (Llama3Models.isGguf(path)) {
            return true;
        }
        Path config = path.resolve("config.json");
        if (!Files.isDirectory(path) || !Files.isRegularFile(config)) {
            return false;
        }
        try {
            JsonNode root = new ObjectMapper().readTree(config.toFile());
            return root.path("model_type").asText("").equals("llama")
                    || root.path("architectures").toString().contains("LlamaForCausalLM");
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public String describe(Path path) throws IOException {
        StringBuilder sb = new StringBuilder();
        if (Llama3Models.isGguf(path)) {
            try (GgufFile gguf = GgufFile.open(path)) {
                String name = path.getFileName().toString();
                sb.append("GGUF v").append(gguf.version()).append(": ").append(LlamaConfig.fromGguf(gguf,
                        gguf.optionalString("general.name").orElse(name))).append('\n');
                Map<String, Integer> types = new TreeMap<>();
                for (String t : gguf.names()) {
                    types.merge(gguf.tensor(t).format().toString(), 1, Integer::sum);
                }
                sb.append("tensors: ").append(gguf.names().size()).append(' ').append(types).append('\n');
                sb.append("tokenizer: ").append(gguf.stringArray("tokenizer.ggml.tokens").size()).append(" tokens, ")
                        .append(gguf.optionalString("tokenizer.ggml.pre").orElse("?")).append(" pre-tokenizer");
            }
        } else {
            LlamaConfig config = LlamaConfig.fromHuggingFace(path.resolve("config.json"));
            sb.append("Hugging Face directory: ").append(config).append('\n');
            try (var files = io.github.sae4j.llama3.format.SafetensorsModel.open(path)) {
                Map<String, Integer> types = new TreeMap<>();
                for (String t : files.names()) {
                    TensorData d = files.tensor(t);
                    types.merge(d.format().toString(), 1, Integer::sum);
                }
                sb.append("tensors: ").append(files.names().size()).append(' ').append(types);
            }
        }
        return sb.toString();
    }

    @Override
    public LanguageModel open(Path path, Map<String, String> options) throws IOException {
        Map<String, String> rest = new LinkedHashMap<>(options);
        String backendName = rest.remove("backend");
        String deviceText = rest.remove("device");
        String chunkText = rest.remove("chunk-rows");
        String threads = rest.remove("threads");
        if (!rest.isEmpty()) {
            throw new IllegalArgumentException("the llama3 model has no option '" + rest.keySet().iterator().next()
                    + "'; its options: backend, device, threads, chunk-rows");
        }
        int device = parse(deviceText, "device", 0, 0);
        int chunkRows = parse(chunkText, "chunk-rows", Llama3Model.DEFAULT_CHUNK_ROWS, 1);
        Map<String, String> backendOptions = threads == null ? Map.of() : Map.of("threads", threads);
        BackendProvider provider = PluginRegistry.load(BackendProvider.class, "backend")
                .get(backendName == null ? "java" : backendName);
        Backend backend = provider.open(backendOptions);
        try {
            return Llama3Models.open(path, backend.device(device), chunkRows, List.of(backend));
        } catch (IOException | RuntimeException e) {
            backend.close();
            throw e;
        }
    }

    private static int parse(String text, String key, int fallback, int min) {
        if (text == null) {
            return fallback;
        }
        try {
            int v = Integer.parseInt(text.trim());
            if (v >= min) {
                return v;
            }
        } catch (NumberFormatException ignored) {
            // fall through to the message
        }
        throw new IllegalArgumentException("llama3 model option " + key + " must be an integer >= " + min + ", got '"
                + text + "'");
    }
}
