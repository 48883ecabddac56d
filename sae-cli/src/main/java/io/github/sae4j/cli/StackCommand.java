package io.github.sae4j.cli;

import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.core.checkpoint.SaeCheckpoint;
import io.github.sae4j.core.residual.ResidualActivationSource;
import io.github.sae4j.core.residual.StackCheckpoint;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code sae4j stack}: one SAE that applies stage 1, then stage 2 to stage 1's residual, and so on. */
@Command(name = "stack", sortOptions = false, description = {
        "Combine SAEs trained one on the residuals of the other (sae4j train --residual-of) into one SAE that",
        "applies them in turn: x_hat = x_hat_1 + x_hat_2, latents side by side (stage 1's first). Copies each",
        "stage into <out>/stage-N/. Evaluate it like any SAE (sae4j eval --sae <out>); it cannot be trained."})
final class StackCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--out", required = true, description = "the stack's directory (replaced if it exists)")
    Path out;

    @Parameters(arity = "1..*", paramLabel = "SAE", description = "the stage SAE directories, stage 1 first")
    List<Path> stages;

    @Override
    public Integer call() throws Exception {
        PrintWriter console = spec.commandLine().getOut();
        for (int s = 0; s < stages.size(); s++) {
            Path stage = stages.get(s);
            if (!Files.exists(stage.resolve(SaeCheckpoint.CONFIG)) && Files.exists(stage.resolve("sae").resolve(SaeCheckpoint.CONFIG))) {
                stage = stage.resolve("sae");  // a training run's directory stands for its final SAE
                stages.set(s, stage);
            }
            if (s > 0) {
                SaeSpec stageSpec = SaeCheckpoint.readSpec(stage);
                String of = stageSpec.metadata().get(ResidualActivationSource.RESIDUAL_OF);
                if (of == null) {
                    console.println("warning: stage " + (s + 1) + " (" + stage + ") was not trained on residuals "
                            + "(its cfg.json has no residual_of); the stack applies it to stage " + s + "'s residual anyway");
                }
            }
        }
        SaeSpec stack = StackCheckpoint.write(stages, out);
        console.printf(Locale.ROOT, "wrote the stack of %d SAEs (%d latents, d_in %d) to %s%n", stages.size(),
                stack.dSae(), stack.dIn(), out);
        return 0;
    }
}
