package io.github.sae4j.cuda.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * cuBLAS ({@code libcublas.so.13} or {@code .12}): a handle per device, bound to the device's stream, and SGEMM.
 * Every status is checked and named ({@link #STATUS_NAMES}).
 */
public final class Cublas extends NativeBinding {

    public static final int CUBLAS_OP_N = 0;
    public static final int CUBLAS_OP_T = 1;
    /** FP32 arithmetic for SGEMM (no tensor cores). */
    public static final int CUBLAS_DEFAULT_MATH = 0;
    /** SGEMM may round its inputs to TF32 on tensor cores (about 10 mantissa bits): faster, less exact. */
    public static final int CUBLAS_TF32_TENSOR_OP_MATH = 3;

    /** cublasStatus_t names (cublas_api.h). */
    static final Map<Integer, String> STATUS_NAMES = Map.of(0, "CUBLAS_STATUS_SUCCESS", 1,
            "CUBLAS_STATUS_NOT_INITIALIZED", 3, "CUBLAS_STATUS_ALLOC_FAILED", 7, "CUBLAS_STATUS_INVALID_VALUE", 8,
            "CUBLAS_STATUS_ARCH_MISMATCH", 11, "CUBLAS_STATUS_MAPPING_ERROR", 13, "CUBLAS_STATUS_EXECUTION_FAILED", 14,
            "CUBLAS_STATUS_INTERNAL_ERROR", 15, "CUBLAS_STATUS_NOT_SUPPORTED", 16, "CUBLAS_STATUS_LICENSE_ERROR");

    /** What a status usually means here, for the exception message. */
    static final Map<Integer, String> STATUS_HINTS = Map.of(1,
            "cuBLAS could not initialize: usually a driver older than this cuBLAS (check nvidia-smi's CUDA version)",
            3, "cuBLAS could not allocate its workspace: the GPU is out of memory", 7,
            "an argument was rejected (a bug in the backend: please report it with the shapes)", 8,
            "this GPU's architecture is not supported by this cuBLAS", 13, "the GPU kernel failed to launch or run");

    private final MethodHandle cublasCreate;
    private final MethodHandle cublasDestroy;
    private final MethodHandle cublasSetStream;
    private final MethodHandle cublasSetMathMode;
    private final MethodHandle cublasSgemm;

    private Cublas(NativeLibraries.Found library) {
        super(library);
        cublasCreate = function("cublasCreate_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        cublasDestroy = function("cublasDestroy_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        cublasSetStream = function("cublasSetStream_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cublasSetMathMode = function("cublasSetMathMode", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cublasSgemm = function("cublasSgemm_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    }

    /**
     * Loads the newest cuBLAS whose major version the driver supports ({@code driverMajor}, from cuDriverGetVersion).
     *
     * @throws IllegalStateException naming what was searched, or the driver that is too old for the cuBLAS found
     */
    public static Cublas load(List<String> directories, int driverMajor) {
        return new Cublas(loadMatching("libcublas", "cuBLAS", directories, driverMajor));
    }

    /** Loads {@code base.so.13} or {@code .12}, preferring the newest the driver can run. */
    static NativeLibraries.Found loadMatching(String base, String what, List<String> directories, int driverMajor) {
        Optional<NativeLibraries.Found> usable = NativeLibraries.load(
                NativeLibraries.sonames(base, supportedMajors(driverMajor)), directories);
        if (usable.isPresent()) {
            return usable.get();
        }
        Optional<NativeLibraries.Found> any = NativeLibraries.load(NativeLibraries.sonames(base, 13, 12), directories);
        if (any.isPresent()) {
            throw new IllegalStateException("the NVIDIA driver supports CUDA " + driverMajor + " but the " + what
                    + " found, " + any.get().location() + ", is CUDA " + sonameMajor(any.get().soname())
                    + " (CUDA_ERROR_INSUFFICIENT_DRIVER); update the driver, or install the CUDA " + driverMajor + " "
                    + base + " and name its directory with --backend-option libs=DIR");
        }
        throw new IllegalStateException(what + " not found: no " + base + ".so.13 or " + base + ".so.12 in "
                + String.join(", ", directories) + " or by the dynamic linker; install the CUDA toolkit's "
                + base.substring(3) + " (CUDA 12 or 13) or name its directory with --backend-option libs=DIR");
    }

    /** The library majors to try for a driver of CUDA major {@code driverMajor}, newest first. */
    static int[] supportedMajors(int driverMajor) {
        return driverMajor >= 13 ? new int[] {13, 12} : driverMajor == 12 ? new int[] {12} : new int[0];
    }

    /** The status's name, for example {@code CUBLAS_STATUS_NOT_INITIALIZED}. */
    public static String statusName(int status) {
        return STATUS_NAMES.getOrDefault(status, "cublasStatus_t " + status);
    }

    static void check(int status, String call) {
        if (status != 0) {
            throw new CudaException(call, status, statusName(status), STATUS_HINTS.get(status));
        }
    }

    /** A new handle on the current context's device. */
    public MemorySegment create() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check(status(cublasCreate, out), "cublasCreate_v2");
            return out.get(ADDRESS, 0);
        }
    }

    public void destroy(MemorySegment handle) {
        check(status(cublasDestroy, handle), "cublasDestroy_v2");
    }

    public void setStream(MemorySegment handle, MemorySegment stream) {
        check(status(cublasSetStream, handle, stream), "cublasSetStream_v2");
    }

    public void setMathMode(MemorySegment handle, int mode) {
        check(status(cublasSetMathMode, handle, mode), "cublasSetMathMode");
    }

    /** Column-major {@code C = alpha op(A) op(B) + beta C}; A, B, C are device pointers; alpha, beta on the host. */
    public void sgemm(MemorySegment handle, int transA, int transB, int m, int n, int k, float alpha, long a, int lda,
                      long b, int ldb, float beta, long c, int ldc) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment al = arena.allocateFrom(JAVA_FLOAT, alpha);
            MemorySegment be = arena.allocateFrom(JAVA_FLOAT, beta);
            check(status(cublasSgemm, handle, transA, transB, m, n, k, al, MemorySegment.ofAddress(a), lda,
                    MemorySegment.ofAddress(b), ldb, be, MemorySegment.ofAddress(c), ldc), "cublasSgemm_v2");
        }
    }
}
