package io.github.sae4j.api.backend;

import java.util.Arrays;

/**
 * The argument checks every {@link TensorOps} implementation makes, with the same messages on every backend: where
 * a tensor lives, its type, its shape.
 */
public final class TensorArgs {

    private TensorArgs() {
    }

    /**
     * {@code tensor} as the backend's own tensor class, after checking it is not null and lives on {@code device}.
     *
     * @param what the argument, for the message ("gemm A")
     */
    public static <T extends Tensor> T on(Tensor tensor, Device device, Class<T> type, String what) {
        if (tensor == null) {
            throw new IllegalArgumentException(what + " is null");
        }
        if (!type.isInstance(tensor) || tensor.device() != device) {
            throw new IllegalArgumentException(what + " lives on " + tensor.device().backend().name() + " device "
                    + tensor.device().index() + ", not on this " + device.backend().name() + " device");
        }
        return type.cast(tensor);
    }

    /** Checks that {@code tensor} holds {@code dtype}. */
    public static void dtype(Tensor tensor, DType dtype, String what) {
        if (tensor.dtype() != dtype) {
            throw new IllegalArgumentException(what + " must be " + dtype + ", got " + tensor.dtype());
        }
    }

    public static void sameSize(Tensor a, Tensor b, String op) {
        if (a.size() != b.size()) {
            throw new IllegalArgumentException(op + ": sizes differ, " + Arrays.toString(a.shape()) + " vs "
                    + Arrays.toString(b.shape()));
        }
    }

    public static void shape(Tensor t, int rows, int cols, String what) {
        if (t.rows() != rows || t.cols() != cols) {
            throw new IllegalArgumentException(what + " must have shape [" + rows + ", " + cols + "], got "
                    + Arrays.toString(t.shape()));
        }
    }

    public static void length(Tensor t, long n, String what) {
        if (t.size() != n) {
            throw new IllegalArgumentException(what + " must have " + n + " elements, got " + Arrays.toString(t.shape()));
        }
    }
}
