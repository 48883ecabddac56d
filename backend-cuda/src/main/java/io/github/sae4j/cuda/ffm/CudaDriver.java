package io.github.sae4j.cuda.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Map;

/**
 * The CUDA driver API ({@code libcuda.so.1}), the calls the backend makes and no others. Every status is checked: a
 * failure throws {@link CudaException} naming the call and the error (cuGetErrorName, cuGetErrorString).
 * {@code CUdeviceptr} is a 64-bit integer ({@code long}); contexts, streams, modules and functions are pointers.
 */
public final class CudaDriver extends NativeBinding {

    public static final int CUDA_SUCCESS = 0;
    public static final int CUDA_ERROR_OUT_OF_MEMORY = 2;
    public static final int CUDA_ERROR_NO_DEVICE = 100;
    public static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    public static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    public static final int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    /** A stream that does not synchronize with the legacy default stream. */
    public static final int CU_STREAM_NON_BLOCKING = 1;

    /** Names of the driver's errors, for when cuGetErrorName itself cannot answer (cuda.h, CUDA 13.0). */
    static final Map<Integer, String> ERROR_NAMES = Map.ofEntries(
            Map.entry(0, "CUDA_SUCCESS"), Map.entry(1, "CUDA_ERROR_INVALID_VALUE"),
            Map.entry(2, "CUDA_ERROR_OUT_OF_MEMORY"), Map.entry(3, "CUDA_ERROR_NOT_INITIALIZED"),
            Map.entry(4, "CUDA_ERROR_DEINITIALIZED"), Map.entry(34, "CUDA_ERROR_STUB_LIBRARY"),
            Map.entry(35, "CUDA_ERROR_INSUFFICIENT_DRIVER"), Map.entry(36, "CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER"),
            Map.entry(46, "CUDA_ERROR_DEVICE_UNAVAILABLE"), Map.entry(100, "CUDA_ERROR_NO_DEVICE"),
            Map.entry(101, "CUDA_ERROR_INVALID_DEVICE"), Map.entry(200, "CUDA_ERROR_INVALID_IMAGE"),
            Map.entry(201, "CUDA_ERROR_INVALID_CONTEXT"), Map.entry(209, "CUDA_ERROR_NO_BINARY_FOR_GPU"),
            Map.entry(218, "CUDA_ERROR_INVALID_PTX"), Map.entry(222, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION"),
            Map.entry(400, "CUDA_ERROR_INVALID_HANDLE"), Map.entry(500, "CUDA_ERROR_NOT_FOUND"),
            Map.entry(700, "CUDA_ERROR_ILLEGAL_ADDRESS"), Map.entry(701, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES"),
            Map.entry(702, "CUDA_ERROR_LAUNCH_TIMEOUT"), Map.entry(719, "CUDA_ERROR_LAUNCH_FAILED"),
            Map.entry(801, "CUDA_ERROR_NOT_SUPPORTED"), Map.entry(803, "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH"),
            Map.entry(804, "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE"), Map.entry(999, "CUDA_ERROR_UNKNOWN"));

    private final MethodHandle cuGetErrorName;
    private final MethodHandle cuGetErrorString;
    private final MethodHandle cuInit;
    private final MethodHandle cuDriverGetVersion;
    private final MethodHandle cuDeviceGetCount;
    private final MethodHandle cuDeviceGet;
    private final MethodHandle cuDeviceGetName;
    private final MethodHandle cuDeviceTotalMem;
    private final MethodHandle cuDeviceGetAttribute;
    private final MethodHandle cuDevicePrimaryCtxRetain;
    private final MethodHandle cuDevicePrimaryCtxRelease;
    private final MethodHandle cuCtxSetCurrent;
    private final MethodHandle cuStreamCreate;
    private final MethodHandle cuStreamDestroy;
    private final MethodHandle cuStreamSynchronize;
    private final MethodHandle cuMemAlloc;
    private final MethodHandle cuMemFree;
    private final MethodHandle cuMemGetInfo;
    private final MethodHandle cuMemcpyHtoDAsync;
    private final MethodHandle cuMemcpyDtoHAsync;
    private final MethodHandle cuMemcpyDtoDAsync;
    private final MethodHandle cuMemsetD8Async;
    private final MethodHandle cuMemsetD16Async;
    private final MethodHandle cuMemsetD32Async;
    private final MethodHandle cuModuleLoadData;
    private final MethodHandle cuModuleGetFunction;
    private final MethodHandle cuModuleUnload;
    private final MethodHandle cuLaunchKernel;

    private CudaDriver(NativeLibraries.Found library) {
        super(library);
        FunctionDescriptor intPtr = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        cuGetErrorName = function("cuGetErrorName", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        cuGetErrorString = function("cuGetErrorString", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        cuInit = function("cuInit", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        cuDriverGetVersion = function("cuDriverGetVersion", intPtr);
        cuDeviceGetCount = function("cuDeviceGetCount", intPtr);
        cuDeviceGet = function("cuDeviceGet", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuDeviceGetName = function("cuDeviceGetName", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        cuDeviceTotalMem = function("cuDeviceTotalMem_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuDeviceGetAttribute = function("cuDeviceGetAttribute",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        cuDevicePrimaryCtxRetain = function("cuDevicePrimaryCtxRetain",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuDevicePrimaryCtxRelease = function("cuDevicePrimaryCtxRelease_v2", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        cuCtxSetCurrent = function("cuCtxSetCurrent", intPtr);
        cuStreamCreate = function("cuStreamCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuStreamDestroy = function("cuStreamDestroy_v2", intPtr);
        cuStreamSynchronize = function("cuStreamSynchronize", intPtr);
        cuMemAlloc = function("cuMemAlloc_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        cuMemFree = function("cuMemFree_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
        cuMemGetInfo = function("cuMemGetInfo_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cuMemcpyHtoDAsync = function("cuMemcpyHtoDAsync_v2",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS));
        cuMemcpyDtoHAsync = function("cuMemcpyDtoHAsync_v2",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
        cuMemcpyDtoDAsync = function("cuMemcpyDtoDAsync_v2",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS));
        // The unsigned char / unsigned short value goes as a zero-extended int: the same register either way, and no
        // reliance on who extends sub-word arguments.
        cuMemsetD8Async = function("cuMemsetD8Async",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS));
        cuMemsetD16Async = function("cuMemsetD16Async",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS));
        cuMemsetD32Async = function("cuMemsetD32Async",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS));
        cuModuleLoadData = function("cuModuleLoadData", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cuModuleGetFunction = function("cuModuleGetFunction",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        cuModuleUnload = function("cuModuleUnload", intPtr);
        cuLaunchKernel = function("cuLaunchKernel", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    }

    /** The message when there is no driver library: what was searched, why it is needed, what to do instead. */
    public static String noDriverMessage(List<String> directories) {
        return "no NVIDIA driver: libcuda.so.1 not found in " + String.join(", ", directories)
                + " or by the dynamic linker; the cuda backend needs a GPU with its driver; use --backend java";
    }

    /**
     * Loads libcuda.so.1 and initializes the driver ({@code cuInit}).
     *
     * @throws IllegalStateException with {@link #noDriverMessage} when there is no driver, or the failed call and
     *                               its error (no device, a driver too old for the machine's GPUs, ...)
     */
    public static CudaDriver load(List<String> directories) {
        NativeLibraries.Found found = NativeLibraries.load(List.of("libcuda.so.1"), directories)
                .orElseThrow(() -> new IllegalStateException(noDriverMessage(directories)));
        CudaDriver driver = new CudaDriver(found);
        int rc = status(driver.cuInit, 0);
        if (rc == CUDA_ERROR_NO_DEVICE) {
            throw new IllegalStateException("no CUDA device: the NVIDIA driver (" + found.location()
                    + ") is installed but cuInit finds no GPU (CUDA_ERROR_NO_DEVICE); check nvidia-smi and "
                    + "CUDA_VISIBLE_DEVICES, or use --backend java");
        }
        driver.check(rc, "cuInit");
        return driver;
    }

    /** Throws {@link CudaException} naming {@code call} unless {@code rc} is CUDA_SUCCESS. */
    public void check(int rc, String call) {
        if (rc != CUDA_SUCCESS) {
            throw new CudaException(call, rc, errorName(rc), errorString(rc));
        }
    }

    /** The error's name from cuGetErrorName, or from the table, or {@code CUresult N}. */
    public String errorName(int rc) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            if (status(cuGetErrorName, rc, out) == CUDA_SUCCESS) {
                String s = cString(out.get(ADDRESS, 0));
                if (s != null) {
                    return s;
                }
            }
        }
        return errorNameFromTable(rc);
    }

    /** The table's name for a driver status, or {@code CUresult N} for one it does not know. */
    public static String errorNameFromTable(int rc) {
        return ERROR_NAMES.getOrDefault(rc, "CUresult " + rc);
    }

    /** The error's description from cuGetErrorString, or null. */
    public String errorString(int rc) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            if (status(cuGetErrorString, rc, out) == CUDA_SUCCESS) {
                return cString(out.get(ADDRESS, 0));
            }
        }
        return null;
    }

    private int intOut(MethodHandle handle, String call, Object... argsAfterOut) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            Object[] args = new Object[argsAfterOut.length + 1];
            args[0] = out;
            System.arraycopy(argsAfterOut, 0, args, 1, argsAfterOut.length);
            check(status(handle, args), call);
            return out.get(JAVA_INT, 0);
        }
    }

    private MemorySegment pointerOut(MethodHandle handle, String call, Object... argsAfterOut) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            Object[] args = new Object[argsAfterOut.length + 1];
            args[0] = out;
            System.arraycopy(argsAfterOut, 0, args, 1, argsAfterOut.length);
            check(status(handle, args), call);
            return out.get(ADDRESS, 0);
        }
    }

    /** The CUDA version the driver supports, as 1000 * major + 10 * minor (12040 for 12.4). */
    public int driverVersion() {
        return intOut(cuDriverGetVersion, "cuDriverGetVersion");
    }

    public int deviceCount() {
        return intOut(cuDeviceGetCount, "cuDeviceGetCount");
    }

    /** The CUdevice of ordinal {@code ordinal}. */
    public int device(int ordinal) {
        return intOut(cuDeviceGet, "cuDeviceGet", ordinal);
    }

    public String deviceName(int device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocate(256);
            check(status(cuDeviceGetName, name, 256, device), "cuDeviceGetName");
            return name.getString(0);
        }
    }

    public long totalMemory(int device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            check(status(cuDeviceTotalMem, out, device), "cuDeviceTotalMem_v2");
            return out.get(JAVA_LONG, 0);
        }
    }

    public int attribute(int attribute, int device) {
        return intOut(cuDeviceGetAttribute, "cuDeviceGetAttribute(" + attribute + ")", attribute, device);
    }

    public MemorySegment retainPrimaryContext(int device) {
        return pointerOut(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", device);
    }

    public void releasePrimaryContext(int device) {
        check(status(cuDevicePrimaryCtxRelease, device), "cuDevicePrimaryCtxRelease_v2");
    }

    /** Makes {@code context} current on the calling thread (driver calls act on the current context). */
    public void setCurrent(MemorySegment context) {
        check(status(cuCtxSetCurrent, context), "cuCtxSetCurrent");
    }

    public MemorySegment createStream(int flags) {
        return pointerOut(cuStreamCreate, "cuStreamCreate", flags);
    }

    public void destroyStream(MemorySegment stream) {
        check(status(cuStreamDestroy, stream), "cuStreamDestroy_v2");
    }

    public void synchronize(MemorySegment stream) {
        check(status(cuStreamSynchronize, stream), "cuStreamSynchronize");
    }

    /** Allocates device memory; the status is returned, not thrown, so that the caller can explain running out. */
    public int tryAllocate(long bytes, long[] pointer) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            int rc = status(cuMemAlloc, out, bytes);
            pointer[0] = out.get(JAVA_LONG, 0);
            return rc;
        }
    }

