package io.github.sae4j.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks the kernel sources without a GPU: each {@code .cu} file compiles with nvcc to PTX for sm_90 (Hopper) with
 * the options NVRTC gets, and every kernel the Java side launches exists in its file with parameters of the sizes
 * and kinds the Java side passes (a mismatch there would be undefined behaviour on the GPU, not an exception).
 */
class KernelSourcesCompileTest {

    private static final Path OPS_SOURCES = Path.of("src/main/java/io/github/sae4j/cuda");
    private static final Map<String, String> FILE_CONSTANTS = Map.of("ELEMENTWISE", "elementwise.cu", "REDUCE",
            "reduce.cu", "TOPK", "topk.cu", "SPARSE", "sparse.cu", "\"elementwise.cu\"", "elementwise.cu");

    private static Map<String, String> ptx;

    @TempDir
    static Path work;

    static String nvcc() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isBlank() && Files.isExecutable(Path.of(dir, "nvcc"))) {
                return Path.of(dir, "nvcc").toString();
            }
        }
        for (String candidate : List.of("/usr/local/cuda/bin/nvcc", "/usr/local/bin/nvcc")) {
            if (Files.isExecutable(Path.of(candidate))) {
                return candidate;
            }
        }
        return null;
    }

    @BeforeAll
    static void compileAll() throws Exception {
        String nvcc = nvcc();
        Assumptions.assumeTrue(nvcc != null, "nvcc is not on the PATH or at /usr/local/cuda/bin: the kernel sources "
                + "cannot be compiled on this machine");
        ptx = new HashMap<>();
        for (String file : CudaDevice.KERNEL_FILES) {
            Path source = work.resolve(file);
            Files.writeString(source, CudaDevice.kernelSource(file));
            Path out = work.resolve(file + ".ptx");
            List<String> command = new ArrayList<>(List.of(nvcc, "-ptx", "-arch=sm_90", "-Werror", "all-warnings"));
            for (String option : CudaDevice.COMPILE_OPTIONS) {
                command.add(option.replace("--fmad=", "-fmad=").replace("--std=", "-std="));
            }
            command.addAll(List.of("-o", out.toString(), source.toString()));
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(300, TimeUnit.SECONDS)).as("nvcc finished on " + file).isTrue();
            assertThat(p.exitValue()).as(file + " compiles for sm_90:\n" + String.join(" ", command) + "\n" + log)
                    .isZero();
            ptx.put(file, Files.readString(out));
        }
    }

    @Test
    void everyKernelFileCompilesToPtxForHopper() {
        for (String file : CudaDevice.KERNEL_FILES) {
            assertThat(ptx.get(file)).as(file).contains(".target sm_90").contains(".visible .entry");
        }
    }

    @Test
    void everyGlobalFunctionIsExportedUnmangled() {
        Pattern global = Pattern.compile("extern \"C\" __global__ void (\\w+)\\(");
        for (String file : CudaDevice.KERNEL_FILES) {
            Matcher m = global.matcher(CudaDevice.kernelSource(file));
            int count = 0;
            while (m.find()) {
                count++;
                assertThat(ptx.get(file)).as(file + " exports " + m.group(1)).contains(".entry " + m.group(1) + "(");
            }
            assertThat(count).as(file + " kernels").isPositive();
        }
    }

    /** The parameter kinds of a PTX entry: u64 (pointers, long long), u32 (int), f32 (float). */
    static List<String> ptxParameters(String ptx, String kernel) {
        int start = ptx.indexOf(".entry " + kernel + "(");
        assertThat(start).as("kernel " + kernel + " in the PTX").isNotNegative();
        String params = ptx.substring(start, ptx.indexOf(')', start));
        List<String> kinds = new ArrayList<>();
        Matcher m = Pattern.compile("\\.param \\.(\\w+) ").matcher(params);
        while (m.find()) {
            kinds.add(switch (m.group(1)) {
                case "u64", "s64", "b64" -> "u64";
                case "u32", "s32", "b32" -> "u32";
                default -> m.group(1);
            });
        }
        return kinds;
    }

    @Test
    void everyLaunchPassesTheKernelsParameterKinds() throws IOException {
        // launch(FILE, "kernel", grid..., new KernelArgs().ptr(..).i32(..)...);
        Pattern launch = Pattern.compile("launch\\((\\w+|\"[\\w.]+\"), \"(\\w+)\",(.*?)\\);", Pattern.DOTALL);
        Pattern arg = Pattern.compile("\\.(ptr|i64|i32|f32)\\(");
        int checked = 0;
        for (String javaFile : List.of("CudaOps.java", "CudaTensor.java")) {
            String src = Files.readString(OPS_SOURCES.resolve(javaFile));
            Matcher m = launch.matcher(src);
            while (m.find()) {
                String file = FILE_CONSTANTS.get(m.group(1));
                assertThat(file).as("kernel file constant " + m.group(1)).isNotNull();
                String kernel = m.group(2);
                List<String> passed = new ArrayList<>();
                Matcher a = arg.matcher(m.group(3));
                while (a.find()) {
                    passed.add(switch (a.group(1)) {
                        case "ptr", "i64" -> "u64";
                        case "i32" -> "u32";
                        default -> "f32";
                    });
                }
                assertThat(passed).as(javaFile + " launches " + kernel + " of " + file)
                        .containsExactlyElementsOf(ptxParameters(ptx.get(file), kernel));
                checked++;
            }
        }
        assertThat(checked).as("launch sites checked").isGreaterThanOrEqualTo(23);
    }

    @Test
    void nvrtcOptionsKeepJavasArithmetic() {
        assertThat(CudaDevice.COMPILE_OPTIONS).contains("--fmad=false");
        assertThat(ptx.get("elementwise.cu")).as("axpby multiplies then adds").contains("mul.rn.f32")
                .contains("add.rn.f32");
    }
}
