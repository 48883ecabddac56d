package io.github.sae4j.cuda;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.backend.DType;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.backend.TensorOps;
import io.github.sae4j.cuda.ffm.CudaDriver;
import io.github.sae4j.cuda.ffm.Cublas;
import io.github.sae4j.cuda.ffm.Nvrtc;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One NVIDIA GPU: its primary context, one stream that every op and copy of this device is queued on (so they run in
 * call order), a cuBLAS handle bound to that stream, the NVRTC-compiled kernel modules (compiled at first use), and
 * a scratch buffer the ops share. Calls from several threads are serialized by a lock.
 *
 * <p>Who allocates, frees: {@link #allocate} returns a tensor the caller closes; the device frees its own scratch,
 * modules, handle and stream when the backend closes, and releases the primary context (which frees whatever
 * tensors were left open).
 */
public final class CudaDevice implements Device {

    /** Kernel source files under {@code io/github/sae4j/cuda/kernels/}. */
    public static final List<String> KERNEL_FILES = List.of("elementwise.cu", "reduce.cu", "topk.cu", "sparse.cu");
    /** Options every kernel file is compiled with: no contraction of a * b + c, so the arithmetic is Java's. */
    public static final List<String> COMPILE_OPTIONS = List.of("--fmad=false", "--std=c++17");
    /** Whole-tensor reductions run on this fixed grid (a fixed summation order whatever the GPU). */
    static final int REDUCE_BLOCKS = 1024;

    private final CudaBackend backend;
    private final int index;
    private final int ordinal;
    private final int cuDevice;
    private final String name;
    private final long totalMemory;
    private final int computeCapability;
    private final CudaDriver driver;
    private final Cublas cublas;
    private final Nvrtc nvrtc;
    private final MemorySegment context;
    private final MemorySegment stream;
    private final MemorySegment cublasHandle;
    private final boolean tf32;
    private final CudaOps ops;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<String, MemorySegment> modules = new HashMap<>();
    private final Map<String, MemorySegment> functions = new HashMap<>();
    private final long partials;
    private final long errorFlag;
    private long scratch;
    private long scratchBytes;
    private boolean sparseOpsUnchecked;
    private boolean closed;

    CudaDevice(CudaBackend backend, int index, int ordinal, CudaDriver driver, Cublas cublas, Nvrtc nvrtc,
               boolean tf32) {
        this.backend = backend;
        this.index = index;
        this.driver = driver;
        this.cublas = cublas;
        this.nvrtc = nvrtc;
        this.tf32 = tf32;
        this.ordinal = ordinal;
        this.cuDevice = driver.device(ordinal);
        this.name = driver.deviceName(cuDevice);
        this.totalMemory = driver.totalMemory(cuDevice);
        this.computeCapability = 10 * driver.attribute(CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                cuDevice) + driver.attribute(CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, cuDevice);
        this.context = driver.retainPrimaryContext(cuDevice);
        driver.setCurrent(context);
        this.stream = driver.createStream(CudaDriver.CU_STREAM_NON_BLOCKING);
        this.cublasHandle = cublas.create();
        cublas.setStream(cublasHandle, stream);
        cublas.setMathMode(cublasHandle, tf32 ? Cublas.CUBLAS_TF32_TENSOR_OP_MATH : Cublas.CUBLAS_DEFAULT_MATH);
        this.partials = allocateBytes(8L * REDUCE_BLOCKS, "reduction partials");
        this.errorFlag = allocateBytes(16, "sparse index error flag");
        driver.memsetD8(errorFlag, (byte) 0, 16, stream);
        this.ops = new CudaOps(this);
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public int index() {
        return index;
    }

    @Override
    public String description() {
        return String.format(Locale.ROOT, "CUDA device %d: %s, compute capability %d.%d, %.1f GiB, %s GEMM (cuBLAS %s)",
                ordinal, name, computeCapability / 10, computeCapability % 10, totalMemory / (double) (1L << 30),
                tf32 ? "TF32" : "FP32", cublas.soname());
    }

    @Override
    public long memoryBytes() {
        return totalMemory;
    }

    @Override
    public Tensor allocate(DType dtype, int... shape) {
        return CudaTensor.allocate(this, dtype, shape);
    }

    @Override
    public TensorOps ops() {
        return ops;
    }

    @Override
    public void synchronize() {
        lock.lock();
        try {
            enter();
            driver.synchronize(stream);
            checkSparseIndexErrors();
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ internals for tensors and ops

    /** Takes the device lock and makes its context current on this thread; pair with {@link #exit}. */
    void enter() {
        lock.lock();
        if (closed) {
            lock.unlock();
            throw new IllegalStateException("the cuda backend was closed; its device " + index + " is gone");
        }
        try {
            driver.setCurrent(context);
        } catch (RuntimeException e) {
            lock.unlock();
            throw e;
        }
    }

    void exit() {
        lock.unlock();
    }

    boolean isClosed() {
        return closed;
    }

    CudaDriver driver() {
        return driver;
    }

    MemorySegment stream() {
        return stream;
    }

    /** Device memory of {@code bytes}, or an error with the size, the free and total memory and what to do. */
    long allocateBytes(long bytes, String what) {
        long[] pointer = new long[1];
        int rc = driver.tryAllocate(Math.max(1, bytes), pointer);
        if (rc == CudaDriver.CUDA_ERROR_OUT_OF_MEMORY) {
            long[] info = driver.memoryInfo();
            throw new IllegalStateException(outOfMemoryMessage(index + " (" + name + ")", bytes, what, info[0],
                    info[1]));
        }
        driver.check(rc, "cuMemAlloc_v2(" + bytes + " bytes for " + what + ")");
        return pointer[0];
    }

    /** The out-of-memory message: the request, the free and total memory, and the fix. */
    static String outOfMemoryMessage(String device, long requested, String what, long free, long total) {
        return String.format(Locale.ROOT, "cuda device %s is out of memory: %s needs %s, but only %s of %s are free; "
                        + "use a smaller batch size (--batch-size) or fewer latents, or free the GPU of other processes "
                        + "(nvidia-smi)", device, what, bytes(requested), bytes(free), bytes(total));
    }

    static String bytes(long n) {
        if (n >= 1L << 30) {
            return String.format(Locale.ROOT, "%.2f GiB", n / (double) (1L << 30));
        }
        if (n >= 1L << 20) {
            return String.format(Locale.ROOT, "%.1f MiB", n / (double) (1L << 20));
        }
        return n + " bytes";
    }

    /** Frees device memory after the queued work that may still use it. */
    void freeBytes(long pointer) {
        driver.synchronize(stream);
        driver.free(pointer);
    }

    /** A scratch buffer of at least {@code bytes}, valid until the next call; grows as needed. */
    long scratch(long bytes) {
        if (bytes > scratchBytes) {
            if (scratch != 0) {
                freeBytes(scratch);
                scratch = 0;
                scratchBytes = 0;
            }
            long size = Math.max(bytes, 1L << 20);
            scratch = allocateBytes(size, "scratch space of an op");
            scratchBytes = size;
        }
        return scratch;
    }

    long partials() {
        return partials;
    }

    long errorFlag() {
        sparseOpsUnchecked = true;
        return errorFlag;
    }

    /** Copies {@code bytes} from the host to the device and waits. */
    void upload(MemorySegment host, long devicePointer, long bytes) {
        if (bytes > 0) {
            driver.copyHostToDevice(devicePointer, host, bytes, stream);
            driver.synchronize(stream);
        }
    }

    /** Waits for the queued work, then copies {@code bytes} from the device to the host. */
    void download(long devicePointer, MemorySegment host, long bytes) {
        if (bytes > 0) {
            driver.copyDeviceToHost(host, devicePointer, bytes, stream);
        }
        driver.synchronize(stream);
        checkSparseIndexErrors();
    }

    /** The sum, in block order, of the reduction partials the last reduce kernel wrote. */
    double sumPartials() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(JAVA_DOUBLE, REDUCE_BLOCKS);
            download(partials, host, 8L * REDUCE_BLOCKS);
            double total = 0;
            for (int i = 0; i < REDUCE_BLOCKS; i++) {
                total += host.getAtIndex(JAVA_DOUBLE, i);
            }
            return total;
        }
    }

    private static final String[] SPARSE_OPS = {"", "sparseDecode", "sparseRowDots", "sparseAccumulateRows",
            "sparseColumnSums", "", "sparseColumnCountPositive"};

    /** Throws if a sparse kernel met an index outside [-1, n) since the last check (it skipped it). */
    private void checkSparseIndexErrors() {
        if (!sparseOpsUnchecked) {
            return;
        }
        sparseOpsUnchecked = false;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment flag = arena.allocate(JAVA_INT, 4);
            driver.copyDeviceToHost(flag, errorFlag, 16, stream);
            driver.synchronize(stream);
            int op = flag.getAtIndex(JAVA_INT, 0);
            if (op != 0) {
                driver.memsetD8(errorFlag, (byte) 0, 16, stream);
                driver.synchronize(stream);
                String opName = op > 0 && op < SPARSE_OPS.length ? SPARSE_OPS[op] : "a sparse op";
                throw new IndexOutOfBoundsException(opName + ": latent index " + flag.getAtIndex(JAVA_INT, 1)
                        + " outside [0, " + flag.getAtIndex(JAVA_INT, 2) + ") (the cuda backend skipped it and "
                        + "reports it at the next synchronization)");
            }
        }
    }

    void gemm(GemmLayout g, float alpha, long a, long b, float beta, long c) {
        cublas.sgemm(cublasHandle, g.opFirst(), g.opSecond(), g.m(), g.n(), g.k(), alpha, b, g.ldFirst(), a,
                g.ldSecond(), beta, c, g.ldc());
    }

    /** Queues {@code kernel} of {@code file} on this device's stream; nothing is launched for an empty grid. */
    void launch(String file, String kernel, long gridX, int gridY, KernelArgs args) {
        if (gridX <= 0 || gridY <= 0) {
            return;
        }
        if (gridX > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(kernel + ": grid of " + gridX + " blocks is too large");
        }
        MemorySegment function = function(file, kernel);
        try (Arena arena = Arena.ofConfined()) {
            driver.launch(function, kernel, (int) gridX, gridY, 256, 0, stream, args.build(arena));
        }
    }

    private MemorySegment function(String file, String kernel) {
        MemorySegment f = functions.get(kernel);
        if (f == null) {
            MemorySegment module = modules.get(file);
            if (module == null) {
                module = compile(file);
                modules.put(file, module);
            }
            f = driver.function(module, kernel);
            functions.put(kernel, f);
        }
        return f;
    }

    private MemorySegment compile(String file) {
        String target = Nvrtc.targetFor(computeCapability, nvrtc.supportedArchitectures());
        Nvrtc.Image image = nvrtc.compile(file, kernelSource(file), target, COMPILE_OPTIONS);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment bytes = arena.allocate(image.bytes().length + 1L);
            MemorySegment.copy(image.bytes(), 0, bytes, ValueLayout.JAVA_BYTE, 0, image.bytes().length);
            return driver.loadModule(bytes);
        }
    }

    /** The CUDA C source of a kernel file, from the jar. */
    public static String kernelSource(String file) {
        String path = "/io/github/sae4j/cuda/kernels/" + file;
        try (InputStream in = CudaDevice.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("kernel source " + path + " is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Frees what the device holds and releases its primary context. */
    void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            RuntimeException first = null;
            try {
                driver.setCurrent(context);
                driver.synchronize(stream);
                for (MemorySegment module : modules.values()) {
                    driver.unloadModule(module);
                }
                if (scratch != 0) {
                    driver.free(scratch);
                }
                driver.free(partials);
                driver.free(errorFlag);
                cublas.destroy(cublasHandle);
                driver.destroyStream(stream);
            } catch (RuntimeException e) {
                first = e;
            }
            closed = true;
            modules.clear();
            functions.clear();
            try {
                driver.releasePrimaryContext(cuDevice);
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                }
            }
            if (first != null) {
                throw first;
            }
        } finally {
            lock.unlock();
        }
    }
}
