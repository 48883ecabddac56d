package io.github.sae4j.cli;

import io.github.sae4j.api.metrics.MetricsSinkProvider;
import io.github.sae4j.api.plugin.PluginRegistry;
import io.github.sae4j.api.sae.SaeArchitecture;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.metrics.ReconstructionMetrics;
import io.github.sae4j.core.train.Trainer;
import io.github.sae4j.core.train.TrainerConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sae4j train}: trains an SAE on stored activations, resumably. */
@Command(name = "train", sortOptions = false, description = {
        "Train an SAE on activation shards. Writes <out>/train-config.json, metrics.jsonl, metrics.png,",
        "checkpoints/step-N/ (every --checkpoint-every steps) and the final SAE in <out>/sae/.",
        "After a crash or kill, run again with --resume --out <out>: it continues from the last checkpoint",
        "and ends with the same weights as a run that was never stopped."})
final class TrainCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--data", description = "activation shards (a directory of shard-*.arrow)")
    Path data;

    @Option(names = "--out", required = true, description = "run directory")
    Path out;

    @Option(names = "--resume", description = "continue the run in --out from its last checkpoint, with its saved settings")
    boolean resume;

    @Option(names = "--arch", defaultValue = "topk", description = "SAE architecture (default: ${DEFAULT-VALUE}; see 'sae4j plugins')")
    String architecture;

    @Option(names = "--latents", description = "number of latents (d_sae)")
    Integer latents;

    @Option(names = "-k", description = "TopK: active latents per token (same as --set k=K)")
    Integer k;

    @Option(names = "--set", description = "an architecture setting, name=value (repeatable), e.g. --set l1_coefficient=5")
    Map<String, String> settings = new LinkedHashMap<>();

    @Option(names = "--steps", description = "optimizer steps")
    Long steps;

    @Option(names = "--batch-size", description = "activation rows per step (default 4096)")
    Integer batchSize;

    @Option(names = "--lr", description = "peak learning rate (default 2e-4)")
    Double lr;

    @Option(names = "--warmup-steps", description = "linear warm-up steps (default: 5%% of steps, at most 1000)")
    Long warmup;

    @Option(names = "--lr-floor", description = "final learning rate as a fraction of the peak (default 0.1)")
    Double lrFloor;

    @Option(names = "--beta1", description = "AdamW beta1 (default 0.85)")
    Double beta1;

    @Option(names = "--beta2", description = "AdamW beta2 (default 0.9999)")
    Double beta2;

    @Option(names = "--eps", description = "AdamW epsilon (default 6.25e-10)")
    Double eps;

    @Option(names = "--weight-decay", description = "AdamW weight decay (default 0)")
    Double weightDecay;

    @Option(names = "--seed", description = "seeds initialization and data order (default 0)")
    Long seed;

    @Option(names = "--aux-k", description = "AuxK: dead latents used to model the error (default 512; 0 turns AuxK off)")
    Integer auxK;

    @Option(names = "--aux-k-coefficient", description = "weight of the AuxK loss (default 1/32)")
    Double auxKCoefficient;

    @Option(names = "--dead-tokens", description = "a latent is dead after this many tokens without firing (default 10M)")
    Long deadTokens;

    @Option(names = "--normalize", description = "none; center: subtract the data mean; unit: scale so E||x||^2 = 1; "
            + "scalar: scale so E||x||^2 = d_in (default none). Recorded in cfg.json, applied wherever the SAE runs")
    String normalize;

    @Option(names = "--validation-fraction", description = "share of the data held out (default 0.02)")
    Double validationFraction;

    @Option(names = "--validation-every", description = "steps between validation passes (default 500)")
    Long validationEvery;

    @Option(names = "--validation-tokens", description = "held-out rows used per validation (default 65536)")
    Integer validationTokens;

    @Option(names = "--checkpoint-every", description = "steps between checkpoints (default 1000)")
    Long checkpointEvery;

    @Option(names = "--keep-checkpoints", description = "newest checkpoints kept (default 3)")
    Integer keepCheckpoints;

    @Option(names = "--log-every", description = "steps between metric records (default 10)")
    Long logEvery;

    @Option(names = "--shuffle-window", description = "rows shuffled together (default 262144)")
    Integer shuffleWindow;

    @Option(names = "--backend", description = "compute backend (default java; see 'sae4j plugins')")
    String backend;

    @Option(names = "--backend-option", description = "backend option name=value, e.g. threads=2 (repeatable)")
    Map<String, String> backendOptions = new LinkedHashMap<>();

    @Option(names = "--device", description = "device index within the backend (default 0)")
    Integer device;

    @Option(names = "--devices", split = ",", paramLabel = "I,J,...", description = "train data-parallel on these "
            + "devices of the backend, one SAE replica each on a slice of every batch (e.g. 0,1; on the java backend "
            + "add --backend-option devices=2 for two logical CPU devices)")
    List<Integer> devices;

    @Option(names = "--shard-latents", description = "with --devices: split the SAE's latents over the devices instead "
            + "of replicating it, for SAEs too wide for one device (topk only; see docs/multi-device.md)")
    boolean shardLatents;

    @Option(names = "--metrics", split = ",", description = "metrics sinks (default: all installed, e.g. jsonl,plot)")
    List<String> metrics;

    @Option(names = "--quiet", description = "no progress output")
    boolean quiet;

    @Option(names = "--residual-of", paramLabel = "DIR", description = "train on the residuals x - x_hat of this frozen "
            + "SAE (stage 2 of a stack; combine them with 'sae4j stack'). Recorded as residual_of in cfg.json")
    Path residualOf;

    @Override
    public Integer call() throws Exception {
        PrintWriter console = spec.commandLine().getOut();
        Trainer.Outcome outcome;
        try (TrainingProgress progress = new TrainingProgress(console, quiet)) {
            Trainer trainer = resume ? resumeTrainer(progress) : Trainer.start(config(), out, progress);
            outcome = trainer.run(sinks());
        }
        console.printf(Locale.ROOT, "trained %d steps (%d tokens) in %.1f s%n", outcome.steps(), outcome.tokens(),
                outcome.secondsTraining());
        ReconstructionMetrics.Result v = outcome.validation();
        if (v != null) {
            console.printf(Locale.ROOT, "validation: FVU %.4f  L0 %.2f  dead %.2f%%  cosine %.4f%n", v.fvu(), v.l0(),
                    100 * v.deadFraction(), v.cosine());
        }
        console.println("SAE written to " + outcome.saeDirectory());
        console.println("metrics: " + out.resolve("metrics.jsonl") + ", plot: " + out.resolve("metrics.png"));
        return 0;
    }

    private Trainer resumeTrainer(TrainingProgress progress) throws java.io.IOException {
        rejectSettingsOnResume();
        return Trainer.resume(out, progress);
    }

    private List<MetricsSinkProvider> sinks() {
        PluginRegistry<MetricsSinkProvider> registry = Plugins.metricsSinks();
        if (metrics == null) {
            return registry.installed();
        }
        List<MetricsSinkProvider> chosen = new ArrayList<>();
        for (String name : metrics) {
            if (!name.isBlank() && !name.equals("none")) {
                chosen.add(registry.get(name.trim()));
            }
        }
        return chosen;
    }

    private void rejectSettingsOnResume() {
        List<String> given = new ArrayList<>();
        for (OptionSpec o : spec.commandLine().getParseResult().matchedOptions()) {
            String name = o.longestName();
            if (!name.equals("--out") && !name.equals("--resume") && !name.equals("--quiet") && !name.equals("--metrics")) {
                given.add(name);
            }
        }
        if (!given.isEmpty()) {
            throw new IllegalArgumentException("--resume continues with the settings saved in " + out.resolve(
                    Trainer.CONFIG_FILE) + "; remove " + String.join(", ", given) + " (or start a new run with another --out)");
        }
    }

    private TrainerConfig config() {
        if (data == null) {
            throw new IllegalArgumentException("missing --data: the activation shards to train on (make some with 'sae4j synth')");
        }
        if (latents == null) {
            throw new IllegalArgumentException("missing --latents: the number of SAE latents (d_sae)");
        }
        if (steps == null) {
            throw new IllegalArgumentException("missing --steps: how many optimizer steps to train");
        }
        TrainerConfig.Builder b = TrainerConfig.builder().data(data.toString()).architecture(architecture)
                .latents(latents).steps(steps);
        Map<String, Object> raw = new LinkedHashMap<>(settings);
        if (k != null) {
            raw.put("k", String.valueOf(k));
        }
        // Typed and checked against the architecture's declared settings, so train-config.json holds {"k": 32}.
        SaeArchitecture arch = Plugins.architectures().get(architecture);
        b.settings(SaeSpec.resolveSettings(arch.name(), arch.hyperParameters(), raw));
        if (batchSize != null) b.batchSize(batchSize);
        if (lr != null) b.learningRate(lr);
        if (warmup != null) b.warmupSteps(warmup);
        if (lrFloor != null) b.lrFloor(lrFloor);
        if (beta1 != null) b.beta1(beta1);
        if (beta2 != null) b.beta2(beta2);
        if (eps != null) b.eps(eps);
        if (weightDecay != null) b.weightDecay(weightDecay);
        if (seed != null) b.seed(seed);
        if (auxK != null) b.auxK(auxK);
        if (auxKCoefficient != null) b.auxKCoefficient(auxKCoefficient);
        if (deadTokens != null) b.deadTokens(deadTokens);
        if (normalize != null) b.normalize(normalize);
        if (validationFraction != null) b.validationFraction(validationFraction);
        if (validationEvery != null) b.validationEvery(validationEvery);
        if (validationTokens != null) b.validationTokens(validationTokens);
        if (checkpointEvery != null) b.checkpointEvery(checkpointEvery);
        if (keepCheckpoints != null) b.keepCheckpoints(keepCheckpoints);
        if (logEvery != null) b.logEvery(logEvery);
        if (shuffleWindow != null) b.shuffleWindowRows(shuffleWindow);
        if (backend != null) b.backend(backend);
        b.backendOptions(backendOptions);
        if (device != null && devices != null) {
            throw new IllegalArgumentException("give --device (one device) or --devices (data-parallel), not both");
        }
        if (device != null) b.device(device);
        if (devices != null) b.devices(devices);
        b.shardLatents(shardLatents);
        if (residualOf != null) b.residualOf(residualOf.toString());
        TrainerConfig config = b.build();
        // Check the settings against the sizes before anything is written.
        arch.spec(1, config.latents(), config.settings(), 1.0, Map.of());
        return config;
    }
}
