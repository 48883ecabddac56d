package io.github.sae4j.examples;

import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.store.ActivationDType;
import io.github.sae4j.core.synth.GroundTruth;
import io.github.sae4j.core.synth.SyntheticConfig;
import io.github.sae4j.core.synth.SyntheticDatasetWriter;
import io.github.sae4j.core.train.Trainer;
import io.github.sae4j.core.train.TrainerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * sae4j as a library: write synthetic activations, train a TopK SAE with the same trainer the CLI uses, and check
 * how many ground-truth features its decoder found. Run with an output directory as the argument.
 */
public final class TrainFromJava {

    private TrainFromJava() {
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "runs/library-example");
        Path data = out.resolve("activations");
        if (!Files.exists(data)) {
            SyntheticConfig synth = new SyntheticConfig(64, 256, 4, 0.5, 0.5, 1.5, 0.02, 1.0, 100_000, 64, 7);
            SyntheticDatasetWriter.write(synth, data, ActivationDType.BF16, 1 << 18, rows -> { });
        }
        TrainerConfig config = TrainerConfig.builder().data(data.toString()).architecture("topk").latents(512)
                .setting("k", 6).batchSize(512).steps(1000).learningRate(2e-3).deadTokens(50_000).auxK(64).build();
        Path run = out.resolve("run");
        Trainer trainer = Files.exists(run.resolve(Trainer.CONFIG_FILE)) ? Trainer.resume(run, null)
                : Trainer.start(config, run, null);
        Trainer.Outcome outcome = trainer.run(Plugins.metricsSinks().installed());

        GroundTruth truth = GroundTruth.read(data.resolve(GroundTruth.FILE));
        try (var reader = io.github.sae4j.core.io.Safetensors.open(outcome.saeDirectory().resolve("sae.safetensors"))) {
            double recovered = truth.fractionRecovered(reader.readF32("W_dec"), 512, 0.9);
            System.out.printf(Locale.ROOT, "validation FVU %.4f, L0 %.2f; %.1f%% of %d ground-truth features recovered%n",
                    outcome.validation().fvu(), outcome.validation().l0(), 100 * recovered, truth.features());
        }
    }
}
