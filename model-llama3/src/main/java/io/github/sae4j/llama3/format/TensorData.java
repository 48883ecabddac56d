package io.github.sae4j.llama3.format;

import io.github.sae4j.api.backend.WeightFormat;
import io.github.sae4j.api.backend.WeightMatrix;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

/**
 * A tensor in a model file: a slice of mapped memory, never a heap copy, so opening a model costs page-cache
 * pages rather than Java heap. The {@link ModelTensors} that made it owns the memory; the data must not be read
 * after that is closed.
 *
 * @param name   the tensor's name in the file, for example {@code model.layers.0.mlp.down_proj.weight}
 * @param format the storage format of each row (the innermost dimension)
 * @param shape  outermost dimension first, PyTorch's order (GGUF's {@code ne[]} reversed)
 * @param data   exactly the tensor's bytes, little-endian
 * @param file   the file that holds it, for error messages
 */
public record TensorData(String name, WeightFormat format, long[] shape, MemorySegment data, Path file) {

    /** The largest float array the JVM reliably allocates. */
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 8L;

    public TensorData {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(data, "data");
        shape = shape.clone();
        long bytes = byteSize(format, shape, file + ": tensor '" + name + "'");
        if (data.byteSize() != bytes) {
            throw new IllegalArgumentException(file + ": tensor '" + name + "' " + format + " "
                    + Arrays.toString(shape) + " needs " + bytes + " bytes, got " + data.byteSize());
        }
    }

    /**
     * Bytes of a tensor of {@code format} and {@code shape}; the innermost dimension must be a whole number of
     * blocks because each row is quantized on its own.
     *
     * @param what names the tensor and its file in the message
     */
    static long byteSize(WeightFormat format, long[] shape, String what) {
        long elements = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException(what + ": shape " + Arrays.toString(shape)
                        + " has a negative dimension");
            }
            try {
                elements = Math.multiplyExact(elements, d);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException(what + ": shape " + Arrays.toString(shape)
                        + " has more than 2^63 elements");
            }
        }
        long inner = shape.length == 0 ? 1 : shape[shape.length - 1];
        if (inner % format.blockSize() != 0) {
            throw new IllegalArgumentException(what + ": " + format + " needs the innermost dimension to be a multiple"
                    + " of its block size " + format.blockSize() + ", but shape is " + Arrays.toString(shape));
        }
        try {
            return Math.multiplyExact(elements / format.blockSize(), format.blockBytes());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(what + ": shape " + Arrays.toString(shape) + " is too large");
        }
    }

    /** A copy: the shape array must not be changed behind the record's back. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** Number of elements (1 for a scalar). */
    public long elements() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /**
     * This rank-2 tensor as a {@code [shape[0], shape[1]]} weight matrix over the same memory: what the backends
     * multiply with.
     *
     * @throws IllegalArgumentException if the rank is not 2 or a dimension exceeds {@code int}
     */
    public WeightMatrix asMatrix() {
        if (shape.length != 2) {
            throw new IllegalArgumentException(file + ": tensor '" + name + "' has shape " + Arrays.toString(shape)
                    + " (rank " + shape.length + "), but a weight matrix needs rank 2; read vectors with toFloats()");
        }
        if (shape[0] > Integer.MAX_VALUE || shape[1] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(file + ": tensor '" + name + "' has shape " + Arrays.toString(shape)
                    + "; a weight matrix holds at most " + Integer.MAX_VALUE + " rows and columns");
        }
        return new WeightMatrix(name, format, (int) shape[0], (int) shape[1], data);
    }

    /**
     * All elements dequantized into a new array, outermost dimension first: meant for small tensors such as norm
     * weights, since it copies.
     *
     * @throws IllegalArgumentException if the tensor has more elements than a Java array holds
     */
    public float[] toFloats() {
        long n = elements();
        if (n > MAX_ARRAY) {
            throw new IllegalArgumentException(file + ": tensor '" + name + "' " + Arrays.toString(shape) + " has "
                    + n + " elements, more than a float[] holds (" + MAX_ARRAY + "); read it row by row with asMatrix()");
        }
        float[] out = new float[(int) n];
        format.dequantize(data, 0, out, 0, (int) n);
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorData t && name.equals(t.name) && format == t.format
                && Arrays.equals(shape, t.shape) && data.equals(t.data) && Objects.equals(file, t.file);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, format, Arrays.hashCode(shape), data, file);
    }

    @Override
    public String toString() {
        return "TensorData[" + name + ", " + format + " " + Arrays.toString(shape) + ", " + file + "]";
    }
}
