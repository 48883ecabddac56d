package io.github.sae4j.nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Loads ND4J's native backend once, with the settings a fresh machine needs: JavaCPP's off-heap limits and cache
 * directory, and the AVX2 build where the CPU has AVX2. Loading never crashes the JVM on a machine that cannot run
 * it: the reason comes back as text with the fix.
 */
final class Nd4jRuntime {

    private static volatile String failure;
    private static volatile boolean loaded;

    private Nd4jRuntime() {
    }

    /** Null when ND4J is ready; otherwise why it is not and what to do. */
    static synchronized String unavailableReason() {
        if (loaded) {
            return null;
        }
        if (failure != null) {
            return failure;
        }
        String platform = platformProblem(System.getProperty("os.name", ""), System.getProperty("os.arch", ""));
        if (platform != null && !Boolean.getBoolean("sae4j.nd4j.anyPlatform")) {
            failure = platform;
            return failure;
        }
        configure();
        try {
            Class.forName("org.nd4j.linalg.factory.Nd4j");
            org.nd4j.linalg.factory.Nd4j.getBackend();
            org.nd4j.linalg.factory.Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, 1, 1).close();
            loaded = true;
            return null;
        } catch (Throwable t) {
            Throwable root = t;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            if (Nd4jRuntime.class.getClassLoader().getResource("org/nd4j/jita/conf/CudaEnvironment.class") != null) {
                failure = "the CUDA build of ND4J (nd4j-cuda-11.6, from mvn -Pcuda) found no GPU it can use ("
                        + root.getClass().getSimpleName() + ": " + root.getMessage() + "); it needs an NVIDIA GPU of "
                        + "compute capability 3.5 to 8.6, a driver for CUDA 11.6 or newer and the CUDA 11.6 libraries; "
                        + "build without -Pcuda for the CPU, or use --backend java";
                return failure;
            }
            failure = "ND4J's native backend did not load (" + root.getClass().getSimpleName() + ": " + root.getMessage()
                    + "); check that the nd4j-native jars for linux-x86_64 are on the class path, that "
                    + System.getProperty("org.bytedeco.javacpp.cachedir") + " is writable and that the JVM runs with "
                    + "--enable-native-access=ALL-UNNAMED; or use --backend java";
            return failure;
        }
    }

    /** Why the shipped natives cannot run on this OS and architecture, or null when they can. */
    static String platformProblem(String osName, String arch) {
        String os = osName.toLowerCase(Locale.ROOT);
        if (os.contains("linux") && (arch.equals("amd64") || arch.equals("x86_64"))) {
            return null;
        }
        return "this build of backend-nd4j ships ND4J's natives for Linux x86-64 only, and this is " + osName + " " + arch
                + "; put org.nd4j:nd4j-native:1.0.0-M2.1 with your platform's classifier on the class path and run with "
                + "-Dsae4j.nd4j.anyPlatform=true, or use --backend java";
    }

    /**
     * JavaCPP reads these when it loads; set them unless the user did. Off-heap memory is capped at 3/4 of physical
     * memory (JavaCPP's default, the heap size, is far too small for a 24,576-latent encoder's activations), natives
     * are unpacked under the user's cache (or the temp directory when home is not writable).
     */
    private static void configure() {
        long physical = physicalMemory();
        if (System.getProperty("org.bytedeco.javacpp.maxbytes") == null && physical > 0) {
            System.setProperty("org.bytedeco.javacpp.maxbytes", String.valueOf(physical / 4 * 3));
            System.setProperty("org.bytedeco.javacpp.maxphysicalbytes", String.valueOf(physical / 8 * 7));
        }
        if (System.getProperty("org.bytedeco.javacpp.cachedir") == null) {
            Path home = Path.of(System.getProperty("user.home", "/nonexistent"), ".javacpp", "cache");
            Path dir = writable(home) ? home : Path.of(System.getProperty("java.io.tmpdir"), "sae4j-javacpp-cache");
            System.setProperty("org.bytedeco.javacpp.cachedir", dir.toString());
        }
        if (System.getProperty("org.bytedeco.javacpp.platform.extension") == null && hasAvx2()
                && Nd4jRuntime.class.getClassLoader().getResource("org/nd4j/linalg/cpu/nativecpu/bindings/linux-x86_64-avx2/libjnind4jcpu.so") != null) {
            System.setProperty("org.bytedeco.javacpp.platform.extension", "-avx2");
        }
    }

    private static boolean writable(Path dir) {
        try {
            Files.createDirectories(dir);
            return Files.isWritable(dir);
        } catch (IOException | SecurityException e) {
            return false;
        }
    }

    private static boolean hasAvx2() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("flags")) {
                    return line.contains(" avx2");
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or no /proc: take the generic build
        }
        return false;
    }

    private static long physicalMemory() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getTotalMemorySize();
        }
        return -1;
    }
}
