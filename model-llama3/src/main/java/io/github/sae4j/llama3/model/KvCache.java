package io.github.sae4j.llama3.model;

import io.github.sae4j.api.backend.DType;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;

/**
 * Keys and values of every layer for a batch of sequences being generated: slot {@code s} owns rows
 * {@code s * capacity ..} of each layer's {@code [slots * capacity, kvDim]} tensors, one row per position.
 */
final class KvCache implements AutoCloseable {

    private final Tensor[] keys;
    private final Tensor[] values;
    private final int capacity;

    KvCache(Device device, int layers, int slots, int capacity, int kvDim) {
        long rows = (long) slots * capacity;
        if (rows * kvDim > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a KV cache for " + slots + " sequences of " + capacity
                    + " positions is too large for one tensor; generate fewer prompts at once or fewer tokens");
        }
        this.capacity = capacity;
        keys = new Tensor[layers];
        values = new Tensor[layers];
        try {
            for (int l = 0; l < layers; l++) {
                keys[l] = device.allocate(DType.F32, (int) rows, kvDim);
                values[l] = device.allocate(DType.F32, (int) rows, kvDim);
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            close();
            throw e;
        }
    }

    int firstRow(int slot) {
        return slot * capacity;
    }

    Tensor keys(int layer) {
        return keys[layer];
    }

    Tensor values(int layer) {
        return values[layer];
    }

    @Override
    public void close() {
        for (int l = 0; l < keys.length; l++) {
            if (keys[l] != null) {
                keys[l].close();
            }
            if (values[l] != null) {
                values[l].close();
            }
        }
    }
}
