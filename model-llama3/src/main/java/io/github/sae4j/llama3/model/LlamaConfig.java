package io.github.sae4j.llama3.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.sae4j.llama3.format.GgufFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The shape of a Llama 3.x model, read from a Hugging Face {@code config.json} or from GGUF metadata.
 *
 * @param name             for provenance (the directory or file name)
 * @param hidden           residual stream width (d_model)
 * @param intermediate     MLP width
 * @param layers           decoder blocks
 * @param heads            query heads
 * @param kvHeads          key/value heads (GQA)
 * @param headDim          elements per head
 * @param vocabSize        rows of the embedding
 * @param rmsNormEps       RMSNorm epsilon
 * @param ropeTheta        RoPE base
 * @param ropeScaling      Llama 3.1 frequency scaling, or null
 * @param maxPositions     the longest sequence the model accepts
 * @param tiedEmbeddings   whether the output layer reuses the embedding
 */
public record LlamaConfig(String name, int hidden, int intermediate, int layers, int heads, int kvHeads, int headDim,
                          int vocabSize, float rmsNormEps, double ropeTheta, RopeScaling ropeScaling,
                          int maxPositions, boolean tiedEmbeddings) {

    /**
     * Llama 3.1's {@code rope_scaling} of type {@code llama3} (type {@code linear} is {@code factor} alone with both
     * frequency factors 0).
     */
    public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
                              int originalMaxPositions) {
    }

    public LlamaConfig {
        check(hidden > 0 && intermediate > 0 && layers > 0 && heads > 0 && kvHeads > 0 && headDim > 0 && vocabSize > 0
                && maxPositions > 0, name, "all sizes must be positive");
        check(heads % kvHeads == 0, name, "num_attention_heads (" + heads + ") must be a multiple of num_key_value_heads ("
                + kvHeads + ")");
        check(headDim % 2 == 0, name, "head_dim must be even for RoPE, got " + headDim);
        check(rmsNormEps > 0, name, "rms_norm_eps must be positive, got " + rmsNormEps);
        check(ropeTheta > 0, name, "rope_theta must be positive, got " + ropeTheta);
    }

    public int qDim() {
        return heads * headDim;
    }

    public int kvDim() {
        return kvHeads * headDim;
    }

    /** Parameters (embedding counted once when tied). */
    public long parameters() {
        long attn = (long) hidden * (qDim() + 2L * kvDim()) + (long) qDim() * hidden;
        long mlp = 3L * hidden * intermediate;
        long perLayer = attn + mlp + 2L * hidden;
        return (long) vocabSize * hidden * (tiedEmbeddings ? 1 : 2) + layers * perLayer + hidden;
    }

    /** Reads a Hugging Face {@code config.json} (Llama 3.0, 3.1 and 3.2 keys). */
    public static LlamaConfig fromHuggingFace(Path configJson) throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(configJson));
        } catch (IOException e) {
            throw new IOException(configJson + ": cannot read config.json: " + e.getMessage(), e);
        }
        String file = configJson.toString();
        String type = root.path("model_type").asText("");
        if (!type.isEmpty() && !type.equals("llama")) {
            throw new IllegalArgumentException(file + ": model_type is '" + type + "'; model-llama3 reads Llama models "
                    + "(model_type \"llama\")");
        }
        String act = root.path("hidden_act").asText("silu");
        if (!act.equals("silu")) {
            throw new IllegalArgumentException(file + ": hidden_act '" + act + "' is not supported (Llama uses silu)");
        }
        if (root.path("attention_bias").asBoolean(false) || root.path("mlp_bias").asBoolean(false)) {
            throw new IllegalArgumentException(file + ": attention_bias/mlp_bias are set; Llama 3 has no biases and "
                    + "model-llama3 does not load them");
        }
        int hidden = requiredInt(root, "hidden_size", file);
        int heads = requiredInt(root, "num_attention_heads", file);
        int kvHeads = root.hasNonNull("num_key_value_heads") ? requiredInt(root, "num_key_value_heads", file) : heads;
        int headDim = root.hasNonNull("head_dim") ? requiredInt(root, "head_dim", file) : hidden / heads;
        RopeScaling scaling = null;
        JsonNode rs = root.path("rope_scaling");
        if (rs.isObject()) {
            String rt = rs.hasNonNull("rope_type") ? rs.get("rope_type").asText() : rs.path("type").asText("default");
            switch (rt) {
                case "default" -> scaling = null;
                case "linear" -> scaling = new RopeScaling("linear", requiredDouble(rs, "factor", file), 0, 0, 0);
                case "llama3" -> scaling = new RopeScaling("llama3", requiredDouble(rs, "factor", file),
                        requiredDouble(rs, "low_freq_factor", file), requiredDouble(rs, "high_freq_factor", file),
                        requiredInt(rs, "original_max_position_embeddings", file));
                default -> throw new IllegalArgumentException(file + ": rope_scaling type '" + rt
                        + "' is not supported; expected llama3, linear or default");
            }
        }
        return new LlamaConfig(configJson.getParent() == null ? file : configJson.getParent().getFileName().toString(),
                hidden, requiredInt(root, "intermediate_size", file), requiredInt(root, "num_hidden_layers", file),
                heads, kvHeads, headDim, requiredInt(root, "vocab_size", file),
                (float) root.path("rms_norm_eps").asDouble(1e-5), root.path("rope_theta").asDouble(10000.0), scaling,
                root.path("max_position_embeddings").asInt(8192), root.path("tie_word_embeddings").asBoolean(false));
    }

    /**
     * Reads the {@code llama.*} metadata of a GGUF file. Llama 3.1 frequency scaling is carried by the
     * {@code rope_freqs.weight} tensor there, not by metadata (see {@link RopeFrequencies}).
     */
    public static LlamaConfig fromGguf(GgufFile gguf, String name) {
        String arch = gguf.architecture();
        if (!arch.equals("llama")) {
            throw new IllegalArgumentException(gguf.source() + ": general.architecture is '" + arch
                    + "'; model-llama3 reads llama GGUF files");
        }
        int hidden = Math.toIntExact(gguf.integer("llama.embedding_length"));
        int heads = Math.toIntExact(gguf.integer("llama.attention.head_count"));
        int kvHeads = Math.toIntExact(gguf.optionalInteger("llama.attention.head_count_kv").orElse(heads));
        int headDim = Math.toIntExact(gguf.optionalInteger("llama.attention.key_length")
                .orElse(gguf.optionalInteger("llama.rope.dimension_count").orElse(hidden / heads)));
        int vocab = Math.toIntExact(gguf.optionalInteger("llama.vocab_size")
                .orElseGet(() -> gguf.stringArray("tokenizer.ggml.tokens").size()));
        return new LlamaConfig(name, hidden, Math.toIntExact(gguf.integer("llama.feed_forward_length")),
                Math.toIntExact(gguf.integer("llama.block_count")), heads, kvHeads, headDim, vocab,
                (float) gguf.optionalReal("llama.attention.layer_norm_rms_epsilon").orElse(1e-5),
                gguf.optionalReal("llama.rope.freq_base").orElse(10000.0), null,
                Math.toIntExact(gguf.optionalInteger("llama.context_length").orElse(8192)),
                !gguf.contains("output.weight"));
    }

    /** The shapes of Llama 3.2-1B (for benchmarks with random weights). */
    public static LlamaConfig llama32OneB() {
        return new LlamaConfig("llama-3.2-1b-shapes (random weights)", 2048, 8192, 16, 32, 8, 64, 128256, 1e-5f,
                500000.0, new RopeScaling("llama3", 32, 1, 4, 8192), 131072, true);
    }

    private static int requiredInt(JsonNode node, String key, String file) {
        JsonNode v = node.get(key);
        if (v == null || !v.canConvertToInt() || !v.isIntegralNumber()) {
            throw new IllegalArgumentException(file + ": key '" + key + "' must be an integer, got "
                    + (v == null ? "nothing" : v.toString()));
        }
        return v.asInt();
    }

    private static double requiredDouble(JsonNode node, String key, String file) {
        JsonNode v = node.get(key);
        if (v == null || !v.isNumber()) {
            throw new IllegalArgumentException(file + ": key '" + key + "' must be a number, got "
                    + (v == null ? "nothing" : v.toString()));
        }
        return v.asDouble();
    }

    private static void check(boolean ok, String name, String message) {
        if (!ok) {
            throw new IllegalArgumentException(name + ": " + message);
        }
    }

    @Override
    public String toString() {
        return name + ": d_model " + hidden + ", " + layers + " layers, " + heads + " heads / " + kvHeads
                + " KV heads of " + headDim + ", MLP " + intermediate + ", vocab " + vocabSize + ", context "
                + maxPositions + ", rope theta " + ropeTheta + (ropeScaling == null ? "" : " " + ropeScaling)
                + (tiedEmbeddings ? ", tied embeddings" : "") + ", " + String.format("%,d", parameters())
                + " parameters";
    }
}
