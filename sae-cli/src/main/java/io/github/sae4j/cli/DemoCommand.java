package io.github.sae4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.label.ActivatingExample;
import io.github.sae4j.api.label.LatentExamples;
import io.github.sae4j.api.model.GenerationOptions;
import io.github.sae4j.api.model.HookPoint;
import io.github.sae4j.api.model.LanguageModel;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.checkpoint.SaeCheckpoint;
import io.github.sae4j.core.eval.report.DemoReport;
import io.github.sae4j.core.interpret.TopActivationReader;
import io.github.sae4j.core.interpret.TopActivationWriter;
import io.github.sae4j.core.io.AtomicFiles;
import io.github.sae4j.core.label.LabelStore;
import io.github.sae4j.core.metrics.MetricsPlot;
import io.github.sae4j.core.run.DemoManifest;
import io.github.sae4j.core.steer.Steering;
import io.github.sae4j.core.train.Trainer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sae4j demo}: the whole pipeline on the embedded model and the demo corpus, in one output directory that the
 * web UI ({@code sae4j serve --dir}) reads: sentences, capture, train, eval (reconstruction and spliced), top
 * activations, offline labels, a steering example and an HTML report, then {@code demo.json}. Each stage is the
 * matching {@code sae4j} command run in-process (or, for steering, the library it uses); a rerun reuses the stages
 * whose output is complete, and capture and train continue where they stopped.
 */
@Command(name = "demo", sortOptions = false, description = {
        "Run the whole pipeline on the embedded model and the demo corpus (or --model / --corpus): sentences ->",
        "capture -> train -> eval (reconstruction; CE loss recovered, KL and the random-error control with the SAE",
        "spliced in) -> top activations -> offline labels -> a steering example -> report.html, in --out.",
        "A rerun reuses finished stages; --fresh starts over. Browse the result with: sae4j serve --dir OUT"})
final class DemoCommand implements Callable<Integer> {

    static final String SENTENCES = "sentences.parquet";
    static final String ACTIVATIONS = "acts";
    static final String RUN = "sae";
    static final String SAE = RUN + "/" + Trainer.FINAL_SAE;
    static final String TOP = "top";
    static final String EVAL = "eval.json";
    static final String SPLICED = "spliced.json";
    static final String EVAL_HTML = "eval.html";
    static final String STEERING = "steering.json";
    static final String REPORT = "report.html";
    static final String SETTINGS = "demo-settings.json";
    static final String CORPUS = "data/demo-corpus";
    static final String PROMPT = "The President said that";
    static final long SEED = 1;
    static final int STAGES = 8;

    /** Everything the demo may leave in --out; --fresh deletes a directory only if it holds nothing else. */
    private static final Set<String> OWN = Set.of(SENTENCES, ACTIVATIONS, RUN, TOP, EVAL, SPLICED, EVAL_HTML, STEERING,
            REPORT, SETTINGS, DemoManifest.FILE);

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectMapper SNAKE = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

    @Spec
    CommandSpec spec;

    @Option(names = "--out", defaultValue = "runs/demo", description = "output directory (default ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--model", paramLabel = "DIR|FILE.gguf",
            description = "a Llama 3 model: Hugging Face directory or .gguf (default: the embedded " + ModelOptions.EMBEDDED + ")")
    Path model;

    @Option(names = "--corpus", paramLabel = "PATH",
            description = "a .parquet, .jsonl or .txt corpus or a directory of them (default: " + CORPUS + ")")
    Path corpus;

    @Option(names = "--hook", paramLabel = "blocks.L.hook_...",
            description = "where to capture and splice (default: the residual after block 2/3 of the way down; "
                    + "blocks.4.hook_resid_post on the embedded model)")
    String hook;

    @Option(names = "--latents", defaultValue = "2048", description = "SAE latents (default ${DEFAULT-VALUE})")
    int latents;

    @Option(names = "-k", defaultValue = "16", description = "TopK: active latents per token (default ${DEFAULT-VALUE})")
    int k;

    @Option(names = "--steps", defaultValue = "2000", description = "training steps (default ${DEFAULT-VALUE})")
    long steps;

    @Option(names = "--batch-size", defaultValue = "4096", description = "activation rows per step (default ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--max-sentences", description = "capture at most this many sentences (default: all)")
    Long maxSentences;

