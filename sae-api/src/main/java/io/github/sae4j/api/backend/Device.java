package io.github.sae4j.api.backend;

/** One compute device of a {@link Backend}: a CPU thread pool, one GPU, ... It allocates tensors and runs ops on them. */
public interface Device {

    Backend backend();

    /** 0-based index within the backend's {@link Backend#devices()}. */
    int index();

    /** A human-readable description, for example {@code "CPU, 2 threads, AVX2 (256-bit vectors)"}. */
    String description();

    /** Memory available for tensors, in bytes (an estimate on CPU). */
    long memoryBytes();

    /** A new zero-filled tensor. The caller closes it. */
    Tensor allocate(DType dtype, int... shape);

    /** A new F32 tensor holding {@code data} (length must match the shape). */
    default Tensor upload(float[] data, int... shape) {
        Tensor t = allocate(DType.F32, shape);
        if (t.size() != data.length) {
            t.close();
            throw new IllegalArgumentException("upload: " + data.length + " floats do not fill shape "
                    + java.util.Arrays.toString(shape));
        }
        t.copyFrom(data, 0);
        return t;
    }

    /** The operations on this device's tensors. */
    TensorOps ops();

    /** Waits until all queued work on this device has finished (a no-op for synchronous backends). */
    default void synchronize() {
    }
}
