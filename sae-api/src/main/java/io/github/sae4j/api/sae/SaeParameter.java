package io.github.sae4j.api.sae;

import io.github.sae4j.api.backend.Tensor;
import java.util.Objects;

/**
 * A named tensor of an SAE, saved in its checkpoint.
 *
 * @param name       the checkpoint name (SAELens style: {@code W_enc}, {@code W_dec}, {@code b_enc}, {@code b_dec})
 * @param value      the tensor on the SAE's device
 * @param transposed true when {@code value} holds the transpose of the checkpoint layout; for example TopK keeps
 *                   {@code W_enc} as {@code [d_sae, d_in]} so that its sparse gradient writes whole rows, while
 *                   the checkpoint stores {@code [d_in, d_sae]}
 * @param trainable  false for state the SAE updates itself during training steps (for example a running
 *                   threshold): the optimizer leaves it alone, checkpoints still save it
 */
public record SaeParameter(String name, Tensor value, boolean transposed, boolean trainable) {

    public SaeParameter {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
    }

    /** A trainable parameter. */
    public SaeParameter(String name, Tensor value, boolean transposed) {
        this(name, value, transposed, true);
    }

    /** The shape in the checkpoint. */
    public int[] checkpointShape() {
        int[] s = value.shape();
        return transposed && s.length == 2 ? new int[] {s[1], s[0]} : s.clone();
    }
}
