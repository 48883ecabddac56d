package io.github.sae4j.llama3.format;

import io.github.sae4j.api.backend.WeightMatrix;

import java.util.SequencedSet;

/**
 * The tensors of a model file set, whatever its format, so that model code looks weights up by name without caring
 * whether they came from safetensors shards or one GGUF file. Owns the mapped memory: every {@link TensorData}
 * becomes unreadable once this is closed.
 */
public interface ModelTensors extends AutoCloseable {

    /** Tensor names in file order. */
    SequencedSet<String> names();

    boolean contains(String name);

    /**
     * The tensor called {@code name}.
     *
     * @throws IllegalArgumentException if there is none (the message names the file and suggests close names) or
     *                                  its storage type cannot be read
     */
    TensorData tensor(String name);

    /** The tensor called {@code name} as a weight matrix; see {@link TensorData#asMatrix()}. */
    default WeightMatrix matrix(String name) {
        return tensor(name).asMatrix();
    }

    /** The file or files read, for messages. */
    String source();

    /** Unmaps the files; idempotent. */
    @Override
    void close();
}
