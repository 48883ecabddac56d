package io.github.sae4j.openwebtext.sentences;

import io.github.sae4j.api.text.SentenceSourceProvider.Progress;
import io.github.sae4j.api.text.SentenceWriteSummary;
import io.github.sae4j.openwebtext.corpus.Corpus;
import io.github.sae4j.openwebtext.corpus.DocumentReader;
import io.github.sae4j.openwebtext.parquet.ParquetTable;
import io.github.sae4j.openwebtext.parquet.SentenceParquetWriter;
import io.github.sae4j.openwebtext.split.SentenceSplitter;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes the sentences Parquet of a corpus: split every document, write one row per sentence in corpus order.
 *
 * <p>The file appears whole or not at all: rows go to a temporary file beside {@code out}
 * ({@code out.tmp-RANDOM}), which is forced to disk and renamed to {@code out} only after the footer is written.
 * On any failure the temporary file is deleted and {@code out} is left as it was.
 */
public final class SentenceDatasets {

    /** Where the bytes of the temporary file go; tests hand in streams that fail like a full disk. */
    @FunctionalInterface
    public interface StreamOpener {
        OutputStream open(Path temporary) throws IOException;
    }

    /** Opens a new file for writing. */
    public static final StreamOpener FILES = temporary -> new BufferedOutputStream(Files.newOutputStream(temporary,
            StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), 1 << 16);

    private static final int PROGRESS_EVERY_DOCUMENTS = 256;

    private SentenceDatasets() {
    }

    /** Writes the sentences of {@code corpus} to {@code out} through files on disk. */
    public static SentenceWriteSummary write(Corpus corpus, SentenceSplitter splitter, Path out, Progress progress)
            throws IOException {
        return write(corpus, splitter, out, progress, FILES);
    }

    public static SentenceWriteSummary write(Corpus corpus, SentenceSplitter splitter, Path out, Progress progress,
            StreamOpener opener) throws IOException {
        long start = System.nanoTime();
        refuseSentencesFileAsCorpus(corpus);
        Path target = out.toAbsolutePath();
        Path dir = target.getParent();
        try {
            Files.createDirectories(dir);
        } catch (FileSystemException e) {
            throw new IOException("cannot create the output directory " + dir + " (" + reason(e)
                    + "); choose another --out or fix its permissions", e);
        }
        if (Files.isDirectory(target)) {
            throw new IOException(target + " is a directory; --out names the sentences file to write, for example "
                    + target.resolve("sentences.parquet"));
        }
        Path temporary = dir.resolve(target.getFileName() + ".tmp-" + Long.toHexString(
                ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE));
        OutputStream stream;
        try {
            stream = opener.open(temporary);
        } catch (AccessDeniedException e) {
            throw new IOException("cannot write in " + dir + " (permission denied); choose an output directory you "
                    + "can write to", e);
        } catch (FileSystemException e) {
            throw new IOException("cannot create " + temporary + " (" + reason(e) + "); choose another output "
                    + "directory", e);
        }
        boolean done = false;
        try {
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("sae4j.corpus", corpus.path().toString());
            meta.put("sae4j.corpus_kind", corpus.kind().name().toLowerCase(java.util.Locale.ROOT));
            if (corpus.column() != null) {
                meta.put("sae4j.corpus_column", corpus.column());
            }
            meta.put("sae4j.splitter", splitter.name());
            long textBytes = 0;
            long sentences = 0;
            SplitSentences split;
            try (DocumentReader documents = corpus.documents();
                 SentenceParquetWriter writer = new SentenceParquetWriter(stream, meta);
                 SplitSentences s = new SplitSentences(documents, splitter)) {
                split = s;
                long total = documents.size().orElse(-1);
                progress.update(0, total, 0);
                long lastReported = 0;
                SplitSentences.Located located;
                while ((located = s.next()) != null) {
                    var sentence = located.sentence();
                    writer.write(sentence.id(), sentence.docId(), sentence.sentenceIndex(), sentence.text(),
                            located.charStart(), located.charEnd());
                    textBytes += utf8Length(sentence.text());
                    sentences++;
                    if (s.documentsRead() - lastReported >= PROGRESS_EVERY_DOCUMENTS) {
                        lastReported = s.documentsRead();
                        progress.update(lastReported, total, sentences);
                    }
                }
                writer.putFinalMetadata("sae4j.documents", Long.toString(s.documentsRead()));
                writer.putFinalMetadata("sae4j.sentences", Long.toString(sentences));
                s.skippedInOrder().forEach((reason, n) -> writer.putFinalMetadata("sae4j.skipped." + reason,
                        Long.toString(n)));
            }
            progress.update(split.documentsRead(), split.documentsRead(), sentences);
            if (Files.exists(temporary)) {
                try (FileChannel ch = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
                    ch.force(true);
                }
            }
            moveIntoPlace(temporary, target);
            done = true;
            return new SentenceWriteSummary(split.documentsRead(), split.skippedInOrder(), sentences, textBytes,
                    Files.size(target), (System.nanoTime() - start) / 1e9);
        } catch (IOException e) {
            throw new IOException("writing " + target + " failed, nothing was written there: " + e.getMessage(), e);
        } finally {
            if (!done) {
                try {
                    stream.close();
                } catch (IOException | RuntimeException ignored) {
                    // Already failing; the first error is the one to report.
                }
                Files.deleteIfExists(temporary);
            }
        }
    }

    private static void moveIntoPlace(Path temporary, Path target) throws IOException {
        try {
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void refuseSentencesFileAsCorpus(Corpus corpus) throws IOException {
        if (corpus.kind() == Corpus.Kind.PARQUET && corpus.files().size() == 1) {
            try (ParquetTable t = ParquetTable.open(corpus.files().get(0))) {
                if (SentenceParquet.isSentences(t)) {
                    throw new IllegalArgumentException(corpus.path() + " is already a sentences file (it has the "
                            + "columns doc_id, sentence_idx and text); open it as a sentence source instead of "
                            + "splitting it again");
                }
            }
        }
    }

    private static String reason(FileSystemException e) {
        return e.getReason() != null ? e.getReason() : e.getClass().getSimpleName();
    }

    static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }
}
