package io.github.sae4j.core.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.core.backend.java.JavaBackend;
import io.github.sae4j.core.sae.TopKArchitecture;
import io.github.sae4j.core.train.AdamW;
import io.github.sae4j.core.train.DataParallelReplicas;
import io.github.sae4j.core.train.DeadLatentTracker;
import io.github.sae4j.core.train.UnitNormDecoderConstraint;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Data-parallel scaling on one CPU: the trainer's whole TopK step (forward and backward on every replica, gradient
 * combine, decoder projection, AdamW, renormalization, weight copy to the replicas, dead-latent bookkeeping) on one
 * java device with all the threads, against the same step on N logical devices that split those threads. Rounds
 * alternate the two, so a machine whose speed drifts shifts both alike; medians are reported.
 *
 * <p>Run with {@code scripts/bench-data-parallel.sh [--threads T] [--devices N] [--batch-size B] [--d-in D]
 * [--latents L] [-k K] [--iterations I] [--warmup W] [--json FILE]}, or {@code sae4j bench --data-parallel N}.
 */
public final class DataParallelBenchmark {

    /** The shape of the step, and how the threads are split. */
    public record Setup(int batch, int dIn, int latents, int k, int threads, int devices) {
    }

    /**
     * Median seconds per step on one device and on {@code devices}, the median per-round speed-up, and of the several
     * devices' step the medians of two parts: the replicas' forward and backward with the gradient combine, and the
     * copy of the new weights to the replicas.
     */
    public record Result(Setup setup, String oneDevice, String severalDevices, double oneDeviceSeconds,
                         double severalDevicesSeconds, double speedup, double oneDeviceReplicaSeconds,
                         double severalDevicesReplicaSeconds, double weightCopySeconds) {
        public double oneDeviceRowsPerSecond() {
            return setup.batch() / oneDeviceSeconds;
        }

        public double severalDevicesRowsPerSecond() {
            return setup.batch() / severalDevicesSeconds;
        }
    }

    private DataParallelBenchmark() {
    }

