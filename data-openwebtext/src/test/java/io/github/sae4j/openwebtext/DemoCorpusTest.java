package io.github.sae4j.openwebtext;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.sae4j.api.text.Sentence;
import io.github.sae4j.api.text.SentenceSource;
import io.github.sae4j.openwebtext.corpus.Corpus;
import io.github.sae4j.openwebtext.parquet.ParquetTable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The demo corpus committed under data/demo-corpus/ is in OpenWebText's schema and splits into sentences. */
class DemoCorpusTest {

    static Path demoCorpus() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("data/demo-corpus"))) {
                return d.resolve("data/demo-corpus");
            }
        }
        throw new AssertionError("data/demo-corpus not found above " + Path.of("").toAbsolutePath());
    }

    @Test
    void theDemoCorpusHasOpenWebTextsSchemaAndSplitsInOrder() throws IOException {
        Path dir = demoCorpus();
        Corpus corpus = Corpus.at(dir, null);
        assertThat(corpus.kind()).isEqualTo(Corpus.Kind.PARQUET);
        long rows = 0;
        for (Path f : corpus.files()) {
            try (ParquetTable t = ParquetTable.open(f)) {
                assertThat(t.columns()).as(f.toString()).containsExactly("text");
                rows += t.rowCount();
            }
            assertThat(Files.size(f)).isLessThan(10L << 20);
        }
        assertThat(rows).isGreaterThan(10);

        long sentences = 0;
        long lastDoc = -1;
        int lastIndex = -1;
        try (SentenceSource source = new OpenWebTextSentenceSourceProvider().open(dir, Map.of())) {
            var it = source.iterator();
            while (it.hasNext()) {
                Sentence s = it.next();
                assertThat(s.id()).isEqualTo(sentences);
                assertThat(s.docId()).isGreaterThanOrEqualTo(lastDoc);
                if (s.docId() == lastDoc) {
                    assertThat(s.sentenceIndex()).isEqualTo(lastIndex + 1);
                } else {
                    assertThat(s.sentenceIndex()).isZero();
                }
                assertThat(s.text()).isNotBlank();
                lastDoc = s.docId();
                lastIndex = s.sentenceIndex();
                sentences++;
            }
        }
        assertThat(sentences).isGreaterThan(rows * 10);
        assertThat(lastDoc).isEqualTo(rows - 1);
    }
}
