package io.github.sae4j.llama3.model;

import io.github.sae4j.api.backend.WeightMatrix;
import io.github.sae4j.llama3.format.ModelTensors;
import io.github.sae4j.llama3.format.TensorData;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The weights of a Llama model as slices of its (memory-mapped) files: matrices stay in their file format, the
 * small norm vectors are read into floats. Tensor names follow Hugging Face or llama.cpp's GGUF convention.
 *
 * @param interleavedRope whether q/k rows are in Meta's interleaved pair order (GGUF), not Hugging Face's
 */
public record LlamaWeights(WeightMatrix embedding, WeightMatrix output, float[] finalNorm, List<Layer> layers,
                           boolean interleavedRope) {

    /** One decoder block. */
    public record Layer(float[] attentionNorm, WeightMatrix q, WeightMatrix k, WeightMatrix v, WeightMatrix o,
                        float[] mlpNorm, WeightMatrix gate, WeightMatrix up, WeightMatrix down) {
    }

    /** Tensor names of one file convention. */
    public enum Naming {
        HUGGING_FACE("model.embed_tokens.weight", "lm_head.weight", "model.norm.weight", "model.layers.%d.",
                "input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.k_proj.weight",
                "self_attn.v_proj.weight", "self_attn.o_proj.weight", "post_attention_layernorm.weight",
                "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight"),
        GGUF("token_embd.weight", "output.weight", "output_norm.weight", "blk.%d.", "attn_norm.weight",
                "attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight", "ffn_norm.weight",
                "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight");

        final String embedding;
        final String output;
        final String finalNorm;
        final String layerPrefix;
        final String[] layer;

        Naming(String embedding, String output, String finalNorm, String layerPrefix, String... layer) {
            this.embedding = embedding;
            this.output = output;
            this.finalNorm = finalNorm;
            this.layerPrefix = layerPrefix;
            this.layer = layer;
        }
    }

    /** Binds and checks every tensor the config calls for; shapes that contradict the config are an error. */
    public static LlamaWeights bind(ModelTensors files, Naming naming, LlamaConfig c) {
        WeightMatrix embedding = matrix(files, naming.embedding, c.vocabSize(), c.hidden());
        WeightMatrix output = files.contains(naming.output) ? matrix(files, naming.output, c.vocabSize(), c.hidden())
                : embedding;
        if (!files.contains(naming.output) && !c.tiedEmbeddings()) {
            throw new IllegalArgumentException(files.source() + ": no " + naming.output
                    + " and the config does not tie embeddings (tie_word_embeddings is false)");
        }
        float[] finalNorm = vector(files, naming.finalNorm, c.hidden());
        List<Layer> layers = new ArrayList<>(c.layers());
        for (int l = 0; l < c.layers(); l++) {
            String p = naming.layerPrefix.formatted(l);
            String[] n = naming.layer;
            layers.add(new Layer(vector(files, p + n[0], c.hidden()),
                    matrix(files, p + n[1], c.qDim(), c.hidden()),
                    matrix(files, p + n[2], c.kvDim(), c.hidden()),
                    matrix(files, p + n[3], c.kvDim(), c.hidden()),
                    matrix(files, p + n[4], c.hidden(), c.qDim()),
                    vector(files, p + n[5], c.hidden()),
                    matrix(files, p + n[6], c.intermediate(), c.hidden()),
                    matrix(files, p + n[7], c.intermediate(), c.hidden()),
                    matrix(files, p + n[8], c.hidden(), c.intermediate())));
        }
        String extraLayer = naming.layerPrefix.formatted(c.layers()) + naming.layer[1];
        if (files.contains(extraLayer)) {
            throw new IllegalArgumentException(files.source() + ": has " + extraLayer + " but the config says "
                    + c.layers() + " layers");
        }
        return new LlamaWeights(embedding, output, finalNorm, List.copyOf(layers), naming == Naming.GGUF);
    }

    private static WeightMatrix matrix(ModelTensors files, String name, int rows, int cols) {
        TensorData t = files.tensor(name);
        long[] shape = t.shape();
        if (shape.length != 2 || shape[0] != rows || shape[1] != cols) {
            throw new IllegalArgumentException(t.file() + ": tensor " + name + " has shape " + Arrays.toString(shape)
                    + " but the config calls for [" + rows + ", " + cols + "]");
        }
        return t.asMatrix();
    }

    private static float[] vector(ModelTensors files, String name, int length) {
        TensorData t = files.tensor(name);
        long[] shape = t.shape();
        if (shape.length != 1 || shape[0] != length) {
            throw new IllegalArgumentException(t.file() + ": tensor " + name + " has shape " + Arrays.toString(shape)
                    + " but the config calls for [" + length + "]");
        }
        return t.toFloats();
    }
}
