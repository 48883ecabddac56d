package io.github.sae4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.github.sae4j.api.activation.ActivationBatch;
import io.github.sae4j.api.activation.ActivationReadOptions;
import io.github.sae4j.api.activation.ActivationSource;
import io.github.sae4j.api.activation.ActivationSourceInfo;
import io.github.sae4j.api.activation.ActivationSplit;
import io.github.sae4j.api.activation.ActivationStream;
import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.checkpoint.SaeCheckpoint;
import io.github.sae4j.core.eval.ReconstructionEvaluator;
import io.github.sae4j.core.io.AtomicFiles;
import io.github.sae4j.core.metrics.ReconstructionMetrics;
import io.github.sae4j.core.residual.ResidualActivationSource;
import io.github.sae4j.core.synth.GroundTruth;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sae4j eval}: reconstruction metrics of an SAE on held-out activations. */
@Command(name = "eval", sortOptions = false, description = {
        "Measure an SAE's reconstructions on activations: FVU/FVE, normalized MSE, MSE, L0, dead fraction,",
        "L2 ratio and cosine (definitions in docs/metrics.md). By default on the validation split the SAE was",
        "trained without. With synthetic data, also the fraction of ground-truth features recovered.",
        "With --sentences: splice the SAE into the model's residual stream at its hook instead and measure CE loss",
        "recovered, delta LM loss, KL to the clean model and the random-error control (KL_sae / KL_random)."})
