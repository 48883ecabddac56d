package io.github.sae4j.cli;

import io.github.sae4j.api.metrics.MetricsSinkProvider;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.store.ActivationDType;
import io.github.sae4j.core.synth.SyntheticConfig;
import io.github.sae4j.core.train.Trainer;
import io.github.sae4j.core.train.TrainerConfig;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sae4j demo}: the whole pipeline on the embedded default. Until the model pipeline lands, the default is
 * synthetic activations with a known dictionary: write them, train a TopK SAE, evaluate it and report how much of
 * the ground truth it recovered.
 */
@Command(name = "demo", sortOptions = false, description = {
        "Run the pipeline end to end on the embedded default (synthetic activations with a known dictionary):",
        "synth -> train (TopK + AuxK) -> eval, in --out. Rerunning resumes or reuses what is there."})
final class DemoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--out", defaultValue = "runs/demo", description = "output directory (default ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--steps", defaultValue = "1500", description = "training steps (default ${DEFAULT-VALUE})")
    long steps;

    @Option(names = "--quiet", description = "no progress output")
    boolean quiet;

    static final SyntheticConfig DATA = new SyntheticConfig(128, 512, 6, 0.5, 0.5, 1.5, 0.02, 1.0, 400_000, 64, 1);

    @Override
    public Integer call() throws Exception {
        PrintWriter console = spec.commandLine().getOut();
        Path data = out.resolve("activations");
        Path run = out.resolve("run");
        if (Files.exists(data.resolve("dataset.json"))) {
            console.println("1/3 synthetic activations: reusing " + data);
        } else {
            console.printf(Locale.ROOT, "1/3 synthetic activations: %d rows of d_model %d from %d known features%n",
                    DATA.rows(), DATA.dModel(), DATA.features());
            if (Files.exists(data)) {
                io.github.sae4j.core.io.AtomicFiles.deleteRecursively(data);
            }
            SynthCommand.generate(DATA, data, ActivationDType.BF16, 131_072, console);
        }

        console.println("2/3 training a TopK SAE (1024 latents, k=8, AuxK) in " + run);
        List<MetricsSinkProvider> sinks = Plugins.metricsSinks().installed();
        try (TrainingProgress progress = new TrainingProgress(console, quiet)) {
            Trainer trainer = Files.exists(run.resolve(Trainer.CONFIG_FILE)) ? Trainer.resume(run, progress)
                    : Trainer.start(TrainerConfig.builder().data(data.toString()).architecture("topk").latents(1024)
                            .setting("k", 8).batchSize(1024).steps(steps).learningRate(1e-3).deadTokens(200_000)
                            .auxK(64).validationEvery(250).checkpointEvery(500).logEvery(10)
                            .shuffleWindowRows(131_072).seed(1).build(), run, progress);
            trainer.run(sinks);
        }

        console.println("3/3 evaluating on the held-out split");
        int code = new CommandLine(new EvalCommand()).setOut(console).setErr(spec.commandLine().getErr())
                .execute("--sae", run.resolve(Trainer.FINAL_SAE).toString(), "--data", data.toString(),
                        "--json", out.resolve("eval.json").toString());
        if (code != 0) {
            return code;
        }
        console.println("plot of the training run: " + run.resolve("metrics.png"));
        return 0;
    }
}
