package io.github.sae4j.openwebtext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.sae4j.api.plugin.PluginRegistry;
import io.github.sae4j.api.text.Sentence;
import io.github.sae4j.api.text.SentenceSource;
import io.github.sae4j.api.text.SentenceSourceProvider;
import io.github.sae4j.api.text.SentenceWriteSummary;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code openwebtext} sentence source plugin, as sae4j finds and uses it through the registry. */
class OpenWebTextSentenceSourceProviderTest {

    @TempDir
    Path dir;

    private static SentenceSourceProvider provider() {
        return PluginRegistry.load(SentenceSourceProvider.class, "sentence source").get("openwebtext");
    }

    private static List<Sentence> all(SentenceSource source) {
        List<Sentence> out = new ArrayList<>();
        source.iterator().forEachRemaining(out::add);
        return out;
    }

    @Test
    void theRegistryFindsItAndItRecognizesCorpora() throws IOException {
        SentenceSourceProvider p = provider();

        assertThat(p.description()).contains("parquet");
        assertThat(p.canOpen(TestCorpora.parquet(dir.resolve("a.parquet"), "One."))).isTrue();
        assertThat(p.canOpen(TestCorpora.text(dir.resolve("a.txt"), "One."))).isTrue();
        assertThat(p.canOpen(TestCorpora.text(dir.resolve("a.jsonl"), "{}"))).isTrue();
        assertThat(p.canOpen(TestCorpora.text(dir.resolve("a.csv"), "x"))).isFalse();
        assertThat(p.canOpen(dir.resolve("missing.parquet"))).isFalse();
    }

    @Test
    void aRawCorpusIsSplitOnTheFlyAndEachIteratorStartsOver() throws IOException {
        Path corpus = TestCorpora.text(dir.resolve("c.jsonl"), """
                {"body": "One. Two!"}
                {"body": "Three?"}
                """);

        try (SentenceSource source = provider().open(corpus, Map.of("column", "body", "splitter", "rules"))) {
            List<Sentence> first = all(source);
            assertThat(first).containsExactly(new Sentence(0, 0, 0, "One."), new Sentence(1, 0, 1, "Two!"),
                    new Sentence(2, 1, 0, "Three?"));
            assertThat(all(source)).isEqualTo(first);
            assertThat(source.size()).isEmpty();
        }
    }

    @Test
    void aSentencesParquetIsReadAsItIsWithItsSizeKnown() throws IOException {
        Path corpus = TestCorpora.parquet(dir.resolve("c.parquet"), "One. Two!", null, "Three?");
        Path out = dir.resolve("s.parquet");

        SentenceWriteSummary summary = provider().writeSentences(corpus, Map.of(), out,
                SentenceSourceProvider.Progress.NONE);

        assertThat(summary.sentences()).isEqualTo(3);
        assertThat(summary.skipped()).containsEntry("null", 1L);
        try (SentenceSource source = provider().open(out, Map.of())) {
            assertThat(source.size()).hasValue(3);
            assertThat(all(source)).containsExactly(new Sentence(0, 0, 0, "One."), new Sentence(1, 0, 1, "Two!"),
                    new Sentence(2, 2, 0, "Three?"));
        }
    }

    @Test
    void unknownOptionsAndSplittersAreErrorsThatListTheValidOnes() throws IOException {
        Path corpus = TestCorpora.parquet(dir.resolve("c.parquet"), "One.");

        assertThatThrownBy(() -> provider().open(corpus, Map.of("colum", "text")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown option 'colum'")
                .hasMessageContaining("column, splitter");
        assertThatThrownBy(() -> provider().open(corpus, Map.of("splitter", "nope")))
                .hasMessageContaining("unknown sentence splitter 'nope'");
        assertThatThrownBy(() -> provider().open(corpus, Map.of("column", "body")))
                .hasMessageContaining("no column 'body'").hasMessageContaining("[text]");
    }
}
