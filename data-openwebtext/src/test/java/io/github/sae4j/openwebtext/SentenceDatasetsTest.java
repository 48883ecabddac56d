package io.github.sae4j.openwebtext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.sae4j.api.text.Sentence;
import io.github.sae4j.api.text.SentenceSourceProvider.Progress;
import io.github.sae4j.api.text.SentenceWriteSummary;
import io.github.sae4j.openwebtext.corpus.Corpus;
import io.github.sae4j.openwebtext.parquet.ParquetTable;
import io.github.sae4j.openwebtext.sentences.SentenceDatasets;
import io.github.sae4j.openwebtext.sentences.SentenceParquet;
import io.github.sae4j.openwebtext.split.SentenceSplitter;
import io.github.sae4j.openwebtext.split.SentenceSplitters;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writing the sentences Parquet: what it holds, what it skips, and that it is written whole or not at all. */
class SentenceDatasetsTest {

    private static final SentenceSplitter SPLITTER = SentenceSplitters.create(SentenceSplitters.DEFAULT);

    @TempDir
    Path dir;

    static List<Sentence> read(Path sentences) throws IOException {
        List<Sentence> out = new ArrayList<>();
        try (SentenceParquet p = SentenceParquet.open(sentences)) {
            p.iterator().forEachRemaining(out::add);
        }
        return out;
    }

    @Test
    void sentencesKeepCorpusOrderWithRunningIdsDocumentIdsAndOffsets() throws IOException {
        Path corpus = TestCorpora.parquet(dir.resolve("c.parquet"), "One. Two! Three?", "Four.", "Five. Six.");
        Path out = dir.resolve("out/sentences.parquet");

        SentenceWriteSummary summary = SentenceDatasets.write(Corpus.at(corpus, null), SPLITTER, out, Progress.NONE);

        assertThat(summary.documents()).isEqualTo(3);
        assertThat(summary.sentences()).isEqualTo(6);
        assertThat(summary.skippedDocuments()).isZero();
        assertThat(summary.textBytes()).isEqualTo("One.Two!Three?Four.Five.Six.".length());
        assertThat(summary.fileBytes()).isEqualTo(Files.size(out));
        assertThat(read(out)).containsExactly(
                new Sentence(0, 0, 0, "One."), new Sentence(1, 0, 1, "Two!"), new Sentence(2, 0, 2, "Three?"),
                new Sentence(3, 1, 0, "Four."), new Sentence(4, 2, 0, "Five."), new Sentence(5, 2, 1, "Six."));
        try (ParquetTable t = ParquetTable.open(out)) {
            assertThat(t.columns()).containsExactly("sentence_id", "doc_id", "sentence_idx", "text", "char_start",
                    "char_end");
            assertThat(t.metadata()).containsEntry("sae4j.format", "sae4j.sentences.v1")
                    .containsEntry("sae4j.splitter", "rules").containsEntry("sae4j.documents", "3")
                    .containsEntry("sae4j.sentences", "6");
            var rows = t.rows(List.of("char_start", "char_end"));
            List<String> spans = new ArrayList<>();
            while (rows.next()) {
                spans.add(rows.int32(0) + "-" + rows.int32(1));
            }
            assertThat(spans).containsExactly("0-4", "5-9", "10-16", "0-5", "0-5", "6-10");
        }
        assertThat(dir.resolve("out").toFile().list()).as("no temporary file left").containsExactly("sentences.parquet");
    }

