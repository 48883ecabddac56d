package io.github.sae4j.core.backend.java;

import io.github.sae4j.core.store.BFloat16;
import io.github.sae4j.api.backend.DType;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import java.util.Arrays;

/**
 * A tensor of the pure-Java backend: a heap array (float[] for F32, short[] for BF16, int[] for I32).
 * Views share the array; the JVM's garbage collector frees it once no tensor refers to it.
 */
public final class JavaTensor implements Tensor {

    private final JavaDevice device;
    private final DType dtype;
    private final int[] shape;
    private final int size;
    final float[] f;
    final short[] h;
    final int[] i;
    private final JavaTensor base;
    private boolean closed;

    private JavaTensor(JavaDevice device, DType dtype, int[] shape, float[] f, short[] h, int[] i, JavaTensor base) {
        this.device = device;
        this.dtype = dtype;
        this.shape = shape;
        this.size = checkedSize(shape);
        this.f = f;
        this.h = h;
        this.i = i;
        this.base = base;
    }

    static JavaTensor allocate(JavaDevice device, DType dtype, int... shape) {
        int[] s = Tensor.checkShape(shape);
        int n = checkedSize(s);
        return switch (dtype) {
            case F32 -> new JavaTensor(device, dtype, s, new float[n], null, null, null);
            case BF16 -> new JavaTensor(device, dtype, s, null, new short[n], null, null);
            case I32 -> new JavaTensor(device, dtype, s, null, null, new int[n], null);
        };
    }

    private static int checkedSize(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("the java backend holds at most 2^31 - 9 elements per tensor; shape "
                    + Arrays.toString(shape) + " has " + n);
        }
        return (int) n;
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    @Override
    public int rank() {
        return shape.length;
    }

    @Override
    public long size() {
        return size;
    }

    /** Number of elements as an int (the java backend's arrays are int-indexed). */
    int length() {
        return size;
    }

    @Override
    public int rows() {
        return shape.length == 2 ? shape[0] : 1;
    }

    @Override
    public int cols() {
        return shape[shape.length - 1];
    }

    /** The float array of an F32 tensor. */
    public float[] floats() {
        checkOpen();
        if (f == null) {
            throw new IllegalArgumentException("expected an F32 tensor, got " + dtype);
        }
        return f;
    }

    /** The int array of an I32 tensor. */
    public int[] ints() {
        checkOpen();
        if (i == null) {
            throw new IllegalArgumentException("expected an I32 tensor, got " + dtype);
        }
        return i;
    }

    /** The raw bf16 bits of a BF16 tensor. */
    public short[] bf16() {
        checkOpen();
        if (h == null) {
            throw new IllegalArgumentException("expected a BF16 tensor, got " + dtype);
        }
        return h;
    }

    @Override
    public Tensor view(int... newShape) {
        checkOpen();
        int[] s = Tensor.checkShape(newShape);
        if (checkedSize(s) != size) {
            throw new IllegalArgumentException("cannot view shape " + Arrays.toString(shape) + " as "
                    + Arrays.toString(s) + ": sizes differ");
        }
        return new JavaTensor(device, dtype, s, f, h, i, base != null ? base : this);
    }

    @Override
    public void copyFrom(float[] src, int offset) {
        checkOpen();
        checkRange(src.length, offset);
        switch (dtype) {
            case F32 -> System.arraycopy(src, offset, f, 0, size);
            case BF16 -> {
                for (int k = 0; k < size; k++) {
                    h[k] = BFloat16.fromFloat(src[offset + k]);
                }
            }
            case I32 -> throw new IllegalArgumentException("copyFrom(float[]) into an I32 tensor; use copyFrom(int[])");
        }
    }

    @Override
    public void copyTo(float[] dst, int offset) {
        checkOpen();
        checkRange(dst.length, offset);
        switch (dtype) {
            case F32 -> System.arraycopy(f, 0, dst, offset, size);
            case BF16 -> {
                for (int k = 0; k < size; k++) {
                    dst[offset + k] = BFloat16.toFloat(h[k]);
                }
            }
            case I32 -> throw new IllegalArgumentException("copyTo(float[]) from an I32 tensor; use copyTo(int[])");
        }
    }

    @Override
    public void copyFrom(int[] src, int offset) {
        checkOpen();
        checkRange(src.length, offset);
        System.arraycopy(src, offset, ints(), 0, size);
    }

    @Override
    public void copyTo(int[] dst, int offset) {
        checkOpen();
        checkRange(dst.length, offset);
        System.arraycopy(ints(), 0, dst, offset, size);
    }

    @Override
    public void copyFromBf16(short[] src, int offset) {
        checkOpen();
        checkRange(src.length, offset);
        switch (dtype) {
            case BF16 -> System.arraycopy(src, offset, h, 0, size);
            case F32 -> {
                for (int k = 0; k < size; k++) {
                    f[k] = BFloat16.toFloat(src[offset + k]);
                }
            }
            case I32 -> throw new IllegalArgumentException("copyFromBf16 into an I32 tensor");
        }
    }

    private void checkRange(int length, int offset) {
        if (offset < 0 || (long) offset + size > length) {
            throw new IllegalArgumentException("host array of length " + length + " from offset " + offset
                    + " cannot hold the " + size + " elements of tensor " + Arrays.toString(shape));
        }
    }

    void checkOpen() {
        if (closed || (base != null && base.closed)) {
            throw new IllegalStateException("tensor " + Arrays.toString(shape) + " was closed");
        }
    }

    @Override
    public void close() {
        if (base == null) {
            closed = true;
        }
    }

    @Override
    public String toString() {
        return "JavaTensor" + Arrays.toString(shape) + " " + dtype;
    }
}
