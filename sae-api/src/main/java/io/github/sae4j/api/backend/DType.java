package io.github.sae4j.api.backend;

/** Element types of device tensors. */
public enum DType {
    /** IEEE 754 binary32: parameters, gradients, optimizer state, activations in compute. */
    F32(4),
    /** bfloat16 (the upper 16 bits of an F32): activations as stored in shards. */
    BF16(2),
    /** 32-bit signed integers: latent indices. */
    I32(4);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }
}
