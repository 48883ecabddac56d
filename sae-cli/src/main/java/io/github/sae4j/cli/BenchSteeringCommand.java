package io.github.sae4j.cli;

import io.github.sae4j.core.bench.SteeringBenchmark;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sae4j bench steering}: generation tokens/s unsteered and in each steering mode, in one run. */
@Command(name = "steering", sortOptions = false, description = {
        "Generate with the embedded model unsteered and with each steering mode (add, bias, clamp; one latent, all",
        "positions), the same prompts and token counts, rounds interleaved after a warm-up; print the median",
        "tokens/s and each mode's cost, 1 - steered / unsteered (target: at most 10%%)."})
final class BenchSteeringCommand implements Callable<Integer> {

    @Option(names = "--model", paramLabel = "DIR|FILE.gguf",
            description = "model (default: the embedded tiny Llama 3, " + ModelOptions.EMBEDDED + ")")
    Path model;

    @Option(names = "--sae", paramLabel = "DIR",
            description = "the SAE that steers (default: a random TopK SAE, 2048 latents, k = 16, at blocks.4.hook_resid_post, seed 1)")
    Path sae;

    @Option(names = "--prompts", defaultValue = "8", description = "fixed prompts, one generation each (default ${DEFAULT-VALUE})")
    int prompts;

    @Option(names = "--new-tokens", defaultValue = "64", description = "tokens generated per prompt, stop tokens off (default ${DEFAULT-VALUE})")
    int newTokens;

    @Option(names = "--rounds", defaultValue = "5", description = "timed rounds; medians are reported (default ${DEFAULT-VALUE})")
    int rounds;

    @Option(names = "--warmup", defaultValue = "2", description = "untimed rounds first (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--feature", defaultValue = "0", description = "the steered latent (default ${DEFAULT-VALUE})")
    int feature;

    @Option(names = "--strength", defaultValue = "8", description = "its strength (default ${DEFAULT-VALUE})")
    double strength;

    @Option(names = "--threads", description = "threads of the model and the SAE backend (default: all processors)")
    Integer threads;

    @Option(names = "--json", paramLabel = "FILE", description = "also write the result as JSON")
    Path json;

    @Override
    public Integer call() throws Exception {
        SteeringBenchmark.Result r = SteeringBenchmark.run(model != null ? model : ModelOptions.embeddedModel(), sae,
                new SteeringBenchmark.Options(prompts, newTokens, rounds, warmup, feature, strength),
                threads != null ? threads : Runtime.getRuntime().availableProcessors(), System.out);
        if (json != null) {
            SteeringBenchmark.writeJson(r, json);
            System.out.println("wrote " + json);
        }
        return 0;
    }
}
