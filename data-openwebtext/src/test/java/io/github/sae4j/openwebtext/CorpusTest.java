package io.github.sae4j.openwebtext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.sae4j.openwebtext.corpus.Corpus;
import io.github.sae4j.openwebtext.corpus.Document;
import io.github.sae4j.openwebtext.corpus.DocumentReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading corpora as documents, in order: Parquet, JSONL and plain text, and what each says about bad input. */
class CorpusTest {

    @TempDir
    Path dir;

    static List<String> texts(Corpus corpus) throws IOException {
        List<String> out = new ArrayList<>();
        try (DocumentReader r = corpus.documents()) {
            Document d;
            while ((d = r.next()) != null) {
                assertThat(d.index()).as("document index").isEqualTo(out.size());
                out.add(d.text());
            }
        }
        return out;
    }

    @Test
    void aDirectoryOfParquetFilesIsReadInFileNameOrderAndOtherFilesAreIgnored() throws IOException {
        TestCorpora.parquet(dir.resolve("part-001.parquet"), "Three.", "Four.");
        TestCorpora.parquet(dir.resolve("part-000.parquet"), "One.", null, "Two.");
        Files.writeString(dir.resolve("README.md"), "not a document");

        Corpus corpus = Corpus.at(dir, null);

        assertThat(corpus.kind()).isEqualTo(Corpus.Kind.PARQUET);
        assertThat(texts(corpus)).containsExactly("One.", null, "Two.", "Three.", "Four.");
        try (DocumentReader r = corpus.documents()) {
            assertThat(r.size()).as("row counts from the footers").hasValue(5);
        }
    }

    @Test
    void theTextColumnIsChosenByNameAndEveryCodecWeWriteReadsBack() throws IOException {
        for (CompressionCodecName codec : List.of(CompressionCodecName.UNCOMPRESSED, CompressionCodecName.SNAPPY,
                CompressionCodecName.ZSTD, CompressionCodecName.GZIP)) {
            Path f = TestCorpora.parquet(dir.resolve(codec + ".parquet"), "content", codec,
                    List.of("Héllo wörld. 日本語の文。", "Emoji 🐋 too."));
            assertThat(texts(Corpus.at(f, "content"))).as(codec.name())
                    .containsExactly("Héllo wörld. 日本語の文。", "Emoji 🐋 too.");
        }
    }

    @Test
    void aParquetWithoutTheColumnNamesTheColumnsItHas() throws IOException {
        Path f = TestCorpora.parquet(dir.resolve("c.parquet"), "content", CompressionCodecName.SNAPPY, List.of("x"));

        assertThatThrownBy(() -> Corpus.at(f, null).documents())
                .hasMessageContaining(f.toString()).hasMessageContaining("no column 'text'")
                .hasMessageContaining("[content]").hasMessageContaining("column=NAME");
    }