    @Option(names = "--eval-sentences", defaultValue = "200",
            description = "sentences scored with the SAE spliced into the model (default ${DEFAULT-VALUE})")
    int evalSentences;

    @Option(names = "--top", defaultValue = "50", description = "sentences kept per latent (default ${DEFAULT-VALUE})")
    int top;

    @Option(names = "--steer-tokens", defaultValue = "30",
            description = "tokens generated in the steering example (default ${DEFAULT-VALUE})")
    int steerTokens;

    @Option(names = "--fresh", description = "delete what an earlier demo left in --out and start over")
    boolean fresh;

    @Option(names = "--quiet", description = "only the stage headers and the summary")
    boolean quiet;

    private PrintWriter console;
    private PrintWriter stageOut;
    /** Set once a stage has run rather than been reused: every later stage's output is then out of date. */
    private boolean upstreamRan;

    /** What a stage does when it is not reused. */
    @FunctionalInterface
    private interface Action {
        void run() throws Exception;
    }

    @Override
    public Integer call() throws Exception {
        console = spec.commandLine().getOut();
        stageOut = quiet ? new PrintWriter(Writer.nullWriter()) : console;
        long start = System.nanoTime();
        Path modelPath = model != null ? model : ModelOptions.embeddedModel();
        if (!Files.exists(modelPath)) {
            throw new IOException(modelPath + " does not exist; --model takes a Hugging Face model directory or a "
                    + ".gguf file");
        }
        Path corpusPath = corpus != null ? corpus : ModelOptions.embedded(CORPUS, "", "pass --corpus PATH");
        String hookPoint = hook != null ? HookPoint.parse(hook).toString() : defaultHook(modelPath);
        if (fresh) {
            wipe(out);
        }
        Files.createDirectories(out);
        Files.deleteIfExists(out.resolve(DemoManifest.FILE));
        checkSettings(modelPath, corpusPath, hookPoint);

        stage(1, "sentences", "split " + corpusPath + " into sentences", Files.isRegularFile(path(SENTENCES)),
                List.of(SENTENCES), () -> execute(new SentencesCommand(), "--corpus", corpusPath.toString(), "--out",
                        path(SENTENCES).toString(), "--quiet"));
        stage(2, "capture", "run " + modelPath.getFileName() + " over them, storing " + hookPoint, captureComplete(),
                List.of(ACTIVATIONS), () -> {
                    List<String> args = new ArrayList<>(List.of("--sentences", path(SENTENCES).toString(), "--hook",
                            hookPoint, "--out", path(ACTIVATIONS).toString(), "--model", modelPath.toString()));
                    if (maxSentences != null) {
                        args.addAll(List.of("--max-sentences", maxSentences.toString()));
                    }
                    execute(new CaptureCommand(), args.toArray(String[]::new));
                });
        stage(3, "train", String.format(Locale.ROOT, "a TopK SAE, %d latents, k = %d, %d steps of %d rows",
                        latents, k, steps, batchSize), Files.isRegularFile(path(RUN).resolve(Trainer.SUMMARY))
                        && Files.isRegularFile(path(SAE).resolve("cfg.json")), List.of(RUN), () -> {
                    boolean resume = Files.isRegularFile(path(RUN).resolve(Trainer.CONFIG_FILE));
                    List<String> args = new ArrayList<>(resume ? List.of("--resume", "--out", path(RUN).toString())
                            : List.of("--data", path(ACTIVATIONS).toString(), "--out", path(RUN).toString(),
                            "--latents", String.valueOf(latents), "-k", String.valueOf(k), "--steps",
                            String.valueOf(steps), "--batch-size", String.valueOf(batchSize), "--normalize", "center"));
                    if (quiet) {
                        args.add("--quiet");
                    }
                    execute(new TrainCommand(), args.toArray(String[]::new));
                });
        stage(4, "eval", "reconstruction on the held-out split, then the SAE spliced into the model over "
                        + evalSentences + " sentences", Stream.of(EVAL, SPLICED, EVAL_HTML).allMatch(f ->
                        Files.isRegularFile(path(f))), List.of(EVAL, SPLICED, EVAL_HTML), () -> {
                    execute(new EvalCommand(), "--sae", path(SAE).toString(), "--data", path(ACTIVATIONS).toString(),
                            "--json", path(EVAL).toString());
                    execute(new EvalCommand(), "--sae", path(SAE).toString(), "--sentences",
                            path(SENTENCES).toString(), "--max-sentences", String.valueOf(evalSentences), "--model",
                            modelPath.toString(), "--json", path(SPLICED).toString(), "--report",
                            path(EVAL_HTML).toString());
                });
        stage(5, "top-activations", "each latent's top " + top + " sentences, densities and histograms",
                Files.isRegularFile(path(TOP).resolve(TopActivationWriter.LATENTS_FILE))
                        && Files.isRegularFile(path(TOP).resolve(TopActivationWriter.EXAMPLES_FILE)),
                List.of(TOP), () -> execute(new TopActivationsCommand(), "--sae", path(SAE).toString(), "--data",
                        path(ACTIVATIONS).toString(), "--out", path(TOP).toString(), "--top", String.valueOf(top),
                        "--model", modelPath.toString()));
        stage(6, "label", "offline labels from distinctive tokens (no API key)",
                Files.isRegularFile(path(TOP).resolve(LabelStore.JSONL))
                        && Files.isRegularFile(path(TOP).resolve(LabelStore.PARQUET)),
                List.of(TOP + "/" + LabelStore.JSONL, TOP + "/" + LabelStore.PARQUET, TOP + "/state-offline"),
                () -> execute(new LabelCommand(), "--top", path(TOP).toString(), "--labeler", "offline"));
        stage(7, "steer", "push the most confidently labeled feature into \"" + PROMPT + "\"",
                Files.isRegularFile(path(STEERING)), List.of(STEERING), () -> steer(modelPath));
        console.printf(Locale.ROOT, "[%d/%d] report: %s%n", STAGES, STAGES, path(REPORT));
        console.flush();
        DemoReport.SteeringExample steering = SNAKE.readValue(path(STEERING).toFile(),
                DemoReport.SteeringExample.class);
        JsonNode eval = JSON.readTree(path(EVAL).toFile());
        JsonNode spliced = JSON.readTree(path(SPLICED).toFile());
        report(modelPath, corpusPath, hookPoint, eval, spliced, steering);
        new DemoManifest(modelPath.toString(), hookPoint, SAE, TOP, SENTENCES, REPORT, ACTIVATIONS, EVAL, SPLICED,
                STEERING).write(out);
        summary(eval, spliced, steering, (System.nanoTime() - start) / 1e9);
        return 0;
    }

