package io.github.sae4j.cli;

import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.bench.DataParallelBenchmark;
import io.github.sae4j.core.bench.TrainStepBenchmark;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sae4j bench}: one TopK training step against one encoder GEMM of the same shape; {@code sae4j bench
 * steering}: generation with steering against generation without.
 */
@Command(name = "bench", sortOptions = false, subcommands = BenchSteeringCommand.class, description = {
        "Time one TopK training step and one dense encoder GEMM of the same shape on the same backend, in the",
        "same run, and print their ratio (the step should cost little more than the GEMM).",
        "'sae4j bench steering' measures what steering costs generation instead."})
final class BenchCommand implements Callable<Integer> {

    @Option(names = "--batch-size", defaultValue = "4096", description = "B (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--d-in", defaultValue = "768", description = "d_in (default ${DEFAULT-VALUE})")
    int dIn;

    @Option(names = "--latents", defaultValue = "24576", description = "latents (default ${DEFAULT-VALUE})")
    int latents;

    @Option(names = "-k", defaultValue = "32", description = "k (default ${DEFAULT-VALUE})")
    int k;

    @Option(names = "--aux-k", defaultValue = "512", description = "k_aux for the AuxK variant (default ${DEFAULT-VALUE})")
    int auxK;

    @Option(names = "--iterations", defaultValue = "5", description = "timed repetitions; medians are reported (default ${DEFAULT-VALUE})")
    int iterations;

    @Option(names = "--warmup", defaultValue = "2", description = "untimed repetitions first (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--gemm", description = "instead: the java backend's GEMM on the four SAE shapes, against the machine's FMA peak")
    boolean gemm;

    @Option(names = "--data-parallel", paramLabel = "N", description = "instead: the trainer's step on one java device"
            + " with all the threads against N logical devices that split them (data-parallel scaling on one CPU)")
    Integer dataParallel;

    @Option(names = "--json", paramLabel = "FILE", description = "with --data-parallel: also write the figures here")
    java.nio.file.Path json;

    @Option(names = "--backend", defaultValue = "java", description = "compute backend (default ${DEFAULT-VALUE})")
    String backend;

    @Option(names = "--backend-option", description = "backend option name=value (repeatable)")
    Map<String, String> backendOptions = new LinkedHashMap<>();

    @Override
    public Integer call() throws java.io.IOException {
        if (iterations < 1 || warmup < 0) {
            throw new IllegalArgumentException("--iterations must be >= 1 and --warmup >= 0");
        }
        PrintStream out = System.out;
        if (gemm) {
            io.github.sae4j.core.bench.GemmBenchmark.main(new String[] {
                    backendOptions.getOrDefault("threads", String.valueOf(Runtime.getRuntime().availableProcessors())),
                    String.valueOf(iterations)});
            return 0;
        }
        if (dataParallel != null) {
            int threads = Integer.parseInt(backendOptions.getOrDefault("threads",
                    String.valueOf(Runtime.getRuntime().availableProcessors())));
            var r = DataParallelBenchmark.run(new DataParallelBenchmark.Setup(batch, dIn, latents, k, threads,
                    dataParallel), warmup, iterations, out);
            DataParallelBenchmark.print(r, out);
            if (json != null) {
                DataParallelBenchmark.writeJson(r, json);
                out.println("wrote " + json);
            }
            return 0;
        }
        try (Backend b = Plugins.openBackend(backend, backendOptions)) {
            var device = b.devices().getFirst();
            out.println("backend: " + b.name() + ", device: " + device.description());
            TrainStepBenchmark.Result r = TrainStepBenchmark.run(device,
                    new TrainStepBenchmark.Shape(batch, dIn, latents, k, auxK), warmup, iterations, out);
            TrainStepBenchmark.print(r, out);
        }
        return 0;
    }
}
