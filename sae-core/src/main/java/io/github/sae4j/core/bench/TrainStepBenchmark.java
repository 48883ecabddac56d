package io.github.sae4j.core.bench;

import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.backend.DType;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.sae.AuxKSettings;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeParameter;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.api.sae.TrainingContext;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.sae.TopKArchitecture;
import io.github.sae4j.core.train.AdamW;
import io.github.sae4j.core.train.DeadLatentTracker;
import io.github.sae4j.core.train.UnitNormDecoderConstraint;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Times one TopK training step (forward, backward, AuxK, decoder projection, AdamW, renormalization, dead-latent
 * bookkeeping) against one dense encoder GEMM of the same shape on the same device, in the same run. TopK is
 * sparse, so the step should cost little more than that GEMM: the ratio is the figure of merit.
 */
public final class TrainStepBenchmark {

    /** One benchmark configuration. */
    public record Shape(int batch, int dIn, int latents, int k, int auxK) {
    }

    /** The share of latents counted dead in the realistic AuxK measurement. */
    public static final double SOME_DEAD = 0.05;

    /**
     * Median seconds of the GEMM and of the step, and what they imply. AuxK is timed twice: with 5% of the latents
     * dead (its cost then tracks the dead latents, as in a healthy run) and with all of them dead (the worst case:
     * every row decodes k_aux latents drawn from the whole dictionary).
     */
    public record Result(Shape shape, double gemmSeconds, double stepSeconds, double stepSomeDeadSeconds,
                         double stepWithAuxKSeconds, double ratio, double ratioSomeDead, double ratioWithAuxK) {
        public double gemmGflops() {
            return 2.0 * shape.batch() * shape.dIn() * shape.latents() / gemmSeconds / 1e9;
        }



        public double activationsPerSecond() {
            return shape.batch() / stepSeconds;
        }
    }

    private TrainStepBenchmark() {
    }

    public static void main(String[] args) {
        Shape shape = new Shape(4096, 768, 24576, 32, 512);
        int iterations = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        try (Backend backend = Plugins.openBackend("java", Map.of())) {
            Result r = run(backend.devices().getFirst(), shape, 2, iterations, System.out);
            print(r, System.out);
        }
    }

    public static void print(Result r, PrintStream out) {
        Shape s = r.shape();
        out.printf(Locale.ROOT, "shape: B=%d d_in=%d latents=%d k=%d k_aux=%d%n", s.batch(), s.dIn(), s.latents(),
                s.k(), s.auxK());
        out.printf(Locale.ROOT, "encoder GEMM           %8.1f ms  (%.1f GFLOP/s)%n", 1e3 * r.gemmSeconds(), r.gemmGflops());
        out.printf(Locale.ROOT, "training step          %8.1f ms  = %.2f x GEMM  (%.0f activations/s)%n",
                1e3 * r.stepSeconds(), r.ratio(), r.activationsPerSecond());

        out.printf(Locale.ROOT, "step + AuxK, %2.0f%% dead %8.1f ms  = %.2f x GEMM  (k_aux=%d among %d dead latents)%n",
                100 * SOME_DEAD, 1e3 * r.stepSomeDeadSeconds(), r.ratioSomeDead(), s.auxK(),
                (int) Math.round(SOME_DEAD * s.latents()));
        out.printf(Locale.ROOT, "step + AuxK, all dead %8.1f ms  = %.2f x GEMM  (worst case: k_aux=%d of all latents)%n",
                1e3 * r.stepWithAuxKSeconds(), r.ratioWithAuxK(), s.auxK());
        out.println("times: medians over rounds; ratios: medians over rounds of step / GEMM timed in the same round");
    }

