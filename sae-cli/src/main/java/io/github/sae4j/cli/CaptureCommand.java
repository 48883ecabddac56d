package io.github.sae4j.cli;

import io.github.sae4j.api.model.HookPoint;
import io.github.sae4j.api.model.LanguageModel;
import io.github.sae4j.api.text.SentenceSource;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.capture.ActivationCapture;
import io.github.sae4j.core.capture.CaptureListener;
import io.github.sae4j.core.capture.CaptureOptions;
import io.github.sae4j.core.capture.CaptureProgress;
import io.github.sae4j.core.capture.ModelFingerprint;
import io.github.sae4j.core.store.ActivationDType;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sae4j capture}: run a model over sentences and store its residual stream as activation datasets. */
@Command(name = "capture", sortOptions = false, description = {
        "Run a language model over sentences and store the residual stream at one or more hook points as activation",
        "datasets (Arrow IPC shards, one directory per hook point, and capture.json). Sentences are fed without BOS",
        "and cut to 192 tokens unless told otherwise. Killed or failed, the same command continues where the last",
        "complete shard ended."})
final class CaptureCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--sentences", required = true, paramLabel = "PATH",
            description = "a sentences .parquet from 'sae4j sentences', or a corpus (.parquet, .txt, .jsonl) split on the fly")
    Path sentences;

    @Option(names = "--sentence-option", paramLabel = "KEY=VALUE",
            description = "sentence source option, e.g. column=text or splitter=rules (repeatable)")
    Map<String, String> sentenceOptions = new LinkedHashMap<>();

    @Option(names = "--hook", required = true, paramLabel = "blocks.L.hook_...",
            description = "hook point to capture, e.g. blocks.4.hook_resid_post (repeatable: all in one pass)")
    List<String> hooks;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory")
    Path out;

    @Option(names = "--max-tokens", defaultValue = "192", description = "tokens per sentence at most (default ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--bos", description = "start each sentence with the beginning-of-text token (default: no BOS)")
    boolean bos;

    @Option(names = "--drop-first-token", description = "store no row for each sentence's first token")
    boolean dropFirstToken;

    @Option(names = "--exclude-special-tokens", description = "store no row for control tokens (BOS, end of turn, ...)")
    boolean excludeSpecial;

    @Option(names = "--dtype", defaultValue = "bf16", description = "bf16 or f32 (default ${DEFAULT-VALUE})")
    String dtype;

    @Option(names = "--shard-mb", defaultValue = "256", description = "MB of values per shard (default ${DEFAULT-VALUE})")
    long shardMb;

    @Option(names = "--forward-tokens", defaultValue = "4096",
            description = "tokens packed into one model forward (default ${DEFAULT-VALUE})")
    int forwardTokens;

    @Option(names = "--max-sentences", description = "stop after this many sentences")
    Long maxSentences;

    @Mixin
    ModelOptions modelOptions;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        List<HookPoint> points = new ArrayList<>();
        for (String h : hooks) {
            points.add(HookPoint.parse(h));
        }
        ActivationDType type = switch (dtype.toLowerCase(Locale.ROOT)) {
            case "bf16", "bfloat16" -> ActivationDType.BF16;
            case "f32", "float32" -> ActivationDType.F32;
            default -> throw new IllegalArgumentException("--dtype must be bf16 or f32, got '" + dtype + "'");
        };
        CaptureOptions options = new CaptureOptions(maxTokens, bos, dropFirstToken, excludeSpecial, type,
                shardMb << 20, 4096, Math.max(forwardTokens, maxTokens),
                maxSentences == null ? Long.MAX_VALUE : maxSentences, 2);
        Path modelPath = modelOptions.path();
        out.println("fingerprinting " + modelPath + " (SHA-256 of its files)");
        out.flush();
        ModelFingerprint fingerprint = ModelFingerprint.of(modelPath);
        try (LanguageModel model = modelOptions.open();
             SentenceSource source = Plugins.openSentences(sentences, sentenceOptions)) {
            ActivationCapture.Request request = new ActivationCapture.Request(model, modelPath.toString(), fingerprint,
                    source, sentences.toString(), points, options, this.out);
            OptionalLong total = source.size();
            long target = Math.min(options.maxSentences(), total.orElse(Long.MAX_VALUE));
            out.printf(Locale.ROOT, "capturing %s from %s at %s into %s%n", model.info().name(), sentences,
                    String.join(", ", hooks), this.out);
            out.flush();
            ActivationCapture.Result result;
            try (Progress progress = new Progress(target, out)) {
                result = ActivationCapture.run(request, progress);
            }
            CaptureProgress p = result.progress();
            out.printf(Locale.ROOT, "%s%d sentences (%d empty, skipped; %d cut to %d tokens), %d tokens fed, %d rows "
                            + "stored per hook point; %.1f s, %.0f tokens/s this run%n",
                    result.resumedAfter() >= 0 ? "continued after sentence " + result.resumedAfter() + ": " : "",
                    p.sentencesRead(), p.sentencesEmpty(), p.sentencesTruncated(), maxTokens, p.tokensFed(),
                    p.rowsStored(), result.seconds(), tokensPerSecond);
            result.datasets().forEach((hook, dir) -> out.println("  " + hook + " -> " + dir));
            out.println("train on one with: sae4j train --data " + result.datasets().values().iterator().next()
                    + " --out runs/sae ...");
            return 0;
        }
    }

    private double tokensPerSecond;

    /** A progress bar over sentences (with ETA when the total is known) showing tokens/s; plain lines on a pipe. */
    private final class Progress implements CaptureListener, AutoCloseable {
        private final long total;
        private final PrintWriter out;
        private final long start = System.nanoTime();
        private ProgressBar bar;
        private long lastLine;

        Progress(long total, PrintWriter out) {
            this.total = total;
            this.out = out;
        }

        @Override
        public void onProgress(CaptureProgress p, long sentencesInRun, long tokensInRun) {
            double seconds = Math.max(1e-9, (System.nanoTime() - start) / 1e9);
            tokensPerSecond = tokensInRun / seconds;
            String rate = String.format(Locale.ROOT, "%.0f tok/s, %d rows", tokensPerSecond, p.rowsStored());
            if (System.console() != null) {
                if (bar == null) {
                    bar = new ProgressBarBuilder().setTaskName("capture")
                            .setInitialMax(total == Long.MAX_VALUE ? -1 : total).setUnit(" sent", 1)
                            .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK).setUpdateIntervalMillis(250)
                            .setMaxRenderedLength(120).build();
                }
                bar.stepTo(p.sentencesRead());
                bar.setExtraMessage(rate);
            } else if (System.nanoTime() - lastLine > 10_000_000_000L) {
                lastLine = System.nanoTime();
                out.printf(Locale.ROOT, "  %d sentences, %s%n", p.sentencesRead(), rate);
                out.flush();
            }
        }

        @Override
        public void close() {
            if (bar != null) {
                bar.close();
            }
        }
    }
}