    private Path path(String relative) {
        return out.resolve(relative);
    }

    /**
     * Runs a stage unless its output is complete and nothing before it ran; a stage after one that ran first deletes
     * its stale output (a stage that is merely incomplete keeps it: capture and train continue from it).
     */
    private void stage(int n, String name, String what, boolean complete, List<String> outputs, Action action)
            throws Exception {
        if (complete && !upstreamRan) {
            console.printf(Locale.ROOT, "[%d/%d] %s: reusing %s%n", n, STAGES, name, path(outputs.getFirst()));
            console.flush();
            return;
        }
        if (upstreamRan) {
            for (String o : outputs) {
                AtomicFiles.deleteRecursively(path(o));
            }
        }
        console.printf(Locale.ROOT, "[%d/%d] %s: %s%n", n, STAGES, name, what);
        console.flush();
        long t0 = System.nanoTime();
        action.run();
        upstreamRan = true;
        if (!quiet) {
            console.printf(Locale.ROOT, "      %s done in %s%n", name, duration((System.nanoTime() - t0) / 1e9));
            console.flush();
        }
    }

    /** Runs another sae4j command in-process; its failure ends the demo with that command's error. */
    private void execute(Callable<Integer> command, String... args) throws Exception {
        CommandLine cli = new CommandLine(command);
        cli.setOut(stageOut);
        cli.setErr(spec.commandLine().getErr());
        // Keep the stage's exception, so that sae4j reports it as its own error (message, exit code 1).
        Exception[] failure = new Exception[1];
        cli.setExecutionExceptionHandler((e, c, p) -> {
            failure[0] = e;
            return 1;
        });
        int code = cli.execute(args);
        stageOut.flush();
        if (failure[0] != null) {
            throw failure[0];
        }
        if (code != 0) {
            throw new IllegalStateException("sae4j " + cli.getCommandName() + " " + String.join(" ", args)
                    + " failed (exit code " + code + ")");
        }
    }