    @Test
    void nullEmptyAndBlankDocumentsAreSkippedAndCountedButKeepTheirDocumentIds() throws IOException {
        Path corpus = TestCorpora.parquet(dir.resolve("c.parquet"), "One.", null, "", " \n\t ", "Two.");
        Path out = dir.resolve("s.parquet");

        SentenceWriteSummary summary = SentenceDatasets.write(Corpus.at(corpus, null), SPLITTER, out, Progress.NONE);

        assertThat(summary.documents()).isEqualTo(5);
        assertThat(summary.skipped()).containsEntry("null", 1L).containsEntry("empty", 2L);
        assertThat(read(out)).containsExactly(new Sentence(0, 0, 0, "One."), new Sentence(1, 4, 0, "Two."));
        try (ParquetTable t = ParquetTable.open(out)) {
            assertThat(t.metadata()).containsEntry("sae4j.skipped.null", "1").containsEntry("sae4j.skipped.empty", "2");
        }
    }

    @Test
    void idsAreStableAcrossRunsAndProgressIsReported() throws IOException {
        List<String> docs = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            docs.add("Document " + i + " starts. It goes on! Does it end?");
        }
        Path corpus = TestCorpora.parquet(dir.resolve("c.parquet"), docs.toArray(String[]::new));
        List<long[]> updates = new ArrayList<>();

        SentenceDatasets.write(Corpus.at(corpus, null), SPLITTER, dir.resolve("a.parquet"),
                (done, total, sentences) -> updates.add(new long[] {done, total, sentences}));
        SentenceDatasets.write(Corpus.at(corpus, null), SPLITTER, dir.resolve("b.parquet"), Progress.NONE);