    public static void main(String[] args) throws IOException {
        int threads = Runtime.getRuntime().availableProcessors();
        int devices = 2;
        int batch = 4096;
        int dIn = 768;
        int latents = 24576;
        int k = 32;
        int iterations = 5;
        int warmup = 1;
        Path json = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--devices" -> devices = Integer.parseInt(args[++i]);
                case "--batch-size" -> batch = Integer.parseInt(args[++i]);
                case "--d-in" -> dIn = Integer.parseInt(args[++i]);
                case "--latents" -> latents = Integer.parseInt(args[++i]);
                case "-k" -> k = Integer.parseInt(args[++i]);
                case "--iterations" -> iterations = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--json" -> json = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + "; use --threads T "
                        + "--devices N --batch-size B --d-in D --latents L -k K --iterations I --warmup W --json FILE");
            }
        }
        Result r = run(new Setup(batch, dIn, latents, k, threads, devices), warmup, iterations, System.out);
        print(r, System.out);
        if (json != null) {
            writeJson(r, json);
            System.out.println("wrote " + json);
        }
    }

    public static void print(Result r, PrintStream out) {
        Setup s = r.setup();
        out.printf(Locale.ROOT, "shape: B=%d d_in=%d latents=%d k=%d, %d threads%n", s.batch(), s.dIn(), s.latents(),
                s.k(), s.threads());
        out.printf(Locale.ROOT, "1 device  x %d threads   %8.1f ms/step  %8.0f rows/s%n", s.threads(),
                1e3 * r.oneDeviceSeconds(), r.oneDeviceRowsPerSecond());
        out.printf(Locale.ROOT, "%d devices x %s threads %8.1f ms/step  %8.0f rows/s%n", s.devices(),
                s.threads() % s.devices() == 0 ? String.valueOf(s.threads() / s.devices()) : "~" + s.threads() / s.devices(),
                1e3 * r.severalDevicesSeconds(), r.severalDevicesRowsPerSecond());
        out.printf(Locale.ROOT, "speed-up of %d devices: %.2fx (median over rounds of the per-round ratio)%n",
                s.devices(), r.speedup());
        out.printf(Locale.ROOT, "forward + backward (+ gradient combine): %.1f ms on 1 device, %.1f ms on %d; "
                + "weight copy to the replicas: %.1f ms%n", 1e3 * r.oneDeviceReplicaSeconds(),
                1e3 * r.severalDevicesReplicaSeconds(), s.devices(), 1e3 * r.weightCopySeconds());
    }

    /** Runs {@code warmup} untimed and {@code iterations} timed rounds, each one step on each configuration. */
    public static Result run(Setup setup, int warmup, int iterations, PrintStream log) {
        if (setup.devices() < 2 || setup.threads() < setup.devices()) {
            throw new IllegalArgumentException("compare 1 device with at least 2 devices of at least one thread each: "
                    + "devices=" + setup.devices() + ", threads=" + setup.threads());
        }
        SaeSpec spec = new TopKArchitecture().spec(setup.dIn(), setup.latents(), Map.of("k", setup.k()), 1.0, Map.of());
        float[] data = new float[setup.batch() * setup.dIn()];
        SplittableRandom random = new SplittableRandom(1);
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) random.nextGaussian();
        }
        try (JavaBackend one = new JavaBackend(setup.threads(), 1);
             JavaBackend several = new JavaBackend(setup.threads(), setup.devices());
             Stepper a = new Stepper(spec, one.devices(), setup.batch());
             Stepper b = new Stepper(spec, several.devices(), setup.batch())) {
            for (int w = 0; w < warmup; w++) {
                a.step(data);
                b.step(data);
            }
            a.record(iterations);
            b.record(iterations);
            double[] secondsOne = new double[iterations];
            double[] secondsSeveral = new double[iterations];
            double[] ratios = new double[iterations];
            for (int it = 0; it < iterations; it++) {
                secondsOne[it] = a.step(data);
                secondsSeveral[it] = b.step(data);
                ratios[it] = secondsOne[it] / secondsSeveral[it];
                log.printf(Locale.ROOT, "round %d: 1 device %.0f ms, %d devices %.0f ms%n", it + 1,
                        1e3 * secondsOne[it], setup.devices(), 1e3 * secondsSeveral[it]);
            }
            return new Result(setup, describe(one.devices()), describe(several.devices()), median(secondsOne),
                    median(secondsSeveral), median(ratios), median(a.replicaSeconds), median(b.replicaSeconds),
                    median(b.copySeconds));
        }
    }

    /** The trainer's step over some devices, on the same batch every time. */
    private static final class Stepper implements AutoCloseable {
        final DataParallelReplicas replicas;
        final AdamW adam;
        final UnitNormDecoderConstraint constraint;
        final DeadLatentTracker dead;
        final int rows;
        long step;
        double[] replicaSeconds = new double[0];
        double[] copySeconds = new double[0];
        int recorded = -1;

        Stepper(SaeSpec spec, List<Device> devices, int rows) {
            this.rows = rows;
            replicas = DataParallelReplicas.open(new TopKArchitecture(), spec, devices, rows);
            replicas.master().initialize(1, null);
            adam = new AdamW(devices.getFirst(), replicas.master().parameters(), 0.85, 0.9999, 6.25e-10, 0);
            constraint = UnitNormDecoderConstraint.of(replicas.master());
            constraint.renormalize();
            replicas.copyWeights();
            dead = new DeadLatentTracker(spec.dSae(), 10_000_000L);
        }

        /** From now on, keeps the parts' times of the next {@code steps} steps. */
        void record(int steps) {
            replicaSeconds = new double[steps];
            copySeconds = new double[steps];
            recorded = 0;
        }

        double step(float[] batch) {
            long start = System.nanoTime();
            DataParallelReplicas.Step s = replicas.step(batch, dead.mask(), dead.deadCount(), null);
            long replicasDone = System.nanoTime();
            constraint.projectGradient(replicas.masterGradients());
            adam.step(replicas.masterGradients(), 1e-4, ++step);
            constraint.renormalize();
            long copyStart = System.nanoTime();
            replicas.copyWeights();
            long copyDone = System.nanoTime();
            dead.update(s.firedCounts(), rows);
            replicas.master().device().synchronize();
            long end = System.nanoTime();
            if (recorded >= 0 && recorded < replicaSeconds.length) {
                replicaSeconds[recorded] = (replicasDone - start) / 1e9;
                copySeconds[recorded] = (copyDone - copyStart) / 1e9;
                recorded++;
            }
            return (end - start) / 1e9;
        }

        @Override
        public void close() {
            adam.close();
            replicas.close();
        }
    }

    private static String describe(List<Device> devices) {
        return String.join("; ", devices.stream().map(d -> d.index() + ": " + d.description()).toList());
    }

    public static void writeJson(Result r, Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        Setup s = r.setup();
        root.put("threads", s.threads());
        root.put("cpu", cpuName());
        ObjectNode shape = root.putObject("shape");
        shape.put("batch", s.batch());
        shape.put("d_in", s.dIn());
        shape.put("latents", s.latents());
        shape.put("k", s.k());
        ObjectNode one = root.putObject("one_device");
        one.put("devices", r.oneDevice());
        one.put("seconds_per_step", r.oneDeviceSeconds());
        one.put("rows_per_s", r.oneDeviceRowsPerSecond());
        ObjectNode several = root.putObject("devices_" + s.devices());
        several.put("devices", r.severalDevices());
        several.put("seconds_per_step", r.severalDevicesSeconds());
        several.put("rows_per_s", r.severalDevicesRowsPerSecond());
        several.put("replicas_and_combine_seconds", r.severalDevicesReplicaSeconds());
        several.put("weight_copy_seconds", r.weightCopySeconds());
        one.put("forward_backward_seconds", r.oneDeviceReplicaSeconds());
        root.put("speedup", r.speedup());
        if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
        }
        json.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
    }

    private static String cpuName() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: leave it out
        }
        return System.getProperty("os.arch");
    }

    private static double median(double[] values) {
        double[] t = values.clone();
        Arrays.sort(t);
        return t[t.length / 2];
    }
}
