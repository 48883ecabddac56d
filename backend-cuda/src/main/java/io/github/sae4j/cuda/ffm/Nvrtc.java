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
 * NVRTC ({@code libnvrtc.so.13} or {@code .12}): compiles the backend's CUDA C kernels at run time, to a cubin for the
 * device's architecture when NVRTC knows it, else to PTX for the newest architecture it knows (the driver then
 * compiles that for the device). A failed compilation throws with NVRTC's log.
 */
public final class Nvrtc extends NativeBinding {

    /** nvrtcResult names (nvrtc.h), for when nvrtcGetErrorString is not there to ask. */
    static final Map<Integer, String> RESULT_NAMES = Map.ofEntries(Map.entry(0, "NVRTC_SUCCESS"),
            Map.entry(1, "NVRTC_ERROR_OUT_OF_MEMORY"), Map.entry(2, "NVRTC_ERROR_PROGRAM_CREATION_FAILURE"),
            Map.entry(3, "NVRTC_ERROR_INVALID_INPUT"), Map.entry(4, "NVRTC_ERROR_INVALID_PROGRAM"),
            Map.entry(5, "NVRTC_ERROR_INVALID_OPTION"), Map.entry(6, "NVRTC_ERROR_COMPILATION"),
            Map.entry(7, "NVRTC_ERROR_BUILTIN_OPERATION_FAILURE"), Map.entry(11, "NVRTC_ERROR_INTERNAL_ERROR"));

    /** The compiled image: a cubin, or NUL-terminated PTX text; either is what cuModuleLoadData takes. */
    public record Image(byte[] bytes, boolean cubin, String architecture) {
    }

    private final MethodHandle nvrtcGetErrorString;
    private final MethodHandle nvrtcVersion;
    private final MethodHandle nvrtcGetNumSupportedArchs;
    private final MethodHandle nvrtcGetSupportedArchs;
    private final MethodHandle nvrtcCreateProgram;
    private final MethodHandle nvrtcCompileProgram;
    private final MethodHandle nvrtcGetProgramLogSize;
    private final MethodHandle nvrtcGetProgramLog;
    private final MethodHandle nvrtcGetPTXSize;
    private final MethodHandle nvrtcGetPTX;
    private final MethodHandle nvrtcGetCUBINSize;
    private final MethodHandle nvrtcGetCUBIN;
    private final MethodHandle nvrtcDestroyProgram;

