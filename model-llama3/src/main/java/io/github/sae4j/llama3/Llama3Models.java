package io.github.sae4j.llama3;

import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.model.Tokenizer;
import io.github.sae4j.llama3.format.GgufFile;
import io.github.sae4j.llama3.format.ModelTensors;
import io.github.sae4j.llama3.format.SafetensorsModel;
import io.github.sae4j.llama3.model.Llama3Model;
import io.github.sae4j.llama3.model.LlamaConfig;
import io.github.sae4j.llama3.model.LlamaWeights;
import io.github.sae4j.llama3.model.RopeFrequencies;
import io.github.sae4j.llama3.tokenizer.Llama3Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Opens Llama 3.x models from a Hugging Face directory ({@code config.json}, {@code *.safetensors},
 * {@code tokenizer.json}) or a GGUF file, both through the same model code. Weights are memory-mapped, not read.
 */
public final class Llama3Models {

    private Llama3Models() {
    }

    /** Whether {@code path} is a GGUF file (by name). */
    public static boolean isGguf(Path path) {
        return Files.isRegularFile(path) && path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gguf");
    }

    /**
     * Opens the model at {@code path} on {@code device}. The returned model owns the mapped files and closes them,
     * plus everything in {@code alsoOwned} (for example the backend that made the device).
     */
    public static Llama3Model open(Path path, Device device, int chunkRows, List<? extends AutoCloseable> alsoOwned)
            throws IOException {
        if (isGguf(path)) {
            return openGguf(path, device, chunkRows, alsoOwned);
        }
        if (Files.isDirectory(path)) {
            return openHuggingFace(path, device, chunkRows, alsoOwned);
        }
        throw new IOException(path + ": not a model directory (with config.json) or a .gguf file"
                + (Files.exists(path) ? "" : " (it does not exist)"));
    }

    private static Llama3Model openHuggingFace(Path dir, Device device, int chunkRows,
                                               List<? extends AutoCloseable> alsoOwned) throws IOException {
        Path configFile = dir.resolve("config.json");
        if (!Files.isRegularFile(configFile)) {
            throw new IOException(dir + ": no config.json; a Hugging Face model directory needs config.json, "
                    + "*.safetensors and tokenizer.json");
        }
        LlamaConfig config = LlamaConfig.fromHuggingFace(configFile);
        Tokenizer tokenizer = Llama3Tokenizer.fromHuggingFace(dir);
        checkVocabulary(tokenizer, config, dir);
        SafetensorsModel files = SafetensorsModel.open(dir);
        try {
            LlamaWeights weights = LlamaWeights.bind(files, LlamaWeights.Naming.HUGGING_FACE, config);
            return new Llama3Model(config, weights, RopeFrequencies.fromConfig(config), tokenizer, device, chunkRows,
                    owning(files, alsoOwned));
        } catch (RuntimeException e) {
            files.close();
            throw e;
        }
    }

    private static Llama3Model openGguf(Path file, Device device, int chunkRows,
                                        List<? extends AutoCloseable> alsoOwned) throws IOException {
        GgufFile gguf = GgufFile.open(file);
        try {
            String name = file.getFileName().toString().replaceFirst("(?i)\\.gguf$", "");
            LlamaConfig config = LlamaConfig.fromGguf(gguf, gguf.optionalString("general.name").orElse(name));
            Tokenizer tokenizer = ggufTokenizer(gguf);
            checkVocabulary(tokenizer, config, file);
            LlamaWeights weights = LlamaWeights.bind(gguf, LlamaWeights.Naming.GGUF, config);
            float[] divisors = gguf.contains("rope_freqs.weight") ? gguf.tensor("rope_freqs.weight").toFloats() : null;
            return new Llama3Model(config, weights, RopeFrequencies.fromBaseAndDivisors(config, divisors), tokenizer,
                    device, chunkRows, owning(gguf, alsoOwned));
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
    }

    /** The tokenizer GGUF files carry in {@code tokenizer.ggml.*} metadata (llama.cpp's "gpt2" BPE). */
    static Tokenizer ggufTokenizer(GgufFile gguf) {
        String model = gguf.optionalString("tokenizer.ggml.model").orElse("");
        if (!model.equals("gpt2")) {
            throw new IllegalArgumentException(gguf.source() + ": tokenizer.ggml.model is '" + model
                    + "'; Llama 3 uses the byte-level BPE tokenizer llama.cpp calls \"gpt2\"");
        }
        long[] types = gguf.metadata().containsKey("tokenizer.ggml.token_type")
                ? gguf.integerArray("tokenizer.ggml.token_type") : null;
        int[] tokenTypes = null;
        if (types != null) {
            tokenTypes = new int[types.length];
            for (int i = 0; i < types.length; i++) {
                tokenTypes[i] = (int) types[i];
            }
        }
        List<Integer> stops = new ArrayList<>();
        for (String key : List.of("tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id",
                "tokenizer.ggml.eom_token_id")) {
            gguf.optionalInteger(key).ifPresent(v -> {
                if (!stops.contains((int) v)) {
                    stops.add((int) v);
                }
            });
        }
        // llama.cpp also ends generation at Llama 3's end-of-text/turn/message tokens, whatever eos_token_id says.
        List<String> tokens = gguf.stringArray("tokenizer.ggml.tokens");
        for (String name : List.of("<|end_of_text|>", "<|eot_id|>", "<|eom_id|>")) {
            int id = tokens.indexOf(name);
            if (id >= 0 && !stops.contains(id)) {
                stops.add(id);
            }
        }
        stops.sort(null);
        if (!gguf.metadata().containsKey("tokenizer.ggml.merges")) {
            throw new IllegalArgumentException(gguf.source() + ": no tokenizer.ggml.merges; a BPE tokenizer needs its "
                    + "merges (re-convert the model with a current llama.cpp)");
        }
        return Llama3Tokenizer.fromVocabulary(gguf.source(), tokens,
                gguf.stringArray("tokenizer.ggml.merges"), tokenTypes,
                (int) gguf.optionalInteger("tokenizer.ggml.bos_token_id").orElse(-1),
                stops.stream().mapToInt(Integer::intValue).toArray(),
                gguf.optionalString("tokenizer.chat_template").orElse(null));
    }

    private static void checkVocabulary(Tokenizer tokenizer, LlamaConfig config, Path source) {
        if (tokenizer.vocabSize() > config.vocabSize()) {
            throw new IllegalArgumentException(source + ": the tokenizer has " + tokenizer.vocabSize()
                    + " tokens but the model's embedding has only " + config.vocabSize() + " rows");
        }
    }

    private static List<AutoCloseable> owning(ModelTensors files, List<? extends AutoCloseable> alsoOwned) {
        List<AutoCloseable> all = new ArrayList<>();
        all.add(files);
        all.addAll(alsoOwned);
        return all;
    }
}
