package io.github.sae4j.cli;

import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.model.GenerationOptions;
import io.github.sae4j.api.model.GenerationResult;
import io.github.sae4j.api.model.HookPoint;
import io.github.sae4j.api.model.LanguageModel;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.checkpoint.SaeCheckpoint;
import io.github.sae4j.core.steer.Steering;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sae4j steer}: a continuation with and without features pushed, side by side with the same seed. */
@Command(name = "steer", sortOptions = false, description = {
        "Continue a prompt twice with the same seed: as the model would, and with SAE features pushed through the",
        "SAE's hook: add (the decoder direction), bias (before TopK, competing for the k slots) or clamp (after TopK,",
        "keeping the SAE's error term)."})
final class SteerCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--sae", required = true, paramLabel = "DIR", description = "the SAE whose features steer")
    Path sae;

    @Option(names = "--feature", required = true, paramLabel = "LATENT=STRENGTH",
            description = "a feature and its strength, e.g. 1234=+8 or 77=-4 (repeatable)")
    List<String> features;

    @Option(names = "--mode", defaultValue = "add", description = "add, bias or clamp (default ${DEFAULT-VALUE})")
    String mode;

    @Option(names = "--positions", defaultValue = "all",
            description = "all, prompt or generated positions (default ${DEFAULT-VALUE})")
    String positions;

    @Option(names = {"-p", "--prompt"}, required = true, description = "prompt text")
    String prompt;

    @Option(names = "--chat", description = "wrap the prompt as a user turn in the chat template")
    boolean chat;

    @Mixin
    SamplingOptions sampling;

    @Mixin
    ModelOptions modelOptions;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Steering.Mode m = Steering.Mode.parse(mode);
        Steering.Positions where = Steering.Positions.parse(positions);
        List<Steering.Edit> edits = new ArrayList<>();
        for (String f : features) {
            int eq = f.indexOf('=');
            try {
                edits.add(new Steering.Edit(Integer.parseInt(f.substring(0, eq).trim()),
                        Double.parseDouble(f.substring(eq + 1).trim()), m));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("--feature takes LATENT=STRENGTH, e.g. 1234=+8; '" + f
                        + "' is not one", e);
            }
        }
        GenerationOptions options = sampling.options();
        try (LanguageModel model = modelOptions.open();
             Backend b = Plugins.openBackend("java", Map.of());
             Sae s = SaeCheckpoint.load(sae, b.devices().getFirst(), Plugins.architectures())) {
            String at = s.spec().metadata().get("hook_point");
            if (at == null || at.isEmpty()) {
                throw new IllegalArgumentException(sae + "/cfg.json names no hook point to steer at");
            }
            if (s.spec().dIn() != model.info().dModel()) {
                throw new IllegalArgumentException("the SAE reads d_in=" + s.spec().dIn() + " but " + model.info().name()
                        + " has d_model=" + model.info().dModel());
            }
            HookPoint hook = HookPoint.parse(at);
            int[] ids = chat ? model.tokenizer().encodeChat(List.of(io.github.sae4j.api.model.ChatMessage.user(prompt)),
                    true) : model.tokenizer().encode(prompt, true);
            Steering steering = new Steering(s, hook, edits, where, ids.length);
            long t0 = System.nanoTime();
            GenerationResult plain = model.generate(ids, options, List.of(), null);
            double plainSeconds = (System.nanoTime() - t0) / 1e9;
            t0 = System.nanoTime();
            GenerationResult steered = model.generate(ids, options, List.of(steering), null);
            double steeredSeconds = (System.nanoTime() - t0) / 1e9;
            out.println("prompt:    " + prompt);
            out.println("unsteered: " + plain.text().strip());
            out.printf(Locale.ROOT, "steered:   %s%n", steered.text().strip());
            out.printf(Locale.ROOT, "(%s at %s, %s positions, seed %d; %.1f and %.1f tokens/s)%n", features, hook,
                    where.name().toLowerCase(Locale.ROOT), options.seed(), plain.tokens().length / plainSeconds,
                    steered.tokens().length / steeredSeconds);
            return 0;
        }
    }
}
