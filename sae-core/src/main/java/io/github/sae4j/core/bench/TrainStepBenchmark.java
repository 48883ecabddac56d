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

    /** Median seconds of the GEMM and of the step, and what they imply. */
    public record Result(Shape shape, double gemmSeconds, double stepSeconds, double stepWithAuxKSeconds) {
        public double gemmGflops() {
            return 2.0 * shape.batch() * shape.dIn() * shape.latents() / gemmSeconds / 1e9;
        }

        public double ratio() {
            return stepSeconds / gemmSeconds;
        }

        public double ratioWithAuxK() {
            return stepWithAuxKSeconds / gemmSeconds;
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
        out.printf(Locale.ROOT, "encoder GEMM          %8.1f ms  (%.1f GFLOP/s)%n", 1e3 * r.gemmSeconds(), r.gemmGflops());
        out.printf(Locale.ROOT, "training step         %8.1f ms  = %.2f x GEMM  (%.0f activations/s)%n",
                1e3 * r.stepSeconds(), r.ratio(), r.activationsPerSecond());
        out.printf(Locale.ROOT, "training step + AuxK  %8.1f ms  = %.2f x GEMM  (all latents dead: k_aux=%d active)%n",
                1e3 * r.stepWithAuxKSeconds(), r.ratioWithAuxK(), s.auxK());
    }

    /** Runs {@code warmup} untimed and {@code iterations} timed repetitions of each measurement; reports medians. */
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

            double gemm = median(warmup, iterations, () -> {
                device.ops().gemm(false, true, 1f, x, encoder, 0f, pre);
                device.synchronize();
            });
            log.printf(Locale.ROOT, "gemm: %.1f ms%n", gemm * 1e3);
            long[] step = {0};
            Runnable trainStep = stepper(device, sae, adam, grads, constraint, tracker, x, deadMask, fired, null, step);
            double plain = median(warmup, iterations, trainStep);
            log.printf(Locale.ROOT, "step: %.1f ms%n", plain * 1e3);
            float[] allDead = new float[shape.latents()];
            Arrays.fill(allDead, 1f);
            deadMask.copyFrom(allDead);
            Runnable auxStep = stepper(device, sae, adam, grads, constraint, tracker, x, deadMask, fired,
                    new AuxKSettings(shape.auxK(), 1f / 32), step);
            double withAux = median(warmup, iterations, auxStep);
            log.printf(Locale.ROOT, "step with AuxK: %.1f ms%n", withAux * 1e3);
            grads.values().forEach(Tensor::close);
            return new Result(shape, gemm, plain, withAux);
        }
    }

    private static Runnable stepper(Device device, Sae sae, AdamW adam, Map<String, Tensor> grads,
                                    UnitNormDecoderConstraint constraint, DeadLatentTracker tracker, Tensor x,
                                    Tensor deadMask, Tensor fired, AuxKSettings auxK, long[] step) {
        int latents = sae.spec().dSae();
        TrainingContext context = new TrainingContext() {
            @Override
            public Tensor deadMask() {
                return deadMask;
            }

            @Override
            public int deadCount() {
                return auxK == null ? 0 : latents;
            }

            @Override
            public AuxKSettings auxK() {
                return auxK;
            }

            @Override
            public Tensor firedCounts() {
                return fired;
            }
        };
        return () -> {
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

    private static double median(int warmup, int iterations, Runnable body) {
        for (int i = 0; i < warmup; i++) {
            body.run();
        }
        double[] t = new double[iterations];
        for (int i = 0; i < iterations; i++) {
            long start = System.nanoTime();
            body.run();
            t[i] = (System.nanoTime() - start) / 1e9;
        }
        Arrays.sort(t);
        return t[iterations / 2];
    }
}
