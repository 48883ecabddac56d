package io.github.sae4j.cli;

import io.github.sae4j.core.store.ActivationDType;
import io.github.sae4j.core.synth.GroundTruth;
import io.github.sae4j.core.synth.SyntheticConfig;
import io.github.sae4j.core.synth.SyntheticDatasetWriter;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sae4j synth}: synthetic activations with a known dictionary. */
@Command(name = "synth", sortOptions = false, description = {
        "Write synthetic activation shards: sparse combinations of known unit feature directions plus noise.",
        "The ground-truth dictionary goes to <out>/ground_truth.safetensors, so you can check what an SAE recovers."})
final class SynthCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--out", required = true, description = "dataset directory (must not hold shards yet)")
    Path out;

    @Option(names = "--rows", defaultValue = "200000", description = "activation rows (default ${DEFAULT-VALUE})")
    long rows;

    @Option(names = "--d-model", defaultValue = "64", description = "row width (default ${DEFAULT-VALUE})")
    int dModel;

    @Option(names = "--features", defaultValue = "256", description = "ground-truth features (default ${DEFAULT-VALUE})")
    int features;

    @Option(names = "--mean-active", defaultValue = "4", description = "average active features per row (default ${DEFAULT-VALUE})")
    double meanActive;

    @Option(names = "--frequency-exponent", defaultValue = "0.5",
            description = "feature i fires with probability ~ (i+1)^-exponent (default ${DEFAULT-VALUE})")
    double frequencyExponent;

    @Option(names = "--noise", defaultValue = "0.02", description = "Gaussian noise per dimension (default ${DEFAULT-VALUE})")
    double noise;

    @Option(names = "--offset-norm", defaultValue = "1.0", description = "norm of the constant offset (default ${DEFAULT-VALUE})")
    double offsetNorm;

    @Option(names = "--tokens-per-sentence", defaultValue = "64", description = "rows per pseudo-sentence (default ${DEFAULT-VALUE})")
    int tokensPerSentence;

    @Option(names = "--seed", defaultValue = "0", description = "seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--dtype", defaultValue = "bf16", description = "bf16 or f32 (default ${DEFAULT-VALUE})")
    String dtype;

    @Option(names = "--rows-per-shard", defaultValue = "262144", description = "rows per shard file (default ${DEFAULT-VALUE})")
    int rowsPerShard;

    @Override
    public Integer call() throws Exception {
        SyntheticConfig config = new SyntheticConfig(dModel, features, meanActive, frequencyExponent, 0.5, 1.5, noise,
                offsetNorm, rows, tokensPerSentence, seed);
        ActivationDType type = switch (dtype.toLowerCase(Locale.ROOT)) {
            case "bf16", "bfloat16" -> ActivationDType.BF16;
            case "f32", "float32" -> ActivationDType.F32;
            default -> throw new IllegalArgumentException("--dtype must be bf16 or f32, got '" + dtype + "'");
        };
        PrintWriter console = spec.commandLine().getOut();
        generate(config, out, type, rowsPerShard, console);
        return 0;
    }

    static void generate(SyntheticConfig config, Path out, ActivationDType type, int rowsPerShard, PrintWriter console)
            throws java.io.IOException {
        long start = System.nanoTime();
        long[] lastPrint = {start};
        SyntheticDatasetWriter.write(config, out, type, rowsPerShard, written -> {
            long now = System.nanoTime();
            if (now - lastPrint[0] > 2_000_000_000L) {
                lastPrint[0] = now;
                console.printf(Locale.ROOT, "synth: %d / %d rows (%.0f%%)%n", written, config.rows(),
                        100.0 * written / config.rows());
                console.flush();
            }
        });
        console.printf(Locale.ROOT, "wrote %d synthetic rows (d_model=%d, %d features, %.1f active per row) to %s in %.1f s%n",
                config.rows(), config.dModel(), config.features(), config.meanActive(), out,
                (System.nanoTime() - start) / 1e9);
        console.println("ground truth: " + out.resolve(GroundTruth.FILE));
    }
}