    private boolean captureComplete() throws IOException {
        Path manifest = path(ACTIVATIONS).resolve("capture.json");
        return Files.isRegularFile(manifest) && JSON.readTree(manifest.toFile()).path("complete").asBoolean(false);
    }

    /** The residual two thirds of the way down the model: blocks.4.hook_resid_post on the 6 layers of the embedded one. */
    private static String defaultHook(Path modelPath) throws IOException {
        try (LanguageModel m = Plugins.openModel(modelPath, Map.of())) {
            return "blocks." + Math.max(0, 2 * m.info().layers() / 3) + ".hook_resid_post";
        }
    }

    /**
     * Keeps a rerun from mixing runs: the settings that shape the outputs are recorded at the first run, and a rerun
     * with other settings is refused (with --fresh it starts over).
     */
    private void checkSettings(Path modelPath, Path corpusPath, String hookPoint) throws IOException {
        ObjectNode now = JSON.createObjectNode();
        now.put("model", modelPath.toString());
        now.put("corpus", corpusPath.toString());
        now.put("hook_point", hookPoint);
        now.put("max_sentences", maxSentences == null ? -1 : maxSentences);
        now.put("latents", latents);
        now.put("k", k);
        now.put("steps", steps);
        now.put("batch_size", batchSize);
        now.put("eval_sentences", evalSentences);
        now.put("top", top);
        now.put("steer_tokens", steerTokens);
        Path file = path(SETTINGS);
        if (Files.isRegularFile(file)) {
            JsonNode before = JSON.readTree(file.toFile());
            for (var it = now.properties().iterator(); it.hasNext(); ) {
                var e = it.next();
                // as text: 2048 reads back as an int node whether it was written from an int or a long
                if (!e.getValue().asText().equals(before.path(e.getKey()).asText(null))) {
                    throw new IllegalArgumentException(out + " holds a demo run with " + e.getKey() + " = "
                            + before.get(e.getKey()) + ", not " + e.getValue() + " (" + file + "); rerun with --fresh "
                            + "to start over there, or choose another --out");
                }
            }
            return;
        }
        AtomicFiles.writeString(file, JSON.writeValueAsString(now));
    }

    /** Deletes --out, but only if it holds nothing the demo did not write. */
    private void wipe(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        List<String> foreign = new ArrayList<>();
        try (Stream<Path> entries = Files.list(dir)) {
            entries.map(p -> p.getFileName().toString())
                    .filter(n -> !OWN.contains(n) && !n.contains(AtomicFiles.PARTIAL_MARKER)).sorted()
                    .forEach(foreign::add);
        }
        if (!foreign.isEmpty()) {
            throw new IllegalArgumentException("--fresh deletes " + dir + ", but it holds files the demo did not "
                    + "write: " + foreign + "; choose another --out or move them");
        }
        console.println("--fresh: deleting " + dir);
        AtomicFiles.deleteRecursively(dir);
    }

    /** Stage 7: the chosen feature pushed into a fixed prompt, with the same seed as the unsteered continuation. */
    private void steer(Path modelPath) throws IOException {
        List<LabelStore.StoredLabel> labels = LabelStore.read(path(TOP));
        List<TopActivationReader.LatentRow> rows = TopActivationReader.latents(path(TOP));
        int latent = steeringFeature(labels, rows);
        List<LatentExamples> ex = TopActivationReader.examples(path(TOP), l -> l == latent);
        float peak = 0;
        for (ActivatingExample e : ex.isEmpty() ? List.<ActivatingExample>of() : ex.getFirst().examples()) {
            peak = Math.max(peak, e.score());
        }
        // Half again the latent's strongest activation on the corpus, at every position: a clear push, not noise.
        double strength = Math.max(4, Math.round(1.5 * peak));
        String label = labels.stream().filter(s -> s.label().latent() == latent).map(s -> s.label().label())
                .findFirst().orElse(null);
        GenerationOptions options = new GenerationOptions(steerTokens, 0.8f, 0.95f, 0, SEED, null);
        try (LanguageModel lm = Plugins.openModel(modelPath, Map.of());
             Backend b = Plugins.openBackend("java", Map.of());
             Sae sae = SaeCheckpoint.load(path(SAE), b.devices().getFirst(), Plugins.architectures())) {
            HookPoint hookPoint = HookPoint.parse(sae.spec().metadata().get("hook_point"));
            int[] ids = lm.tokenizer().encode(PROMPT, true);
            Steering steering = new Steering(sae, hookPoint, List.of(new Steering.Edit(latent, strength,
                    Steering.Mode.ADD)), Steering.Positions.ALL, ids.length);
            String plain = lm.generate(ids, options, List.of(), null).text().strip();
            String steered = lm.generate(ids, options, List.of(steering), null).text().strip();
            DemoReport.SteeringExample example = new DemoReport.SteeringExample(PROMPT, latent, label, strength, "add",
                    "all", hookPoint.toString(), SEED, options.temperature(), steerTokens, plain, steered);
            stageOut.printf(Locale.ROOT, "      latent %d (%s), %+.1f: %s%n", latent, label, strength, steered);
            AtomicFiles.writeString(path(STEERING), SNAKE.writeValueAsString(example));
        }
    }

