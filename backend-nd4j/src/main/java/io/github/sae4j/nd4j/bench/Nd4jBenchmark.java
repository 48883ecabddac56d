package io.github.sae4j.nd4j.bench;

import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.bench.TrainStepBenchmark;
import io.github.sae4j.nd4j.Nd4jBackendProvider;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One TopK training step on {@code nd4j} and on {@code java}, and ND4J's own encoder GEMM (OpenBLAS into
 * preallocated arrays), in one run at the foundation benchmark's shape (B=4096, d_in=768, 24,576 latents, k=32),
 * with the peak off-heap memory JavaCPP tracked while the nd4j step ran.
 *
 * <pre>scripts/bench-nd4j.sh [--threads N] [--iterations N]</pre>
 */
public final class Nd4jBenchmark {

    private Nd4jBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int threads = Runtime.getRuntime().availableProcessors();
        int iterations = 5;
        boolean ops = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--iterations" -> iterations = Integer.parseInt(args[++i]);
                case "--nd4j-ops" -> ops = true;
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + "; use --threads N --iterations N --nd4j-ops");
            }
        }
        TrainStepBenchmark.Shape shape = new TrainStepBenchmark.Shape(4096, 768, 24576, 32, 512);
        if (ops) {
            nd4jOps(shape);
            return;
        }
        Map<String, String> options = Map.of("threads", String.valueOf(threads));

        double rawGemm = rawNd4jGemm(shape, iterations);
        System.out.printf(Locale.ROOT, "ND4J encoder GEMM (Nd4j.gemm, preallocated): %.1f ms, %.1f GFLOP/s%n", 1e3 * rawGemm,
                2.0 * shape.batch() * shape.dIn() * shape.latents() / rawGemm / 1e9);

        PeakOffHeap peak = new PeakOffHeap();
        TrainStepBenchmark.Result nd4j;
        try (Backend backend = Plugins.openBackend(Nd4jBackendProvider.NAME, options)) {
            System.out.println("nd4j: " + backend.devices().getFirst().description());
            peak.start();
            nd4j = TrainStepBenchmark.run(backend.devices().getFirst(), shape, 2, iterations, System.out);
            peak.stop();
        }
        TrainStepBenchmark.Result java;
        try (Backend backend = Plugins.openBackend("java", options)) {
            java = TrainStepBenchmark.run(backend.devices().getFirst(), shape, 2, iterations, System.out);
        }
        System.out.println("--- nd4j");
        TrainStepBenchmark.print(nd4j, System.out);
        System.out.println("--- java");
        TrainStepBenchmark.print(java, System.out);
        System.out.printf(Locale.ROOT, "nd4j step %.1f ms = %.2f x ND4J's own GEMM (%.1f ms; target <= 1.3), %.2f x the java "
                        + "step (%.1f ms; target < 1)%n", 1e3 * nd4j.stepSeconds(), nd4j.stepSeconds() / rawGemm,
                1e3 * rawGemm, nd4j.stepSeconds() / java.stepSeconds(), 1e3 * java.stepSeconds());
        System.out.printf(Locale.ROOT, "nd4j step + AuxK (5%% dead) %.1f ms = %.2f x ND4J's GEMM; java %.1f ms%n",
                1e3 * nd4j.stepSomeDeadSeconds(), nd4j.stepSomeDeadSeconds() / rawGemm,
                1e3 * java.stepSomeDeadSeconds());
        System.out.printf(Locale.ROOT, "peak during the nd4j runs: %.0f MB allocated by ND4J, %.0f MB tracked by JavaCPP, "
                + "%.0f MB resident (the whole process, heap included)%n", peak.maxNd4j / 1e6, peak.maxTracked / 1e6,
                peak.maxPhysical / 1e6);
    }

    /**
     * Why only dense products go to ND4J: its own ops for the rest of a TopK step, timed on the step's shapes
     * against what the java kernels do instead. (ND4J's top_k custom op crashed the JVM once on this shape; run this
     * in a process of its own.)
     */
    private static void nd4jOps(TrainStepBenchmark.Shape s) {
        try (INDArray x = Nd4j.rand(DataType.FLOAT, s.batch(), s.dIn());
             INDArray w = Nd4j.rand(DataType.FLOAT, s.latents(), s.dIn());
             INDArray c = Nd4j.create(DataType.FLOAT, s.batch(), s.latents());
             INDArray ones = Nd4j.ones(DataType.FLOAT, 1, s.batch());
             INDArray sums = Nd4j.create(DataType.FLOAT, 1, s.latents())) {
            Nd4j.gemm(x, w, c, false, true, 1.0, 0.0);
            time("Nd4j.gemm into a preallocated array", () -> Nd4j.gemm(x, w, c, false, true, 1.0, 0.0));
            time("x.mmul(w.transpose()) (allocates the result)", () -> x.mmul(w.transpose()).close());
            time("column sums: c.sum(0)", () -> c.sum(0).close());
            time("column sums as a GEMM with a ones row", () -> Nd4j.gemm(ones, c, sums, false, false, 1.0, 0.0));
            time("top_k custom op, k=" + s.k() + " per row", () -> {
                INDArray[] out = Nd4j.exec(org.nd4j.linalg.api.ops.DynamicCustomOp.builder("top_k").addInputs(c)
                        .addIntegerArguments(s.k()).addBooleanArguments(true).build());
                for (INDArray o : out) {
                    o.close();
                }
            });
        }
    }

    private static void time(String what, Runnable r) {
        r.run();
        long start = System.nanoTime();
        r.run();
        System.out.printf(Locale.ROOT, "  %-48s %9.1f ms%n", what, (System.nanoTime() - start) / 1e6);
    }

    private static double rawNd4jGemm(TrainStepBenchmark.Shape s, int iterations) {
        try (INDArray x = Nd4j.rand(DataType.FLOAT, s.batch(), s.dIn());
             INDArray w = Nd4j.rand(DataType.FLOAT, s.latents(), s.dIn());
             INDArray c = Nd4j.create(DataType.FLOAT, s.batch(), s.latents())) {
            double[] t = new double[iterations];
            for (int i = -2; i < iterations; i++) {
                long start = System.nanoTime();
                Nd4j.gemm(x, w, c, false, true, 1.0, 0.0);
                if (i >= 0) {
                    t[i] = (System.nanoTime() - start) / 1e9;
                }
            }
            Arrays.sort(t);
            return t[iterations / 2];
        }
    }

    /** Samples JavaCPP's tracked off-heap bytes and the process's resident bytes every 5 ms. */
    private static final class PeakOffHeap {
        volatile boolean running;
        long maxTracked;
        long maxPhysical;
        long maxNd4j;
        Thread thread;

        void start() {
            running = true;
            thread = Thread.ofPlatform().daemon().start(() -> {
                while (running) {
                    maxTracked = Math.max(maxTracked, Pointer.totalBytes());
                    maxPhysical = Math.max(maxPhysical, Pointer.physicalBytes());
                    try {
                        maxNd4j = Math.max(maxNd4j, Nd4j.getMemoryManager().allocatedMemory(0));
                    } catch (RuntimeException e) {
                        // not tracked by this ND4J build
                    }
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
        }

        void stop() throws InterruptedException {
            running = false;
            thread.join();
        }
    }
}
