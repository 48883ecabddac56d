package io.github.sae4j.cuda;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.github.sae4j.api.backend.DType;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.core.store.BFloat16;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A tensor in GPU memory: F32 and I32 as 4-byte elements, BF16 as 2-byte raw bfloat16 bits. The tensor that
 * {@link CudaDevice#allocate} returned owns the memory and frees it on {@link #close}; views share it and free
 * nothing.
 */
public final class CudaTensor implements Tensor {

    private final CudaDevice device;
    private final DType dtype;
    private final int[] shape;
    private final long size;
    private final long pointer;
    private final CudaTensor base;
    private boolean closed;

    private CudaTensor(CudaDevice device, DType dtype, int[] shape, long pointer, CudaTensor base) {
        this.device = device;
        this.dtype = dtype;
        this.shape = shape;
        this.size = sizeOf(shape);
        this.pointer = pointer;
        this.base = base;
    }

    static CudaTensor allocate(CudaDevice device, DType dtype, int... shape) {
        int[] s = Tensor.checkShape(shape);
        long bytes = sizeOf(s) * dtype.bytes();
        device.enter();
        try {
            long p = device.allocateBytes(bytes, dtype + " tensor " + Arrays.toString(s));
            if (bytes > 0) {
                device.driver().memsetD8(p, (byte) 0, bytes, device.stream());
            }
            return new CudaTensor(device, dtype, s, p, null);
        } finally {
            device.exit();
        }
    }

    private static long sizeOf(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
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

    @Override
    public int rows() {
        return shape.length == 2 ? shape[0] : 1;
    }

    @Override
    public int cols() {
        return shape[shape.length - 1];
    }

    CudaDevice cudaDevice() {
        return device;
    }

    /** The device address of the first element. */
    long pointer() {
        checkOpen();
        return pointer;
    }

    long bytes() {
        return size * dtype.bytes();
    }

    @Override
    public Tensor view(int... newShape) {
        checkOpen();
        int[] s = Tensor.checkShape(newShape);
        if (sizeOf(s) != size) {
            throw new IllegalArgumentException("cannot view shape " + Arrays.toString(shape) + " as "
                    + Arrays.toString(s) + ": sizes differ");
        }
        return new CudaTensor(device, dtype, s, pointer, base != null ? base : this);
    }

    @Override
    public void copyFrom(float[] src, int offset) {
        checkOpen();
        checkRange(src.length, offset);
        int n = Math.toIntExact(size);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = switch (dtype) {
                case F32 -> {
                    MemorySegment h = arena.allocate(JAVA_FLOAT, Math.max(1, n));
                    MemorySegment.copy(src, offset, h, JAVA_FLOAT, 0, n);
                    yield h;
                }
                case BF16 -> {
                    MemorySegment h = arena.allocate(JAVA_SHORT, Math.max(1, n));
                    for (int k = 0; k < n; k++) {
                        h.setAtIndex(JAVA_SHORT, k, BFloat16.fromFloat(src[offset + k]));
                    }
                    yield h;
                }
                case I32 -> throw new IllegalArgumentException("copyFrom(float[]) into an I32 tensor; use copyFrom(int[])");
            };
            upload(host);
        }
    }

    @Override
    public void copyTo(float[] dst, int offset) {
        checkOpen();
        checkRange(dst.length, offset);
        int n = Math.toIntExact(size);
        if (dtype == DType.I32) {
            throw new IllegalArgumentException("copyTo(float[]) from an I32 tensor; use copyTo(int[])");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(Math.max(1, bytes()));
            download(host);
            if (dtype == DType.F32) {
                MemorySegment.copy(host, JAVA_FLOAT, 0, dst, offset, n);
            } else {
                for (int k = 0; k < n; k++) {
                    dst[offset + k] = BFloat16.toFloat(host.getAtIndex(JAVA_SHORT, k));
                }
            }
        }
    }

    @Override
    public void copyFrom(int[] src, int offset) {
        checkOpen();
        checkRange(src.length, offset);
        requireI32();
        int n = Math.toIntExact(size);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(JAVA_INT, Math.max(1, n));
            MemorySegment.copy(src, offset, host, JAVA_INT, 0, n);
            upload(host);
        }
    }

    @Override
    public void copyTo(int[] dst, int offset) {
        checkOpen();
        checkRange(dst.length, offset);
        requireI32();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(Math.max(1, bytes()));
            download(host);
            MemorySegment.copy(host, JAVA_INT, 0, dst, offset, Math.toIntExact(size));
        }
    }

    /** BF16 bits go up as they are (half the bytes of floats); an F32 tensor widens them on the device. */
    @Override
    public void copyFromBf16(short[] src, int offset) {
        checkOpen();
        checkRange(src.length, offset);
        if (dtype == DType.I32) {
            throw new IllegalArgumentException("copyFromBf16 into an I32 tensor");
        }
        int n = Math.toIntExact(size);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(JAVA_SHORT, Math.max(1, n));
            MemorySegment.copy(src, offset, host, JAVA_SHORT, 0, n);
            if (dtype == DType.BF16) {
                upload(host);
                return;
            }
            device.enter();
            try {
                long staging = device.scratch(2L * n);
                device.upload(host, staging, 2L * n);
                device.launch("elementwise.cu", "bf16_to_f32", CudaOps.elementwiseBlocks(n), 1,
                        new KernelArgs().ptr(staging).ptr(pointer).i64(n));
                device.driver().synchronize(device.stream());
            } finally {
                device.exit();
            }
        }
    }

    private void upload(MemorySegment host) {
        device.enter();
        try {
            device.upload(host, pointer, bytes());
        } finally {
            device.exit();
        }
    }

    private void download(MemorySegment host) {
        device.enter();
        try {
            device.download(pointer, host, bytes());
        } finally {
            device.exit();
        }
    }

    private void requireI32() {
        if (dtype != DType.I32) {
            throw new IllegalArgumentException("expected an I32 tensor, got " + dtype);
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
        if (base != null || closed) {
            return;
        }
        closed = true;
        if (device.isClosed()) {
            return; // the backend is closed: releasing its context freed this memory already
        }
        device.enter();
        try {
            device.freeBytes(pointer);
        } finally {
            device.exit();
        }
    }

    @Override
    public String toString() {
        return "CudaTensor" + Arrays.toString(shape) + " " + dtype;
    }
}
