package io.github.sae4j.core.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.model.GenerationOptions;
import io.github.sae4j.api.model.GenerationResult;
import io.github.sae4j.api.model.HookPoint;
import io.github.sae4j.api.model.LanguageModel;
import io.github.sae4j.api.model.ResidualHook;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.checkpoint.SaeCheckpoint;
import io.github.sae4j.core.sae.TopKArchitecture;
import io.github.sae4j.core.steer.Steering;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Generation throughput with steering against generation without it, in one run: the same prompts, the same
 * model, the same threads and the same number of generated tokens (greedy, no stop tokens), once unsteered and once
 * per steering mode (add, bias, clamp; one latent, all positions). Every configuration is warmed up, then the rounds
 * interleave the configurations (unsteered, add, bias, clamp, unsteered, ...) and medians are reported, with each
 * mode's cost {@code 1 - steered / unsteered} tokens/s.
 *
 * <p>The SAE is the one given with {@code --sae}, or a TopK SAE built here (2,048 latents, k = 16, at
 * {@code blocks.4.hook_resid_post}), randomly initialized with a fixed seed: the cost of steering does not depend on
 * what the latents mean.
 *
 * <pre>scripts/bench-steering.sh [--model DIR] [--sae DIR] [--prompts N] [--new-tokens N] [--rounds N]
 *     [--warmup N] [--feature L] [--strength S] [--threads N] [--json FILE]</pre>
 */
public final class SteeringBenchmark {

    /** The fixed prompts, taken in order (and again from the start when more are asked for). */
    static final List<String> PROMPTS = List.of(
            "The people of the town gathered in the square",
            "Once upon a time there was a little girl who",
            "The weather today is",
            "Scientists have discovered a new way to",
            "In the morning she walked to the station and",
            "The history of the city begins with",
            "He opened the door and saw",
            "The best way to learn a language is");

    /** The modes, in the order the rounds run them; null is the unsteered baseline. */
    static final List<Steering.Mode> MODES = Arrays.asList(null, Steering.Mode.ADD, Steering.Mode.BIAS,
            Steering.Mode.CLAMP);

    /** The steering cost the benchmark is judged against. */
    public static final double TARGET_MAX_COST = 0.10;

    private static final ObjectMapper JSON = new ObjectMapper();

    private SteeringBenchmark() {
    }

    /**
     * What to measure.
     *
     * @param prompts   how many of the fixed prompts to continue, one generation call each
     * @param newTokens tokens generated per prompt (stop tokens are disabled, so every configuration generates
     *                  exactly {@code prompts * newTokens})
     * @param rounds    timed rounds, each running every configuration once
     * @param warmup    untimed rounds first
     * @param latent    the steered latent
     * @param strength  its strength
     */
    public record Options(int prompts, int newTokens, int rounds, int warmup, int latent, double strength) {

        public Options {
            if (prompts < 1 || newTokens < 1 || rounds < 1 || warmup < 0) {
                throw new IllegalArgumentException("the steering benchmark needs prompts, new tokens and rounds >= 1 and "
                        + "warm-up rounds >= 0; got " + prompts + ", " + newTokens + ", " + rounds + ", " + warmup);
            }
        }

        public static Options defaults() {
            return new Options(8, 64, 5, 2, 0, 8.0);
        }
    }

    /**
     * One configuration's measurements.
     *
     * @param mode           "unsteered", "add", "bias" or "clamp"
     * @param seconds        the time of each timed round
     * @param tokensPerSecond generated tokens over the median time
     * @param cost           {@code 1 - tokensPerSecond / unsteered tokensPerSecond} (0 for the baseline)
     * @param pairedCost     the median over rounds of {@code 1 - unsteered time / this time} within the same round,
     *                       less exposed to the machine's speed drifting between rounds
     * @param hookShare      the median over rounds of the share of the round's time spent inside the steering hook:
     *                       the work steering adds, measured directly and so less exposed to other processes than
     *                       {@code cost} (it leaves out indirect costs such as caches the hook evicts)
     * @param changedPrompts prompts whose continuation differs from the unsteered one (0 for the baseline)
     */
    public record ModeResult(String mode, double[] seconds, double medianSeconds, double tokensPerSecond, double cost,
                             double pairedCost, double hookShare, int changedPrompts) {
    }

    /** A hook that adds up the time spent in the hook it wraps. */
    static final class TimedHook implements ResidualHook {
        private final ResidualHook inner;
        long nanos;

        TimedHook(ResidualHook inner) {
            this.inner = inner;
        }

        @Override
        public HookPoint point() {
            return inner.point();
        }

        @Override
        public void onResidual(io.github.sae4j.api.model.ResidualSlice slice) {
            long t0 = System.nanoTime();
            inner.onResidual(slice);
            nanos += System.nanoTime() - t0;
        }
    }

    /** The run: what was measured, on what, and the result per configuration (the baseline first). */
    public record Result(String model, String hook, String sae, int threads, Options options, long tokensPerConfig,
                         List<ModeResult> modes) {

        /** The largest cost among the steered modes. */
        public double maxCost() {
            return modes.stream().skip(1).mapToDouble(ModeResult::cost).max().orElse(0);
        }
    }

