package io.github.sae4j.api.backend;

import java.util.Arrays;

/**
 * A dense, row-major array of rank 1 or 2 that lives on one {@link Device}.
 *
 * <p>Who allocates, frees: the caller of {@link Device#allocate} closes the tensor. A
 * {@linkplain #view view} shares its parent's storage and must not outlive it; closing a view does
 * nothing. Host copies ({@code copyFrom}/{@code copyTo}) are the only way data crosses between the
 * JVM heap and the device.
 */
public interface Tensor extends AutoCloseable {

    Device device();

    DType dtype();

    /** The shape, outermost first: {@code [n]} or {@code [rows, cols]}. */
    int[] shape();

    default int rank() {
        return shape().length;
    }

    /** Number of elements. */
    default long size() {
        long n = 1;
        for (int d : shape()) {
            n *= d;
        }
        return n;
    }

    /** Rows of a matrix; 1 for a vector. */
    default int rows() {
        int[] s = shape();
        return s.length == 2 ? s[0] : 1;
    }

    /** Columns of a matrix; the length of a vector. */
    default int cols() {
        int[] s = shape();
        return s[s.length - 1];
    }

    /** The same storage seen with another shape of the same size. */
    Tensor view(int... shape);

    /** Copies {@code size()} floats from {@code src[offset..]} into this F32 or BF16 tensor (rounding to BF16 if needed). */
    void copyFrom(float[] src, int offset);

    /** Copies this F32 or BF16 tensor into {@code dst[offset..]} as floats. */
    void copyTo(float[] dst, int offset);

    /** Copies {@code size()} ints from {@code src[offset..]} into this I32 tensor. */
    void copyFrom(int[] src, int offset);

    /** Copies this I32 tensor into {@code dst[offset..]}. */
    void copyTo(int[] dst, int offset);

    /** Copies raw BF16 bit patterns (as stored in shards) into this BF16 or F32 tensor. */
    void copyFromBf16(short[] src, int offset);

    default void copyFrom(float[] src) {
        copyFrom(src, 0);
    }

    default void copyFrom(int[] src) {
        copyFrom(src, 0);
    }

    /** A new host array with this F32/BF16 tensor's contents. */
    default float[] toFloatArray() {
        float[] out = new float[Math.toIntExact(size())];
        copyTo(out, 0);
        return out;
    }

    /** A new host array with this I32 tensor's contents. */
    default int[] toIntArray() {
        int[] out = new int[Math.toIntExact(size())];
        copyTo(out, 0);
        return out;
    }

    /** Frees the device memory; idempotent. Views free nothing. */
    @Override
    void close();

    /** Checks that {@code shape} is a valid rank-1 or rank-2 shape and returns a copy. */
    static int[] checkShape(int... shape) {
        if (shape.length < 1 || shape.length > 2) {
            throw new IllegalArgumentException("tensors have rank 1 or 2, got shape " + Arrays.toString(shape));
        }
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
        }
        return shape.clone();
    }
}
