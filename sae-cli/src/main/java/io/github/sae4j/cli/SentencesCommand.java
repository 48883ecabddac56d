package io.github.sae4j.cli;

import io.github.sae4j.api.plugin.PluginRegistry;
import io.github.sae4j.api.text.SentenceSourceProvider;
import io.github.sae4j.api.text.SentenceWriteSummary;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sae4j sentences}: split a text corpus into the sentences Parquet that the rest of the pipeline reads. */
@Command(name = "sentences", sortOptions = false, description = {
        "Split a text corpus into sentences and write them to a sentences Parquet file (doc_id, sentence_idx, text,",
        "...; see docs/data-openwebtext.md). Corpora: OpenWebText-style .parquet (a text column), .jsonl, .txt, or a",
        "directory of them."})
final class SentencesCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--corpus", required = true, paramLabel = "PATH",
            description = "the corpus: a .parquet, .jsonl or .txt file, or a directory of them")
    Path corpus;

    @Option(names = "--out", required = true, paramLabel = "FILE.parquet", description = "the sentences file to write")
    Path out;

    @Option(names = "--column", paramLabel = "NAME",
            description = "the Parquet column or JSON field that holds the text (default: text)")
    String column;

    @Option(names = "--splitter", paramLabel = "NAME", description = "the sentence splitter (default: rules)")
    String splitter;

    @Option(names = "--source", paramLabel = "NAME",
            description = "the sentence source plugin (default: the first installed one that recognizes the corpus)")
    String source;

    @Option(names = "--quiet", description = "no progress output")
    boolean quiet;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        SentenceSourceProvider provider = provider();
        Map<String, String> options = new LinkedHashMap<>();
        if (column != null) {
            options.put("column", column);
        }
        if (splitter != null) {
            options.put("splitter", splitter);
        }
        out.println("splitting " + corpus + " into sentences (" + provider.name() + ")");
        out.flush();
        SentenceWriteSummary s;
        try (Progress progress = new Progress(err, quiet)) {
            s = provider.writeSentences(corpus, options, this.out, progress);
        }
        out.printf(Locale.ROOT, "documents: %d%n", s.documents());
        out.printf(Locale.ROOT, "skipped documents: %d%s%n", s.skippedDocuments(), s.skipped().isEmpty() ? ""
                : " (" + s.skipped().entrySet().stream().map(e -> e.getValue() + " " + reason(e.getKey()))
                .collect(Collectors.joining(", ")) + ")");
        out.printf(Locale.ROOT, "sentences: %d%n", s.sentences());
        out.printf(Locale.ROOT, "text: %.2f MB in sentences, file: %.2f MB%n", s.textBytes() / 1e6, s.fileBytes() / 1e6);
        out.printf(Locale.ROOT, "seconds: %.2f (%.1f MB/s of text)%n", s.seconds(),
                s.textBytes() / 1e6 / Math.max(s.seconds(), 1e-9));
        out.println("wrote " + this.out);
        return 0;
    }

    private static String reason(String key) {
        return switch (key) {
            case "null" -> "null (no value in the corpus)";
            case "empty" -> "empty or only whitespace";
            default -> key;
        };
    }

    private SentenceSourceProvider provider() throws IOException {
        PluginRegistry<SentenceSourceProvider> registry = PluginRegistry.load(SentenceSourceProvider.class,
                "sentence source");
        if (source != null) {
            return registry.get(source);
        }
        if (!Files.exists(corpus)) {
            throw new NoSuchFileException(corpus.toString(), null,
                    "no corpus there; --corpus takes a .parquet, .jsonl or .txt file or a directory of them");
        }
        for (SentenceSourceProvider p : registry.installed()) {
            if (p.canOpen(corpus)) {
                return p;
            }
        }
        throw new IOException(corpus + ": no installed sentence source recognizes it (installed: "
                + registry.names() + "); openwebtext reads .parquet, .jsonl and .txt files and directories of them");
    }

    /** A progress bar on a terminal; elsewhere a line every few seconds. */
    private static final class Progress implements SentenceSourceProvider.Progress, AutoCloseable {
        private final PrintWriter err;
        private final boolean quiet;
        private final boolean terminal = System.console() != null && System.console().isTerminal();
        private final long start = System.nanoTime();
        private ProgressBar bar;
        private long lastLine = System.nanoTime();

        Progress(PrintWriter err, boolean quiet) {
            this.err = err;
            this.quiet = quiet;
        }

        @Override
        public void update(long done, long total, long sentences) {
            if (quiet) {
                return;
            }
            if (terminal) {
                if (bar == null) {
                    bar = new ProgressBarBuilder().setTaskName("sentences").setInitialMax(total)
                            .setUnit(" docs", 1).setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK)
                            .setUpdateIntervalMillis(250).setMaxRenderedLength(120).build();
                }
                bar.maxHint(total);
                bar.stepTo(done);
                bar.setExtraMessage(" " + sentences + " sentences");
                return;
            }
            long now = System.nanoTime();
            if (now - lastLine > 5_000_000_000L) {
                lastLine = now;
                String of = total >= 0 ? String.format(Locale.ROOT, "/%d (%.0f%%)", total, 100.0 * done / Math.max(total, 1))
                        : "";
                err.printf(Locale.ROOT, "%d%s documents, %d sentences, %s%n", done, of, sentences,
                        Duration.ofNanos(now - start).toSeconds() + " s");
                err.flush();
            }
        }

        @Override
        public void close() {
            if (bar != null) {
                bar.close();
                bar = null;
            }
        }
    }
}