    public static void main(String[] args) throws Exception {
        Path modelPath = Path.of("models/tiny-llama3");
        Path saePath = null;
        Path jsonOut = null;
        Options d = Options.defaults();
        int prompts = d.prompts();
        int newTokens = d.newTokens();
        int rounds = d.rounds();
        int warmup = d.warmup();
        int latent = d.latent();
        double strength = d.strength();
        int threads = Runtime.getRuntime().availableProcessors();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--model" -> modelPath = Path.of(args[++i]);
                case "--sae" -> saePath = Path.of(args[++i]);
                case "--prompts" -> prompts = Integer.parseInt(args[++i]);
                case "--new-tokens" -> newTokens = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--feature" -> latent = Integer.parseInt(args[++i]);
                case "--strength" -> strength = Double.parseDouble(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--json" -> jsonOut = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + "; use --model DIR "
                        + "--sae DIR --prompts N --new-tokens N --rounds N --warmup N --feature L --strength S "
                        + "--threads N --json FILE");
            }
        }
        Result r = run(modelPath, saePath, new Options(prompts, newTokens, rounds, warmup, latent, strength), threads,
                System.out);
        if (jsonOut != null) {
            writeJson(r, jsonOut);
            System.out.println("wrote " + jsonOut);
        }
    }

    /** Opens the model (and the SAE, or builds the random one) with {@code threads} threads each and measures. */
    public static Result run(Path modelPath, Path saePath, Options options, int threads, PrintStream out)
            throws IOException {
        Map<String, String> threadOption = Map.of("threads", String.valueOf(threads));
        try (LanguageModel model = Plugins.openModel(modelPath, threadOption);
             Backend backend = Plugins.openBackend("java", threadOption);
             Sae sae = saePath != null ? SaeCheckpoint.load(saePath, backend.devices().getFirst(), Plugins.architectures())
                     : randomSae(model.info().dModel(), backend)) {
            String at = sae.spec().metadata().get("hook_point");
            if (at == null || at.isEmpty()) {
                throw new IllegalArgumentException(saePath + "/cfg.json names no hook point to steer at");
            }
            if (sae.spec().dIn() != model.info().dModel()) {
                throw new IllegalArgumentException("the SAE reads d_in=" + sae.spec().dIn() + " but "
                        + model.info().name() + " has d_model=" + model.info().dModel());
            }
            String described = saePath != null ? saePath.toString() : "random TopK, " + sae.spec().dSae()
                    + " latents, k = " + sae.spec().intSetting("k") + ", seed 1";
            return run(model, sae, HookPoint.parse(at), described, threads, options, out);
        }
    }

    /**
     * The TopK SAE the benchmark uses when none is given: 2,048 latents, k = 16, at {@code blocks.4.hook_resid_post},
     * initialized from seed 1 (decoder rows in random directions, encoder their transpose).
     */
    static Sae randomSae(int dIn, Backend backend) {
        TopKArchitecture topk = new TopKArchitecture();
        SaeSpec spec = topk.spec(dIn, 2048, Map.of("k", 16), 1.0, Map.of("hook_point", "blocks.4.hook_resid_post"));
        Sae sae = topk.create(spec, backend.devices().getFirst());
        sae.initialize(1, null);
        return sae;
    }

    /** Measures generation on {@code model} unsteered and in each mode, steering {@code sae} at {@code hook}. */
    public static Result run(LanguageModel model, Sae sae, HookPoint hook, String saeDescription, int threads,
                             Options options, PrintStream out) {
        List<int[]> prompts = new ArrayList<>();
        for (int p = 0; p < options.prompts(); p++) {
            prompts.add(model.tokenizer().encode(PROMPTS.get(p % PROMPTS.size()), true));
        }
        // Greedy with no stop tokens: every configuration generates exactly prompts x newTokens tokens.
        GenerationOptions generation = GenerationOptions.greedy(options.newTokens()).withStopTokens();
        List<List<ResidualHook>> hooks = new ArrayList<>();
        for (Steering.Mode mode : MODES) {
            // Positions ALL makes the prompt length irrelevant, so one hook serves every prompt.
            hooks.add(mode == null ? List.of() : List.of(new TimedHook(new Steering(sae, hook,
                    List.of(new Steering.Edit(options.latent(), options.strength(), mode)), Steering.Positions.ALL, 0))));
        }
        long tokens = (long) options.prompts() * options.newTokens();
        out.printf(Locale.ROOT, "steering benchmark: %s, SAE %s at %s, latent %d strength %s, all positions; %d prompts x "
                        + "%d new tokens (greedy, no stop tokens), %d threads, %d warm-up + %d interleaved rounds%n",
                model.info().name(), saeDescription, hook, options.latent(), options.strength(), options.prompts(),
                options.newTokens(), threads, options.warmup(), options.rounds());

        int configs = MODES.size();
        double[][] seconds = new double[configs][options.rounds()];
        double[][] inHook = new double[configs][options.rounds()];
        int[][][] continuations = new int[configs][][];
        for (int round = -options.warmup(); round < options.rounds(); round++) {
            for (int c = 0; c < configs; c++) {
                int[][] generated = new int[prompts.size()][];
                TimedHook timed = hooks.get(c).isEmpty() ? null : (TimedHook) hooks.get(c).getFirst();
                long hookBefore = timed == null ? 0 : timed.nanos;
                long t0 = System.nanoTime();
                for (int p = 0; p < prompts.size(); p++) {
                    GenerationResult g = model.generate(prompts.get(p), generation, hooks.get(c), null);
                    generated[p] = g.tokens();
                }
                double s = (System.nanoTime() - t0) / 1e9;
                for (int[] g : generated) {
                    if (g.length != options.newTokens()) {
                        throw new IllegalStateException("a continuation has " + g.length + " tokens, not "
                                + options.newTokens() + " (the model's context is full?); ask for fewer --new-tokens");
                    }
                }
                continuations[c] = generated;
                if (round >= 0) {
                    seconds[c][round] = s;
                    inHook[c][round] = timed == null ? 0 : (timed.nanos - hookBefore) / 1e9 / s;
                }
            }
        }

        List<ModeResult> results = new ArrayList<>();
        double baseRate = tokens / median(seconds[0]);
        for (int c = 0; c < configs; c++) {
            double m = median(seconds[c]);
            double rate = tokens / m;
            double[] paired = new double[options.rounds()];
            for (int r = 0; r < paired.length; r++) {
                paired[r] = 1 - seconds[0][r] / seconds[c][r];
            }
            int changed = 0;
            for (int p = 0; p < prompts.size(); p++) {
                changed += Arrays.equals(continuations[c][p], continuations[0][p]) ? 0 : 1;
            }
            results.add(new ModeResult(MODES.get(c) == null ? "unsteered" : MODES.get(c).name().toLowerCase(Locale.ROOT),
                    seconds[c], m, rate, c == 0 ? 0 : 1 - rate / baseRate, c == 0 ? 0 : median(paired),
                    median(inHook[c]), changed));
        }
        Result result = new Result(model.info().name(), hook.toString(), saeDescription, threads, options, tokens,
                results);
        print(result, out);
        return result;
    }

    static void print(Result r, PrintStream out) {
        for (ModeResult m : r.modes()) {
            if (m.mode().equals("unsteered")) {
                out.printf(Locale.ROOT, "  %-9s %8.3f s  %8.1f tokens/s   baseline%n", m.mode(), m.medianSeconds(),
                        m.tokensPerSecond());
            } else {
                out.printf(Locale.ROOT, "  %-9s %8.3f s  %8.1f tokens/s   cost %5.1f%% (per-round pairs %5.1f%%; "
                                + "time in the hook %4.1f%%; target <= %.0f%%), %d of %d continuations changed%n",
                        m.mode(), m.medianSeconds(), m.tokensPerSecond(), 100 * m.cost(), 100 * m.pairedCost(),
                        100 * m.hookShare(), 100 * TARGET_MAX_COST, m.changedPrompts(), r.options().prompts());
            }
        }
        StringBuilder rounds = new StringBuilder("  rounds (s):");
        for (ModeResult m : r.modes()) {
            rounds.append(' ').append(m.mode()).append(' ').append(Arrays.toString(m.seconds()));
        }
        out.println(rounds);
    }

    /** The result as the JSON that {@code docs/measurements/bench-steering.json} holds. */
    public static ObjectNode json(Result r) {
        ObjectNode root = JSON.createObjectNode();
        root.put("threads", r.threads());
        root.put("cpu", cpuName());
        root.put("model", r.model());
        root.put("hook", r.hook());
        root.put("sae", r.sae());
        root.put("latent", r.options().latent());
        root.put("strength", r.options().strength());
        root.put("positions", "all");
        root.put("prompts", r.options().prompts());
        root.put("new_tokens_per_prompt", r.options().newTokens());
        root.put("tokens_per_config", r.tokensPerConfig());
        root.put("warmup_rounds", r.options().warmup());
        root.put("rounds", r.options().rounds());
        ObjectNode modes = root.putObject("modes");
        for (ModeResult m : r.modes()) {
            ObjectNode node = modes.putObject(m.mode());
            ArrayNode rounds = node.putArray("seconds");
            for (double s : m.seconds()) {
                rounds.add(s);
            }
            node.put("median_s", m.medianSeconds());
            node.put("tokens_per_s", m.tokensPerSecond());
            if (!m.mode().equals("unsteered")) {
                node.put("cost", m.cost());
                node.put("paired_cost", m.pairedCost());
                node.put("hook_share", m.hookShare());
                node.put("changed_continuations", m.changedPrompts());
            }
        }
        root.put("max_cost", r.maxCost());
        root.put("target_max_cost", TARGET_MAX_COST);
        return root;
    }

    public static void writeJson(Result r, Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), json(r));
    }

    private static String cpuName() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux: fall through
        }
        return System.getProperty("os.arch");
    }

    private static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
