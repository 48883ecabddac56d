package io.github.sae4j.api.sae;

import io.github.sae4j.api.backend.Tensor;

/**
 * The latent activations of a batch: sparse ({@code [rows, k]} values and indices) or dense
 * ({@code [rows, d_sae]}). The creator of a code owns its tensors; {@link #close()} frees them.
 */
public sealed interface LatentCodes extends AutoCloseable {

    int rows();

    @Override
    void close();

    /**
     * A sparse code: row r has {@code values[r, j]} at latent {@code indices[r, j]} (index -1: empty slot).
     * Values of zero are inactive latents (TopK keeps k slots but a slot may hold a non-positive pre-activation).
     */
    record Sparse(Tensor values, Tensor indices) implements LatentCodes {
        @Override
        public int rows() {
            return values.rows();
        }

        @Override
        public void close() {
            values.close();
            indices.close();
        }
    }

    /** A dense code of shape {@code [rows, d_sae]}. */
    record Dense(Tensor activations) implements LatentCodes {
        @Override
        public int rows() {
            return activations.rows();
        }

        @Override
        public void close() {
            activations.close();
        }
    }
}