final class EvalCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--sae", required = true,
            description = "SAE directory (sae.safetensors + cfg.json); repeatable with --sentences, to compare SAEs")
    List<Path> saes;

    /** The SAE being evaluated. */
    private Path sae;

    @Option(names = "--report", paramLabel = "FILE.html",
            description = "with --sentences: an HTML report with plots, every SAE side by side (readable offline)")
    Path htmlReport;

    @Option(names = "--data", description = "activation shards (reconstruction metrics)")
    Path data;

    @Option(names = "--sentences", paramLabel = "PATH",
            description = "held-out sentences (sentences .parquet or a corpus): evaluate with the SAE spliced into the model")
    Path sentences;

    @Option(names = "--hook", description = "where to splice (default: the hook point in the SAE's cfg.json)")
    String hook;

    @Option(names = "--max-sentences", defaultValue = "256", description = "sentences to score with --sentences (default ${DEFAULT-VALUE})")
    int maxSentences;

    @Option(names = "--random-draws", defaultValue = "3", description = "random-error draws per token (default ${DEFAULT-VALUE})")
    int randomDraws;

    @Option(names = "--ablation-points", defaultValue = "8",
            description = "points of the k-lowest ablation curve with --sentences, 0 for none (default ${DEFAULT-VALUE})")
    int ablationPoints;

    @Option(names = "--target-l0", description = "with --sentences: drop the most frequent latents until the mean L0 is "
            + "at most this, and report the loss recovered (default: half of k for TopK SAEs)")
    Double targetL0;

    @Option(names = "--model", paramLabel = "DIR|FILE.gguf",
            description = "the model for --sentences (default: the embedded tiny Llama 3)")
    Path model;

    @Option(names = "--split", defaultValue = "validation", description = "validation, train or all (default ${DEFAULT-VALUE})")
    String split;

    @Option(names = "--validation-fraction",
            description = "the held-out share; default: the one the SAE was trained with (recorded in its cfg.json), else 0.02")
    Double validationFraction;

    @Option(names = "--max-tokens", defaultValue = "1000000", description = "rows to evaluate at most (default ${DEFAULT-VALUE})")
    long maxTokens;

    @Option(names = "--batch-size", defaultValue = "4096", description = "rows per forward pass (default ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--backend", defaultValue = "java", description = "compute backend (default ${DEFAULT-VALUE})")
    String backend;

    @Option(names = "--backend-option", description = "backend option name=value (repeatable)")
    Map<String, String> backendOptions = new LinkedHashMap<>();

    @Option(names = "--json", description = "also write the metrics to this JSON file")
    Path json;

    @Option(names = "--residual-of", paramLabel = "DIR", description = "evaluate on the residuals x - x_hat of this "
            + "frozen SAE instead of the activations (stage 2 of a stack alone)")
    Path residualOf;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (sentences != null) {
            List<Map<String, Object>> reports = new java.util.ArrayList<>();
            for (Path p : saes) {
                sae = p;
                reports.add(spliced(out));
            }
            ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            if (json != null) {
                AtomicFiles.writeString(json, mapper.writeValueAsString(reports.size() == 1 ? reports.getFirst()
                        : reports));
                out.println("wrote " + json);
            }
            if (htmlReport != null) {
                List<com.fasterxml.jackson.databind.JsonNode> nodes = new java.util.ArrayList<>();
                for (Map<String, Object> r : reports) {
                    nodes.add(mapper.valueToTree(r));
                }
                io.github.sae4j.core.eval.report.EvalReport.write(htmlReport, nodes);
                out.println("wrote " + htmlReport);
            }
            return 0;
        }
        if (saes.size() != 1) {
            throw new IllegalArgumentException("several --sae are compared with --sentences; the reconstruction "
                    + "metrics on --data take one");
        }
        sae = saes.getFirst();
        if (data == null) {
            throw new IllegalArgumentException("give --data (activations: reconstruction metrics) or --sentences "
                    + "(the SAE spliced into the model)");
        }
        ActivationSplit which = switch (split.toLowerCase(Locale.ROOT)) {
            case "validation", "val" -> ActivationSplit.VALIDATION;
            case "train" -> ActivationSplit.TRAIN;
            case "all" -> ActivationSplit.ALL;
            default -> throw new IllegalArgumentException("--split must be validation, train or all, got '" + split + "'");
        };
        if (batchSize < 1 || maxTokens < 1) {
            throw new IllegalArgumentException("--batch-size and --max-tokens must be positive");
        }
        SaeSpec saeSpec = SaeCheckpoint.readSpec(sae);
        double fraction = validationFraction != null ? validationFraction
                : Double.parseDouble(saeSpec.metadata().getOrDefault("validation_fraction", "0.02"));
        try (Backend b = Plugins.openBackend(backend, backendOptions);
             ActivationSource source = residualOf == null ? Plugins.openActivations(data)
                     : ResidualActivationSource.open(Plugins.openActivations(data), residualOf, b.devices().getFirst())) {
            ActivationSourceInfo info = source.info();
            if (info.dModel() != saeSpec.dIn()) {
                throw new IllegalArgumentException("the SAE in " + sae + " reads d_in=" + saeSpec.dIn()
                        + " activations but " + data + " holds rows of d_model=" + info.dModel() + " (model "
                        + info.model() + ", " + info.hookPoint() + "); evaluate it on activations from the model and "
                        + "hook point it was trained on (" + saeSpec.metadata().getOrDefault("hook_point", "?") + ")");
            }
            try (Sae model = SaeCheckpoint.load(sae, b.devices().getFirst(), Plugins.architectures());
                 ActivationStream stream = source.open(new ActivationReadOptions(which, which == ActivationSplit.ALL
                         ? 0 : fraction, false, 0, 1 << 16, false, null))) {
                float[] mean = info.statistics() != null ? info.statistics().meanAsFloats() : null;
                ReconstructionMetrics.Result r = ReconstructionEvaluator.evaluate(model, stream::next, batchSize, mean,
                        maxTokens);
                if (r.tokens() == 0) {
                    throw new IllegalStateException("the " + split + " split of " + data + " holds no rows"
                            + " (validation fraction " + fraction + "); try --split all");
                }
                Map<String, Object> report = new LinkedHashMap<>();
                report.put("sae", sae.toString());
                report.put("data", data.toString());
                report.put("split", split);
                if (residualOf != null) {
                    report.put("residual_of", residualOf.toString());
                }
                report.putAll(r.asMap());
                print(out, r);
                Path truth = data.resolve(GroundTruth.FILE);
                // A stack's decoder is its stages' (stage-N.W_dec); ground truth is checked on each stage alone.
                boolean oneDecoder = model.parameters().stream().anyMatch(p -> p.name().equals("W_dec"));
                if (oneDecoder && Files.isDirectory(data) && Files.exists(truth)) {
                    GroundTruth gt = GroundTruth.read(truth);
                    if (gt.dModel() == saeSpec.dIn()) {
                        float[] decoder = model.parameter("W_dec").value().toFloatArray();
                        double recovered = gt.fractionRecovered(decoder, saeSpec.dSae(), 0.9);
                        out.printf(Locale.ROOT, "  %-34s %.4f  (%d features; max cosine with a decoder row > 0.9)%n",
                                "ground-truth features recovered", recovered, gt.features());
                        report.put("ground_truth_recovered", recovered);
                    }
                }
                if (json != null) {
                    ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
                    AtomicFiles.writeString(json, mapper.writeValueAsString(report));
                    out.println("wrote " + json);
                }
            }
        }
        return 0;
    }

    private Map<String, Object> spliced(PrintWriter out) throws Exception {
        if (residualOf != null) {
            throw new IllegalArgumentException("--residual-of applies to --data only; to splice both stages into the "
                    + "model, evaluate their stack (sae4j stack) with --sentences");
        }
        SaeSpec saeSpec = SaeCheckpoint.readSpec(sae);
        String at = hook != null ? hook : saeSpec.metadata().get("hook_point");
        if (at == null || at.isEmpty()) {
            throw new IllegalArgumentException("the SAE's cfg.json names no hook point; pass --hook blocks.L.hook_...");
        }
        io.github.sae4j.api.model.HookPoint point = io.github.sae4j.api.model.HookPoint.parse(at);
        ModelOptions modelOptions = new ModelOptions();
        modelOptions.model = model;
        modelOptions.backend = backend;
        modelOptions.modelOptions = new LinkedHashMap<>(backendOptions);
        try (io.github.sae4j.api.model.LanguageModel model = modelOptions.open();
             io.github.sae4j.api.text.SentenceSource source = Plugins.openSentences(sentences, Map.of());
             Backend b = Plugins.openBackend(backend, backendOptions);
             Sae s = SaeCheckpoint.load(sae, b.devices().getFirst(), Plugins.architectures())) {
            java.util.List<int[]> seqs = new java.util.ArrayList<>();
            int cut = 0;
            int context = Math.min(model.info().maxContext(), 192);
            for (var it = source.iterator(); it.hasNext() && seqs.size() < maxSentences; ) {
                String text = it.next().text();
                if (text.isBlank()) {
                    continue;
                }
                int[] ids = model.tokenizer().encode(text, false);
                if (ids.length > context) {
                    ids = java.util.Arrays.copyOf(ids, context);
                    cut++;
                }
                seqs.add(ids);
            }
            out.printf(Locale.ROOT, "splicing %s into %s at %s over %d sentences (no BOS; %d cut to %d tokens)%n", sae,
                    model.info().name(), point, seqs.size(), cut, context);
            out.flush();
            long start = System.nanoTime();
            io.github.sae4j.core.eval.SplicedEvaluator.Result r = io.github.sae4j.core.eval.SplicedEvaluator.evaluate(
                    model, s, point, seqs, new io.github.sae4j.core.eval.SplicedEvaluator.Options(2048, randomDraws, 0));
            double seconds = (System.nanoTime() - start) / 1e9;
            out.printf(Locale.ROOT, "with the model, on %d scored tokens (%.1f s):%n", r.tokens(), seconds);
            out.printf(Locale.ROOT, "  %-34s %.4f%n", "CE clean", r.ceClean());
            out.printf(Locale.ROOT, "  %-34s %.4f%n", "CE with the SAE spliced in", r.ceSae());
            out.printf(Locale.ROOT, "  %-34s %.4f%n", "CE zero-ablated", r.ceZero());
            out.printf(Locale.ROOT, "  %-34s %.4f%n", "CE mean-ablated", r.ceMean());
            out.printf(Locale.ROOT, "  %-34s %.4f   <- 1 is perfect, 0 is no better than zeros%n", "CE loss recovered",
                    r.lossRecovered());
            out.printf(Locale.ROOT, "  %-34s %.4f%n", "delta LM loss (CE_sae - CE_clean)", r.deltaLoss());
            out.printf(Locale.ROOT, "  %-34s %.5f%n", "KL(clean || SAE)", r.klSae());
            out.printf(Locale.ROOT, "  %-34s %.5f%n", "KL(clean || random error, same norm)", r.klRandom());
            out.printf(Locale.ROOT, "  %-34s %.3f  (95%% CI %.3f-%.3f over sentences)%n", "KL_sae / KL_random",
                    r.klRatio(), r.klRatioLow(), r.klRatioHigh());
            print(out, r.reconstruction());
            double target = targetL0 != null ? targetL0 : s.spec().settings().containsKey("k")
                    ? s.spec().intSetting("k") / 2.0 : 0;
            io.github.sae4j.core.eval.SplicedEvaluator.Ablations ab = null;
            if (ablationPoints > 0 || target > 0) {
                ab = io.github.sae4j.core.eval.SplicedEvaluator.ablations(model, s, point, seqs,
                        new io.github.sae4j.core.eval.SplicedEvaluator.Options(2048, randomDraws, 0, ablationPoints,
                                target), r.ceClean(), r.ceZero());
                out.println("k-lowest ablation (per token, drop the j lowest-activating active latents):");
                for (int i = 0; i < ab.dropped().length; i++) {
                    out.printf(Locale.ROOT, "  j = %3d   CE %.4f   MSE %.6g%n", ab.dropped()[i], ab.ce()[i], ab.mse()[i]);
                }
                if (ab.frequentDropped() > 0) {
                    out.printf(Locale.ROOT, "without the %d most frequent latents (L0 %.2f): CE loss recovered %.4f%n",
                            ab.frequentDropped(), ab.frequentL0(), ab.frequentLossRecovered());
                }
            }
            {
                Map<String, Object> report = new LinkedHashMap<>();
                if (ab != null) {
                    report.put("k_lowest_ablation", Map.of("dropped", ab.dropped(), "ce", ab.ce(), "mse", ab.mse()));
                    report.put("frequent_ablation", Map.of("dropped_latents", ab.frequentDropped(), "l0", ab.frequentL0(),
                            "ce_loss_recovered", ab.frequentLossRecovered()));
                }
                report.put("sae", sae.toString());
                report.put("model", model.info().name());
                report.put("hook_point", point.toString());
                report.put("sentences", sentences.toString());
                report.put("scored_tokens", r.tokens());
                report.put("ce_clean", r.ceClean());
                report.put("ce_sae", r.ceSae());
                report.put("ce_zero", r.ceZero());
                report.put("ce_mean", r.ceMean());
                report.put("ce_loss_recovered", r.lossRecovered());
                report.put("delta_lm_loss", r.deltaLoss());
                report.put("kl_sae", r.klSae());
                report.put("kl_random", r.klRandom());
                report.put("kl_ratio", r.klRatio());
                report.put("kl_ratio_ci95", java.util.List.of(r.klRatioLow(), r.klRatioHigh()));
                report.put("ce_diff_histogram", Map.of("low", io.github.sae4j.core.eval.SplicedEvaluator.HISTOGRAM_LOW,
                        "bin", io.github.sae4j.core.eval.SplicedEvaluator.HISTOGRAM_BIN, "counts", r.ceDiffHistogram()));
                report.put("worst_sentences", r.worstSentences());
                report.put("worst_mean_ce_increase", r.worstIncrease());
                report.putAll(r.reconstruction().asMap());
                return report;
            }
        }
    }

    static void print(PrintWriter out, ReconstructionMetrics.Result r) {
        out.printf(Locale.ROOT, "reconstruction on %d tokens:%n", r.tokens());
        out.printf(Locale.ROOT, "  %-34s %.4f%n", "FVU (fraction of variance unexpl.)", r.fvu());
        out.printf(Locale.ROOT, "  %-34s %.4f%n", "FVE (explained variance)", r.fve());
        out.printf(Locale.ROOT, "  %-34s %.4f%n", "normalized MSE", r.normalizedMse());
        out.printf(Locale.ROOT, "  %-34s %.6g%n", "MSE (per element)", r.mse());
        out.printf(Locale.ROOT, "  %-34s %.2f%n", "L0 (active latents per token)", r.l0());
        out.printf(Locale.ROOT, "  %-34s %.4f%n", "dead fraction (never fired here)", r.deadFraction());
        out.printf(Locale.ROOT, "  %-34s %.4f%n", "L2 ratio ||x_hat|| / ||x||", r.l2Ratio());
        out.printf(Locale.ROOT, "  %-34s %.4f%n", "cosine(x, x_hat)", r.cosine());
    }
}
