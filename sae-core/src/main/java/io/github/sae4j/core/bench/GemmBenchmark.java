package io.github.sae4j.core.bench;

import io.github.sae4j.core.backend.java.Sgemm;
import io.github.sae4j.core.backend.java.WorkerPool;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Times {@link Sgemm#gemm} on the products of one SAE training step and compares it with the machine's FMA peak,
 * measured in the same run with a Vector API loop of independent FMAs.
 *
 * <p>Run: {@code java --add-modules=jdk.incubator.vector -cp sae-core/target/classes
 * io.github.sae4j.core.bench.GemmBenchmark [threads] [iterations]} (defaults 2 and 5).
 */
public final class GemmBenchmark {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    private GemmBenchmark() {
    }

    /** A product to time: the transposes and sizes of one gemm call. */
    public record Shape(String name, boolean transA, boolean transB, int m, int n, int k) {
    }

    /** Best and median throughput of the timed calls, in GFLOP/s (2mnk flops per call). */
    public record Result(double best, double median) {
    }

    /**
     * The products of a training step with 4096 tokens, d_model 768 and 24576 latents: the encoder (every SAE), and
     * the dense decode and weight gradient of the ReLU SAE (its dF = dX_hat W_dec^T has the encoder's shape).
     */
    public static final Shape[] SAE_SHAPES = {
            new Shape("encoder X W^T", false, true, 4096, 24576, 768),
            new Shape("decode F W", false, false, 4096, 768, 24576),
            new Shape("dW = G^T X", true, false, 24576, 768, 4096),
    };

    /**
     * Times {@code iterations} calls of {@code C = op(A) op(B)} (beta = 0) on random matrices after {@code warmup}
     * untimed ones, and returns the best GFLOP/s: the call least disturbed by other work on the machine.
     */
    public static double gflops(WorkerPool pool, boolean transA, boolean transB, int m, int n, int k,
                                int warmup, int iterations) {
        return measure(pool, transA, transB, m, n, k, warmup, iterations).best();
    }

    /** Like {@link #gflops}, with the median as well. */
    public static Result measure(WorkerPool pool, boolean transA, boolean transB, int m, int n, int k,
                                 int warmup, int iterations) {
        if (iterations < 1) {
            throw new IllegalArgumentException("iterations must be >= 1, got " + iterations);
        }
        SplittableRandom random = new SplittableRandom(42);
        float[] a = randomArray(random, m * k);
        float[] b = randomArray(random, k * n);
        float[] c = new float[m * n];
        int lda = transA ? m : k;
        int ldb = transB ? k : n;
        for (int i = 0; i < warmup; i++) {
            Sgemm.gemm(pool, transA, transB, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, c, 0, n);
        }
        double[] rates = new double[iterations];
        for (int i = 0; i < iterations; i++) {
            long start = System.nanoTime();
            Sgemm.gemm(pool, transA, transB, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, c, 0, n);
            rates[i] = 2.0 * m * n * k / (System.nanoTime() - start);
        }
        Arrays.sort(rates);
        return new Result(rates[iterations - 1], rates[iterations / 2]);
    }

    /**
     * The FMA peak in GFLOP/s: {@code threads} threads each run twelve independent vector FMA chains, more than
     * the latency x throughput product of two 4-cycle FMA pipes; best of {@code rounds}.
     */
    public static double peakGflops(int threads, int rounds) {
        int iterations = 20_000_000;
        double best = 0;
        for (int r = 0; r < rounds; r++) {
            Thread[] workers = new Thread[threads];
            float[] sink = new float[threads];
            long start = System.nanoTime();
            for (int t = 0; t < threads; t++) {
                int id = t;
                workers[t] = new Thread(() -> sink[id] = fmaChains(iterations));
                workers[t].start();
            }
            for (Thread w : workers) {
                try {
                    w.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while measuring the FMA peak", e);
                }
            }
            long elapsed = System.nanoTime() - start;
            best = Math.max(best, threads * iterations * 12.0 * 2 * SPECIES.length() / elapsed);
        }
        return best;
    }

    /** Twelve independent chains {@code acc = x * y + acc}, the accumulate form the GEMM micro-kernel uses. */
    private static float fmaChains(int iterations) {
        FloatVector x = FloatVector.broadcast(SPECIES, 0.9999999f);
        FloatVector y = FloatVector.broadcast(SPECIES, 1e-7f);
        FloatVector a0 = FloatVector.broadcast(SPECIES, 1f);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector a4 = a0;
        FloatVector a5 = a0;
        FloatVector a6 = a0;
        FloatVector a7 = a0;
        FloatVector a8 = a0;
        FloatVector a9 = a0;
        FloatVector a10 = a0;
        FloatVector a11 = a0;
        for (int i = 0; i < iterations; i++) {
            a0 = x.fma(y, a0);
            a1 = x.fma(y, a1);
            a2 = x.fma(y, a2);
            a3 = x.fma(y, a3);
            a4 = x.fma(y, a4);
            a5 = x.fma(y, a5);
            a6 = x.fma(y, a6);
            a7 = x.fma(y, a7);
            a8 = x.fma(y, a8);
            a9 = x.fma(y, a9);
            a10 = x.fma(y, a10);
            a11 = x.fma(y, a11);
        }
        // The sum keeps the chains alive: without a use C2 would delete them.
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(VectorOperators.ADD);
    }

    private static float[] randomArray(SplittableRandom random, int size) {
        float[] x = new float[size];
        for (int i = 0; i < size; i++) {
            x[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return x;
    }

    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int iterations = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        // Other processes on the same cores slow both the GEMM and the peak loop; the load shows whether they ran.
        double loadBefore = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        double peak1 = peakGflops(1, 5);
        double peakN = peakGflops(threads, 5);
        System.out.printf("FMA peak (%s, 12 chains): 1 thread %.1f GFLOP/s, %d threads %.1f GFLOP/s%n",
                SPECIES, peak1, threads, peakN);
        System.out.printf("%-22s %3s %3s %6s %6s %6s %8s %8s %8s %8s%n",
                "shape", "opA", "opB", "m", "n", "k", "best", "median", "peak", "best/pk");
        try (WorkerPool pool = new WorkerPool(threads)) {
            for (Shape s : SAE_SHAPES) {
                Result r = measure(pool, s.transA(), s.transB(), s.m(), s.n(), s.k(), 2, iterations);
                // The host's clock drifts with its load: take the peak again beside each product and keep the
                // highest seen, so the fraction of peak errs low rather than high.
                peakN = Math.max(peakN, peakGflops(threads, 3));
                double peak = peakN;
                System.out.printf("%-22s %3s %3s %6d %6d %6d %8.1f %8.1f %8.1f %7.0f%%%n", s.name(),
                        s.transA() ? "T" : "N", s.transB() ? "T" : "N", s.m(), s.n(), s.k(), r.best(), r.median(),
                        peak, 100 * r.best() / peak);
            }
        }
        System.out.printf("GFLOP/s; best and median of %d timed calls after 2 warm-up calls, %d threads;"
                + " 1-minute load average %.2f before, %.2f after%n", iterations, threads, loadBefore,
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }
}