    @Test
    void aTruncatedParquetIsAnErrorNamingTheFile() throws IOException {
        Path good = TestCorpora.parquet(dir.resolve("good.parquet"), "One. Two.", "Three.");
        byte[] bytes = Files.readAllBytes(good);
        Path cut = dir.resolve("cut.parquet");
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length - 7));

        assertThatThrownBy(() -> Corpus.at(cut, null).documents()).isInstanceOf(IOException.class)
                .hasMessageContaining(cut.toString()).hasMessageContaining("not a readable Parquet file")
                .hasMessageContaining("write it again");
    }

    @Test
    void invalidUtf8InParquetNamesFileAndRow() throws IOException {
        Path f = dir.resolve("bad.parquet");
        try (var w = new io.github.sae4j.openwebtext.parquet.CorpusParquetWriter(f, "text",
                CompressionCodecName.SNAPPY, java.util.Map.of())) {
            w.write("Fine.");
            w.writeBytes(new byte[] {'B', 'a', 'd', (byte) 0xC3, '.'});
        }

        assertThatThrownBy(() -> texts(Corpus.at(f, null))).hasMessageContaining(f.toString())
                .hasMessageContaining("row 1").hasMessageContaining("invalid UTF-8 at byte 3");
    }

    @Test
    void oneTextFileHoldsDocumentsSeparatedByBlankLines() throws IOException {
        Path f = TestCorpora.text(dir.resolve("corpus.txt"),
                "\n\nFirst doc. Line two.\r\nStill first.\n\n  \n\nSecond doc!\n\n\nThird?");

        assertThat(texts(Corpus.at(f, null)))
                .containsExactly("First doc. Line two.\nStill first.", "Second doc!", "Third?");
    }

    @Test
    void aDirectoryOfTextFilesHasOneDocumentPerFile() throws IOException {
        TestCorpora.text(dir.resolve("b.txt"), "Two.\n\nStill two.");
        TestCorpora.text(dir.resolve("a.txt"), "One.");
        TestCorpora.text(dir.resolve("c.txt"), "   \n");

        assertThat(texts(Corpus.at(dir, null))).containsExactly("One.", "Two.\n\nStill two.", "   \n");
    }

    @Test
    void invalidUtf8InTextIsAnErrorWithTheByteOffset() throws IOException {
        Path f = dir.resolve("latin1.txt");
        Files.write(f, "Caf\u00e9 one.\n\nna\u00efve two.".getBytes(StandardCharsets.ISO_8859_1));

        assertThatThrownBy(() -> texts(Corpus.at(f, null))).isInstanceOf(IOException.class)
                .hasMessageContaining(f.toString()).hasMessageContaining("invalid UTF-8 at byte offset 3")
                .hasMessageContaining("line 1").hasMessageContaining("iconv");
    }

    @Test
    void jsonlReadsTheChosenFieldAndKeepsNulls() throws IOException {
        Path f = TestCorpora.text(dir.resolve("c.jsonl"), """
                {"body": "One. Two!", "id": 1}

                {"body": null}
                {"body": "Three?"}
                """);

        assertThat(texts(Corpus.at(f, "body"))).containsExactly("One. Two!", null, "Three?");
    }

    @Test
    void jsonlErrorsNameFileLineAndWhatIsThere() throws IOException {
        Path missing = TestCorpora.text(dir.resolve("m.jsonl"), "{\"text\": \"a\"}\n{\"body\": \"b\"}\n");
        assertThatThrownBy(() -> texts(Corpus.at(missing, null))).hasMessageContaining(missing + " line 2")
                .hasMessageContaining("no field 'text'").hasMessageContaining("[body]");

        Path notJson = TestCorpora.text(dir.resolve("n.jsonl"), "{\"text\": \"a\"\n");
        assertThatThrownBy(() -> texts(Corpus.at(notJson, null))).hasMessageContaining(notJson + " line 1")
                .hasMessageContaining("not valid JSON");

        Path number = TestCorpora.text(dir.resolve("x.jsonl"), "{\"text\": 3}\n");
        assertThatThrownBy(() -> texts(Corpus.at(number, null))).hasMessageContaining("holds number");

        Path bad = dir.resolve("bad.jsonl");
        Files.write(bad, new byte[] {'{', '"', 't', 'e', 'x', 't', '"', ':', '"', (byte) 0xFF, '"', '}', '\n'});
        assertThatThrownBy(() -> texts(Corpus.at(bad, null))).hasMessageContaining("invalid UTF-8 at byte offset 9");
    }

    @Test
    void unknownFilesAndMixedDirectoriesAreRefusedWithTheReason() throws IOException {
        Path csv = TestCorpora.text(dir.resolve("c.csv"), "a,b");
        assertThatThrownBy(() -> Corpus.at(csv, null)).hasMessageContaining("expected a name ending in .parquet");

        TestCorpora.text(dir.resolve("a.txt"), "One.");
        TestCorpora.text(dir.resolve("b.jsonl"), "{}");
        assertThatThrownBy(() -> Corpus.at(dir, null)).hasMessageContaining("mixes");

        assertThatThrownBy(() -> Corpus.at(dir.resolve("a.txt"), "body"))
                .hasMessageContaining("does not apply to plain text");
        assertThatThrownBy(() -> Corpus.at(dir.resolve("nothing"), null))
                .isInstanceOf(java.nio.file.NoSuchFileException.class);
    }
}