    /**
     * The feature to steer with, chosen the same way every time: the first of {@link #candidates}. Latents firing on
     * 0.01% to 1% of tokens come first (rarer ones have too few examples to trust their label, commoner ones are
     * mostly function words), then higher label confidence, then a label that quotes a whole word (the offline
     * labeler's {@code token " Congress"}, not a piece of one), then a label no other latent shares (one feature, not
     * one of several " the" latents), then the stronger mean activation, then the lower index.
     */
    static int steeringFeature(List<LabelStore.StoredLabel> labels, List<TopActivationReader.LatentRow> rows) {
        return candidates(labels, rows).stream().findFirst().orElseThrow(() -> new IllegalStateException(
                "no live latent got a label to steer with; train longer (--steps) or with more latents"));
    }

    /** Labeled, live latents, best first (see {@link #steeringFeature}). */
    static List<Integer> candidates(List<LabelStore.StoredLabel> labels, List<TopActivationReader.LatentRow> rows) {
        Map<Integer, TopActivationReader.LatentRow> byLatent = new HashMap<>();
        rows.forEach(r -> byLatent.put(r.latent(), r));
        List<LabelStore.StoredLabel> live = labels.stream().filter(s -> s.label().succeeded()
                        && s.label().label() != null && byLatent.containsKey(s.label().latent())
                        && !byLatent.get(s.label().latent()).dead()).toList();
        Map<String, Integer> sharing = new HashMap<>();
        live.forEach(s -> sharing.merge(s.label().label(), 1, Integer::sum));
        Comparator<LabelStore.StoredLabel> order = Comparator
                .comparing((LabelStore.StoredLabel s) -> !inRange(byLatent.get(s.label().latent())))
                .thenComparing(s -> -s.label().confidence())
                .thenComparing(s -> !QUOTED_WORD.matcher(s.label().label()).find())
                .thenComparing(s -> sharing.get(s.label().label()) > 1)
                .thenComparing(s -> -byLatent.get(s.label().latent()).meanActivation())
                .thenComparing(s -> s.label().latent());
        return live.stream().sorted(order).map(s -> s.label().latent()).toList();
    }

    /** A quoted word of four letters or more, with or without its leading space. */
    private static final java.util.regex.Pattern QUOTED_WORD = java.util.regex.Pattern.compile("\"\\s?\\p{L}{4,}\"");

    private static boolean inRange(TopActivationReader.LatentRow r) {
        return r.density() >= 1e-4 && r.density() <= 0.01;
    }