    private Nvrtc(NativeLibraries.Found library) {
        super(library);
        nvrtcGetErrorString = function("nvrtcGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        nvrtcVersion = function("nvrtcVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        nvrtcGetNumSupportedArchs = function("nvrtcGetNumSupportedArchs", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        nvrtcGetSupportedArchs = function("nvrtcGetSupportedArchs", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        nvrtcCreateProgram = function("nvrtcCreateProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS,
                JAVA_INT, ADDRESS, ADDRESS));
        nvrtcCompileProgram = function("nvrtcCompileProgram",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        FunctionDescriptor progSize = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        nvrtcGetProgramLogSize = function("nvrtcGetProgramLogSize", progSize);
        nvrtcGetProgramLog = function("nvrtcGetProgramLog", progSize);
        nvrtcGetPTXSize = function("nvrtcGetPTXSize", progSize);
        nvrtcGetPTX = function("nvrtcGetPTX", progSize);
        nvrtcGetCUBINSize = function("nvrtcGetCUBINSize", progSize);
        nvrtcGetCUBIN = function("nvrtcGetCUBIN", progSize);
        nvrtcDestroyProgram = function("nvrtcDestroyProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    /** Loads the newest NVRTC whose major version the driver supports. */
    public static Nvrtc load(List<String> directories, int driverMajor) {
        return new Nvrtc(Cublas.loadMatching("libnvrtc", "NVRTC", directories, driverMajor));
    }

    /** The result's name: nvrtcGetErrorString's answer, else the table's. */
    public String resultName(int result) {
        String s = cString(pointer(nvrtcGetErrorString, result));
        return s != null ? s : resultNameFromTable(result);
    }

    public static String resultNameFromTable(int result) {
        return RESULT_NAMES.getOrDefault(result, "nvrtcResult " + result);
    }

    private void check(int result, String call) {
        if (result != 0) {
            throw new CudaException(call, result, resultName(result), null);
        }
    }

    /** {@code "major.minor"}. */
    public String version() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment major = arena.allocate(JAVA_INT);
            MemorySegment minor = arena.allocate(JAVA_INT);
            check(status(nvrtcVersion, major, minor), "nvrtcVersion");
            return major.get(JAVA_INT, 0) + "." + minor.get(JAVA_INT, 0);
        }
    }

    /** The architectures this NVRTC compiles for, as 10 * major + minor (90 for sm_90), ascending. */
    public int[] supportedArchitectures() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(JAVA_INT);
            check(status(nvrtcGetNumSupportedArchs, count), "nvrtcGetNumSupportedArchs");
            MemorySegment archs = arena.allocate(JAVA_INT, Math.max(1, count.get(JAVA_INT, 0)));
            check(status(nvrtcGetSupportedArchs, archs), "nvrtcGetSupportedArchs");
            return archs.asSlice(0, 4L * count.get(JAVA_INT, 0)).toArray(JAVA_INT);
        }
    }

    /**
     * What to compile for a device of compute capability {@code deviceArch} (10 * major + minor): a cubin for it when
     * supported, else PTX for the newest supported architecture below it. Returns {@code "sm_90"} or
     * {@code "compute_90"}.
     *
     * @throws IllegalStateException if NVRTC knows no architecture at or below the device's
     */
    public static String targetFor(int deviceArch, int[] supported) {
        int best = -1;
        for (int a : supported) {
            if (a == deviceArch) {
                return "sm_" + a;
            }
            if (a < deviceArch) {
                best = Math.max(best, a);
            }
        }
        if (best < 0) {
            throw new IllegalStateException("NVRTC cannot compile for compute capability " + deviceArch / 10 + "."
                    + deviceArch % 10 + " or any below it");
        }
        return "compute_" + best;
    }

    /**
     * Compiles {@code source} (named {@code name} in messages) for {@code target} ({@link #targetFor}) with the
     * given extra options.
     *
     * @throws CudaException with the compiler's log when compilation fails
     */
    public Image compile(String name, String source, String target, List<String> options) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment prog = arena.allocate(ADDRESS);
            check(status(nvrtcCreateProgram, prog, arena.allocateFrom(source), arena.allocateFrom(name), 0,
                    MemorySegment.NULL, MemorySegment.NULL), "nvrtcCreateProgram(" + name + ")");
            MemorySegment program = prog.get(ADDRESS, 0);
            try {
                List<String> all = new java.util.ArrayList<>();
                all.add("--gpu-architecture=" + target);
                all.addAll(options);
                MemorySegment optionArray = arena.allocate(ADDRESS, all.size());
                for (int i = 0; i < all.size(); i++) {
                    optionArray.setAtIndex(ADDRESS, i, arena.allocateFrom(all.get(i)));
                }
                int rc = status(nvrtcCompileProgram, program, all.size(), optionArray);
                if (rc != 0) {
                    throw new CudaException("nvrtcCompileProgram(" + name + ", " + String.join(" ", all) + ")", rc,
                            resultName(rc), "NVRTC log:\n" + log(arena, program));
                }
                boolean cubin = target.startsWith("sm_");
                MemorySegment size = arena.allocate(JAVA_LONG);
                check(status(cubin ? nvrtcGetCUBINSize : nvrtcGetPTXSize, program, size),
                        cubin ? "nvrtcGetCUBINSize" : "nvrtcGetPTXSize");
                MemorySegment image = arena.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
                check(status(cubin ? nvrtcGetCUBIN : nvrtcGetPTX, program, image), cubin ? "nvrtcGetCUBIN"
                        : "nvrtcGetPTX");
                return new Image(image.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), cubin, target);
            } finally {
                check(status(nvrtcDestroyProgram, prog), "nvrtcDestroyProgram");
            }
        }
    }

    private String log(Arena arena, MemorySegment program) {
        MemorySegment size = arena.allocate(JAVA_LONG);
        if (status(nvrtcGetProgramLogSize, program, size) != 0) {
            return "(no log)";
        }
        MemorySegment log = arena.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
        if (status(nvrtcGetProgramLog, program, log) != 0) {
            return "(no log)";
        }
        return log.getString(0);
    }
}