    public void free(long pointer) {
        check(status(cuMemFree, pointer), "cuMemFree_v2");
    }

    /** {@code [free, total]} bytes of the current context's device. */
    public long[] memoryInfo() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment free = arena.allocate(JAVA_LONG);
            MemorySegment total = arena.allocate(JAVA_LONG);
            check(status(cuMemGetInfo, free, total), "cuMemGetInfo_v2");
            return new long[] {free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0)};
        }
    }

    public void copyHostToDevice(long dst, MemorySegment src, long bytes, MemorySegment stream) {
        check(status(cuMemcpyHtoDAsync, dst, src, bytes, stream), "cuMemcpyHtoDAsync_v2");
    }

    public void copyDeviceToHost(MemorySegment dst, long src, long bytes, MemorySegment stream) {
        check(status(cuMemcpyDtoHAsync, dst, src, bytes, stream), "cuMemcpyDtoHAsync_v2");
    }

    public void copyDeviceToDevice(long dst, long src, long bytes, MemorySegment stream) {
        check(status(cuMemcpyDtoDAsync, dst, src, bytes, stream), "cuMemcpyDtoDAsync_v2");
    }

    public void memsetD8(long dst, byte value, long count, MemorySegment stream) {
        check(status(cuMemsetD8Async, dst, value & 0xFF, count, stream), "cuMemsetD8Async");
    }

    public void memsetD16(long dst, short value, long count, MemorySegment stream) {
        check(status(cuMemsetD16Async, dst, value & 0xFFFF, count, stream), "cuMemsetD16Async");
    }

    public void memsetD32(long dst, int value, long count, MemorySegment stream) {
        check(status(cuMemsetD32Async, dst, value, count, stream), "cuMemsetD32Async");
    }

    /** Loads a module from a NUL-terminated PTX text or a cubin image. */
    public MemorySegment loadModule(MemorySegment image) {
        return pointerOut(cuModuleLoadData, "cuModuleLoadData", image);
    }

    public MemorySegment function(MemorySegment module, String name) {
        try (Arena arena = Arena.ofConfined()) {
            return pointerOut(cuModuleGetFunction, "cuModuleGetFunction(" + name + ")", module,
                    arena.allocateFrom(name));
        }
    }

    public void unloadModule(MemorySegment module) {
        check(status(cuModuleUnload, module), "cuModuleUnload");
    }

    /** Launches {@code function}; {@code params} is the {@code void**} array of pointers to each argument. */
    public void launch(MemorySegment function, String name, int gridX, int gridY, int blockX, int sharedBytes,
                       MemorySegment stream, MemorySegment params) {
        check(status(cuLaunchKernel, function, gridX, gridY, 1, blockX, 1, 1, sharedBytes, stream, params,
                MemorySegment.NULL), "cuLaunchKernel(" + name + ")");
    }
}
