package io.github.sae4j.openwebtext;

import io.github.sae4j.api.text.SentenceSource;
import io.github.sae4j.api.text.SentenceSourceProvider;
import io.github.sae4j.api.text.SentenceWriteSummary;
import io.github.sae4j.openwebtext.corpus.Corpus;
import io.github.sae4j.openwebtext.parquet.ParquetTable;
import io.github.sae4j.openwebtext.sentences.CorpusSentenceSource;
import io.github.sae4j.openwebtext.sentences.SentenceDatasets;
import io.github.sae4j.openwebtext.sentences.SentenceParquet;
import io.github.sae4j.openwebtext.split.SentenceSplitter;
import io.github.sae4j.openwebtext.split.SentenceSplitters;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The sentence source plugin {@code openwebtext}: OpenWebText-style Parquet, JSONL and plain-text corpora, split into
 * sentences on the fly, and sentences Parquet files, read as they are.
 * Options: {@code column} (the Parquet column or JSON field with the text, default {@code text}) and {@code splitter}
 * (default {@value SentenceSplitters#DEFAULT}).
 */
public final class OpenWebTextSentenceSourceProvider implements SentenceSourceProvider {

    public static final String COLUMN = "column";
    public static final String SPLITTER = "splitter";
    private static final List<String> OPTIONS = List.of(COLUMN, SPLITTER);

    @Override
    public String name() {
        return "openwebtext";
    }

    @Override
    public String description() {
        return "text corpora (OpenWebText-style .parquet, .jsonl, .txt, or a directory of them) split into sentences, "
                + "and sentences .parquet files";
    }

    @Override
    public boolean canOpen(Path path) {
        return Corpus.recognizes(path);
    }

    @Override
    public SentenceSource open(Path path, Map<String, String> options) throws IOException {
        checkOptions(options);
        if (Files.isRegularFile(path) && path.getFileName().toString().endsWith(".parquet")) {
            boolean sentences;
            try (ParquetTable t = ParquetTable.open(path)) {
                sentences = SentenceParquet.isSentences(t);
            }
            if (sentences) {
                return SentenceParquet.open(path);
            }
        }
        Corpus corpus = Corpus.at(path, options.get(COLUMN));
        SentenceSplitter splitter = splitter(options);
        // Opening checks Parquet footers and columns now, not at the first iterator() call.
        corpus.documents().close();
        return new CorpusSentenceSource(corpus, splitter);
    }

    @Override
    public SentenceWriteSummary writeSentences(Path corpus, Map<String, String> options, Path out, Progress progress)
            throws IOException {
        checkOptions(options);
        return SentenceDatasets.write(Corpus.at(corpus, options.get(COLUMN)), splitter(options), out, progress);
    }

    private static SentenceSplitter splitter(Map<String, String> options) {
        return SentenceSplitters.create(options.getOrDefault(SPLITTER, SentenceSplitters.DEFAULT));
    }

    private void checkOptions(Map<String, String> options) {
        for (String key : options.keySet()) {
            if (!OPTIONS.contains(key)) {
                throw new IllegalArgumentException("unknown option '" + key + "' for the sentence source '" + name()
                        + "'; valid options: " + String.join(", ", OPTIONS) + " (column=NAME: the text column or field, "
                        + "default text; splitter=NAME: one of " + SentenceSplitters.names() + ")");
            }
        }
    }
}