        assertThat(read(dir.resolve("a.parquet"))).hasSize(3000).isEqualTo(read(dir.resolve("b.parquet")));
        assertThat(updates).hasSizeGreaterThan(2);
        assertThat(updates.getFirst()).containsExactly(0, 1000, 0);
        assertThat(updates.getLast()).containsExactly(1000, 1000, 3000);
    }

    @Test
    void aTenMegabyteDocumentIsSplitWhole() throws IOException {
        StringBuilder doc = new StringBuilder(10 << 20);
        String sentence = "This sentence is about two hundred characters long, give or take a few, and it repeats "
                + "many times so that the document reaches ten megabytes without any blank line in between it all. ";
        while (doc.length() < (10 << 20)) {
            doc.append(sentence);
        }
        Path corpus = TestCorpora.text(dir.resolve("big.txt"), "Small one.\n\n" + doc + "\n\nLast one.");

        SentenceWriteSummary summary = SentenceDatasets.write(Corpus.at(corpus, null), SPLITTER,
                dir.resolve("s.parquet"), Progress.NONE);

        long expected = (doc.length() / sentence.length()) + 2;
        assertThat(summary.documents()).isEqualTo(3);
        assertThat(summary.sentences()).isEqualTo(expected);
        assertThat(SentenceParquet.open(dir.resolve("s.parquet")).size()).hasValue(expected);
    }

    @Test
    void aDiskThatFillsMidWriteLeavesNoFileUnderTheFinalName() throws IOException {
        List<String> docs = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            docs.add("Sentence " + i + " is here. And another " + (i * 7919L % 10007) + " follows.");
        }
        Path corpus = TestCorpora.parquet(dir.resolve("c.parquet"), docs.toArray(String[]::new));
        Path outDir = Files.createDirectories(dir.resolve("out"));
        Path out = outDir.resolve("sentences.parquet");
        List<Path> temporaries = new ArrayList<>();
        SentenceDatasets.StreamOpener fullAfter20k = temporary -> {
            temporaries.add(temporary);
            return new DiskFullStream(SentenceDatasets.FILES.open(temporary), 20_000);
        };

        assertThatThrownBy(() -> SentenceDatasets.write(Corpus.at(corpus, null), SPLITTER, out, Progress.NONE,
                fullAfter20k)).isInstanceOf(IOException.class).hasMessageContaining(out.toString())
                .hasMessageContaining("nothing was written there").hasMessageContaining("No space left on device");

        assertThat(temporaries).hasSize(1);
        assertThat(out).doesNotExist();
        assertThat(temporaries.getFirst()).as("temporary file removed").doesNotExist();
        try (Stream<Path> left = Files.list(outDir)) {
            assertThat(left).isEmpty();
        }
    }

    @Test
    void aFailedWriteLeavesAPreviousFileAsItWas() throws IOException {
        Path corpus = TestCorpora.parquet(dir.resolve("c.parquet"), "One. Two.");
        Path out = dir.resolve("s.parquet");
        SentenceDatasets.write(Corpus.at(corpus, null), SPLITTER, out, Progress.NONE);
        byte[] before = Files.readAllBytes(out);

        assertThatThrownBy(() -> SentenceDatasets.write(Corpus.at(corpus, null), SPLITTER, out, Progress.NONE,
                t -> new DiskFullStream(SentenceDatasets.FILES.open(t), 10))).isInstanceOf(IOException.class);

        assertThat(Files.readAllBytes(out)).isEqualTo(before);
    }

    @Test
    void anUnwritableOutputDirectoryIsAClearError() throws IOException {
        Path corpus = TestCorpora.parquet(dir.resolve("c.parquet"), "One.");
        Path locked = Files.createDirectory(dir.resolve("locked"));
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            org.junit.jupiter.api.Assumptions.assumeFalse(Files.isWritable(locked), "running as a user who may write anywhere");
            assertThatThrownBy(() -> SentenceDatasets.write(Corpus.at(corpus, null), SPLITTER,
                    locked.resolve("s.parquet"), Progress.NONE)).isInstanceOf(IOException.class)
                    .hasMessageContaining(locked.toString()).hasMessageContaining("permission denied");
        } finally {
            Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    @Test
    void aDirectoryThatRefusesNewFilesIsAClearErrorEvenForRoot() throws IOException {
        Path corpus = TestCorpora.parquet(dir.resolve("c.parquet"), "One.");
        Path out = dir.resolve("s.parquet");
        // Root may write in a read-only directory, so the refusal the file system gives others is injected here.
        SentenceDatasets.StreamOpener refusing = t -> {
            throw new java.nio.file.AccessDeniedException(t.toString());
        };

        assertThatThrownBy(() -> SentenceDatasets.write(Corpus.at(corpus, null), SPLITTER, out, Progress.NONE,
                refusing)).isInstanceOf(IOException.class).hasMessageContaining("cannot write in " + dir)
                .hasMessageContaining("permission denied").hasMessageContaining("choose an output directory");
        assertThat(out).doesNotExist();
    }

    @Test
    void anOutputPathUnderAFileIsAClearError() throws IOException {
        Path corpus = TestCorpora.parquet(dir.resolve("c.parquet"), "One.");
        Path file = TestCorpora.text(dir.resolve("plain"), "x");

        assertThatThrownBy(() -> SentenceDatasets.write(Corpus.at(corpus, null), SPLITTER,
                file.resolve("s.parquet"), Progress.NONE)).isInstanceOf(IOException.class)
                .hasMessageContaining("cannot create the output directory " + file);
    }

    @Test
    void aSentencesFileIsNotSplitAgain() throws IOException {
        Path corpus = TestCorpora.parquet(dir.resolve("c.parquet"), "One.");
        Path out = dir.resolve("s.parquet");
        SentenceDatasets.write(Corpus.at(corpus, null), SPLITTER, out, Progress.NONE);

        assertThatThrownBy(() -> SentenceDatasets.write(Corpus.at(out, null), SPLITTER, dir.resolve("t.parquet"),
                Progress.NONE)).hasMessageContaining("already a sentences file");
    }

    /** Fails like a full disk once {@code limit} bytes are written. */
    static final class DiskFullStream extends FilterOutputStream {
        private long left;

        DiskFullStream(OutputStream out, long limit) {
            super(out);
            this.left = limit;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (len > left) {
                out.write(b, off, (int) left);
                left = 0;
                throw new IOException("No space left on device");
            }
            out.write(b, off, len);
            left -= len;
        }
    }
}
