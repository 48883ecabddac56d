package io.github.sae4j.api.backend;

import java.lang.foreign.MemorySegment;

/**
 * A read-only {@code [rows, cols]} weight matrix in its file's storage format, usually a slice of a
 * memory-mapped model file: {@code rows} output features, each a row of {@code cols} input weights
 * (PyTorch's {@code [out, in]} layout, which is also GGUF's). Row {@code r} starts at byte
 * {@code r * format.rowBytes(cols)}. The model file owns the memory; the matrix must not outlive it.
 *
 * @param name   for error messages, for example {@code model.layers.3.mlp.up_proj.weight}
 */
public record WeightMatrix(String name, WeightFormat format, int rows, int cols, MemorySegment data) {

    public WeightMatrix {
        if (rows <= 0) {
            throw new IllegalArgumentException(name + ": rows must be positive, got " + rows);
        }
        long need = rows * format.rowBytes(cols);
        if (data.byteSize() != need) {
            throw new IllegalArgumentException(name + ": " + format + " [" + rows + ", " + cols + "] needs " + need
                    + " bytes, got " + data.byteSize());
        }
    }

    /** Bytes per row. */
    public long rowBytes() {
        return format.rowBytes(cols);
    }

    /** Dequantizes row {@code row} into {@code dst[offset..offset + cols)} (the reference path). */
    public void dequantizeRow(int row, float[] dst, int offset) {
        format.dequantize(data, row * rowBytes(), dst, offset, cols);
    }

    /** The whole matrix as floats (for tests and small matrices). */
    public float[] toFloats() {
        float[] out = new float[Math.multiplyExact(rows, cols)];
        for (int r = 0; r < rows; r++) {
            dequantizeRow(r, out, r * cols);
        }
        return out;
    }
}