    /**
     * Runs {@code warmup} untimed and {@code iterations} timed rounds; each round times the GEMM and the three steps
     * one after the other. Reports medians.
     */
    public static Result run(Device device, Shape shape, int warmup, int iterations, PrintStream log) {
        SaeSpec spec = new TopKArchitecture().spec(shape.dIn(), shape.latents(), Map.of("k", shape.k()), 1.0, Map.of());
        float[] data = new float[shape.batch() * shape.dIn()];
        SplittableRandom random = new SplittableRandom(1);
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) random.nextGaussian();
        }
        try (Sae sae = new TopKArchitecture().create(spec, device);
             AdamW adam = new AdamW(device, sae.parameters(), 0.85, 0.9999, 6.25e-10, 0);
             Tensor x = device.upload(data, shape.batch(), shape.dIn());
             Tensor pre = device.allocate(DType.F32, shape.batch(), shape.latents());
             Tensor deadMask = device.allocate(DType.F32, shape.latents());
             Tensor fired = device.allocate(DType.F32, shape.latents())) {
            sae.initialize(1, null);
            Tensor encoder = sae.parameter("W_enc").value();
            Map<String, Tensor> grads = new LinkedHashMap<>();
            for (SaeParameter p : sae.parameters()) {
                grads.put(p.name(), device.allocate(DType.F32, p.value().shape()));
            }
            UnitNormDecoderConstraint constraint = UnitNormDecoderConstraint.of(sae);
            DeadLatentTracker tracker = new DeadLatentTracker(shape.latents(), 10_000_000L);

            Runnable gemmOnly = () -> {
                device.ops().gemm(false, true, 1f, x, encoder, 0f, pre);
                device.synchronize();
            };
            long[] step = {0};
            AuxKSettings auxK = new AuxKSettings(shape.auxK(), 1f / 32);
            float[] noneDead = new float[shape.latents()];
            float[] someDead = new float[shape.latents()];
            int stride = (int) Math.round(1 / SOME_DEAD);
            for (int i = 0; i < someDead.length; i += stride) {
                someDead[i] = 1f;
            }
            float[] allDead = new float[shape.latents()];
            Arrays.fill(allDead, 1f);
            Runnable plainStep = stepper(device, sae, adam, grads, constraint, tracker, x, deadMask, fired, null,
                    noneDead, step);
            Runnable someDeadStep = stepper(device, sae, adam, grads, constraint, tracker, x, deadMask, fired, auxK,
                    someDead, step);
            Runnable allDeadStep = stepper(device, sae, adam, grads, constraint, tracker, x, deadMask, fired, auxK,
                    allDead, step);
            List<Runnable> bodies = List.of(gemmOnly, plainStep, someDeadStep, allDeadStep);
            // Interleaved rounds: a machine whose speed drifts (shared hosts, clocks) shifts every measurement alike,
            // so the ratios stay meaningful.
            for (int w = 0; w < warmup; w++) {
                bodies.forEach(Runnable::run);
            }
            double[][] seconds = new double[bodies.size()][iterations];
            for (int it = 0; it < iterations; it++) {
                for (int b = 0; b < bodies.size(); b++) {
                    long start = System.nanoTime();
                    bodies.get(b).run();
                    seconds[b][it] = (System.nanoTime() - start) / 1e9;
                }
                log.printf(Locale.ROOT, "round %d: gemm %.0f ms, step %.0f ms, AuxK %.0f%% dead %.0f ms, all dead %.0f ms%n",
                        it + 1, 1e3 * seconds[0][it], 1e3 * seconds[1][it], 100 * SOME_DEAD, 1e3 * seconds[2][it],
                        1e3 * seconds[3][it]);
            }
            double gemm = median(seconds[0]);
            double plain = median(seconds[1]);
            double withSomeDead = median(seconds[2]);
            double withAux = median(seconds[3]);
            // Ratios are medians of per-round ratios: each compares a step with the GEMM timed next to it.
            double[][] ratios = new double[3][iterations];
            for (int it = 0; it < iterations; it++) {
                for (int b = 0; b < 3; b++) {
                    ratios[b][it] = seconds[b + 1][it] / seconds[0][it];
                }
            }
            grads.values().forEach(Tensor::close);
            return new Result(shape, gemm, plain, withSomeDead, withAux, median(ratios[0]), median(ratios[1]),
                    median(ratios[2]));
        }
    }

    private static Runnable stepper(Device device, Sae sae, AdamW adam, Map<String, Tensor> grads,
                                    UnitNormDecoderConstraint constraint, DeadLatentTracker tracker, Tensor x,
                                    Tensor deadMask, Tensor fired, AuxKSettings auxK, float[] mask, long[] step) {
        int deadCount = 0;
        for (float v : mask) {
            deadCount += v != 0f ? 1 : 0;
        }
        int dead = auxK == null ? 0 : deadCount;
        TrainingContext context = TrainingContext.of(deadMask, dead, auxK, fired);
        return () -> {
            deadMask.copyFrom(mask);
            device.ops().fill(fired, 0f);
            sae.trainingStep(x, context, grads);
            constraint.projectGradient(grads);
            adam.step(grads, 1e-4, ++step[0]);
            constraint.renormalize();
            // The trainer's bookkeeping: firing counts to the host, dead mask back (kept as given here).
            tracker.update(fired.toFloatArray(), x.rows());
            device.synchronize();
        };
    }

    private static double median(double[] seconds) {
        double[] t = seconds.clone();
        Arrays.sort(t);
        return t[t.length / 2];
    }
}