    /** Stage 8: the HTML report from what the stages wrote. */
    private void report(Path modelPath, Path corpusPath, String hookPoint, JsonNode eval, JsonNode spliced,
                        DemoReport.SteeringExample steering) throws IOException {
        List<LabelStore.StoredLabel> labels = LabelStore.read(path(TOP));
        List<TopActivationReader.LatentRow> rows = TopActivationReader.latents(path(TOP));
        Map<Integer, TopActivationReader.LatentRow> byLatent = new HashMap<>();
        rows.forEach(r -> byLatent.put(r.latent(), r));
        Map<Integer, LabelStore.StoredLabel> labelOf = new HashMap<>();
        labels.forEach(s -> labelOf.put(s.label().latent(), s));
        // The steered feature first, then the next most confident ones.
        List<Integer> shown = new ArrayList<>(List.of(steering.latent()));
        for (int l : candidates(labels, rows)) {
            if (shown.size() >= 10) {
                break;
            }
            if (l != steering.latent()) {
                shown.add(l);
            }
        }
        Set<Integer> wanted = new HashSet<>(shown);
        Map<Integer, List<ActivatingExample>> examples = new HashMap<>();
        for (LatentExamples e : TopActivationReader.examples(path(TOP), wanted::contains)) {
            examples.put(e.latent(), e.examples().subList(0, Math.min(3, e.examples().size())));
        }
        List<DemoReport.Feature> features = new ArrayList<>();
        for (int l : shown) {
            LabelStore.StoredLabel s = labelOf.get(l);
            TopActivationReader.LatentRow r = byLatent.get(l);
            features.add(new DemoReport.Feature(l, s == null ? null : s.label().label(),
                    s == null ? 0 : s.label().confidence(), s == null ? "" : s.labeler(), r == null ? 0 : r.density(),
                    r == null ? 0 : r.meanActivation(), examples.getOrDefault(l, List.of())));
        }
        double[] densities = rows.stream().mapToDouble(TopActivationReader.LatentRow::density).toArray();
        JsonNode capture = JSON.readTree(path(ACTIVATIONS).resolve("capture.json").toFile());
        DemoReport.Setup setup = new DemoReport.Setup(modelPath.toString(), hookPoint, corpusPath.toString(),
                capture.at("/progress/sentences_read").asLong(), capture.at("/progress/rows_stored").asLong(),
                latents, k, steps);
        Path plot = path(RUN).resolve(MetricsPlot.FILE);
        Map<String, String> files = new LinkedHashMap<>();
        files.put(EVAL_HTML, "the spliced evaluation in full: every figure, more plots, the worst sentences");
        files.put(SENTENCES, "the corpus split into sentences (sentence_id, doc_id, sentence_idx, text, ...)");
        files.put(ACTIVATIONS + "/", "the captured activations (capture.json, Arrow IPC shards)");
        files.put(RUN + "/", "the training run: train-config.json, metrics.jsonl, metrics.png, checkpoints");
        files.put(SAE + "/", "the SAE: sae.safetensors + cfg.json (SAELens names)");
        files.put(EVAL, "reconstruction metrics on the held-out activations (sae4j eval --json)");
        files.put(SPLICED, "metrics with the SAE spliced into the model (sae4j eval --sentences --json)");
        files.put(TOP + "/", "top-activations.parquet, latents.parquet, labels.jsonl, labels.parquet");
        files.put(STEERING, "the steering example");
        files.put(DemoManifest.FILE, "where everything is, for sae4j serve --dir");
        DemoReport.write(path(REPORT), new DemoReport.Content(setup, eval, spliced,
                Files.isRegularFile(plot) ? Files.readAllBytes(plot) : null, densities, features, steering, files));
    }

    private void summary(JsonNode eval, JsonNode spliced, DemoReport.SteeringExample s, double seconds) {
        console.println();
        console.printf(Locale.ROOT, "demo finished in %s: %s%n", duration(seconds), out);
        console.printf(Locale.ROOT, "  FVU %.4f   L0 %.1f   dead %.2f%%   (held-out activations)%n",
                eval.path("fvu").asDouble(), eval.path("l0").asDouble(), 100 * eval.path("dead_fraction").asDouble());
        console.printf(Locale.ROOT, "  CE loss recovered %.4f   KL %.4f   KL_sae/KL_random %.2f   (SAE spliced in)%n",
                spliced.path("ce_loss_recovered").asDouble(), spliced.path("kl_sae").asDouble(),
                spliced.path("kl_ratio").asDouble());
        console.printf(Locale.ROOT, "  steering latent %d (%s), %s %+.1f, seed %d:%n", s.latent(), s.label(), s.mode(),
                s.strength(), s.seed());
        console.println("    prompt:    " + s.prompt());
        console.println("    unsteered: " + s.unsteered());
        console.println("    steered:   " + s.steered());
        console.println("report:      " + path(REPORT));
        console.println("open the UI: ./sae4j serve --dir " + out);
        console.flush();
    }

    private static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60)
                : String.format(Locale.ROOT, "%.1f s", seconds);
    }
}
