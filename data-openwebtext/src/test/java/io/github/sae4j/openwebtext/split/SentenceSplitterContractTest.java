package io.github.sae4j.openwebtext.split;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The promises of {@link SentenceSplitter}, checked for every splitter that {@link SentenceSplitters} makes. */
class SentenceSplitterContractTest {

    static List<String> splitters() {
        return SentenceSplitters.names();
    }

    @ParameterizedTest
    @MethodSource("splitters")
    void spansAreOrderedDisjointTrimmedAndNeverEmpty(String name) {
        SentenceSplitter splitter = SentenceSplitters.create(name);
        assertThat(splitter.name()).isEqualTo(name);
        for (GoldSet.Paragraph paragraph : GoldSet.load()) {
            String text = "  " + paragraph.text() + "\n\n \t" + paragraph.text() + " \n";
            int previousEnd = 0;
            for (TextSpan span : splitter.split(text)) {
                assertThat(span.start()).as("%s on %s", name, paragraph.id()).isGreaterThanOrEqualTo(previousEnd);
                assertThat(span.end()).isGreaterThan(span.start()).isLessThanOrEqualTo(text.length());
                assertThat(RuleSentenceSplitter.isSpace(text.charAt(span.start()))).isFalse();
                assertThat(RuleSentenceSplitter.isSpace(text.charAt(span.end() - 1))).isFalse();
                previousEnd = span.end();
            }
        }
    }

    @ParameterizedTest
    @MethodSource("splitters")
    void whitespaceOnlyTextHasNoSentences(String name) {
        SentenceSplitter splitter = SentenceSplitters.create(name);
        assertThat(splitter.split("")).isEmpty();
        assertThat(splitter.split(" \n\n\t ")).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("splitters")
    void oneInstanceGivesTheSameAnswersOnManyThreadsAtOnce(String name) throws Exception {
        SentenceSplitter splitter = SentenceSplitters.create(name);
        List<GoldSet.Paragraph> gold = GoldSet.load();
        List<List<TextSpan>> expected = gold.stream().map(p -> splitter.split(p.text())).toList();
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            List<Future<List<List<TextSpan>>>> runs = pool.invokeAll(List.of(
                    () -> gold.stream().map(p -> splitter.split(p.text())).toList(),
                    () -> gold.reversed().stream().map(p -> splitter.split(p.text())).toList().reversed(),
                    () -> gold.stream().map(p -> splitter.split(p.text())).toList(),
                    () -> gold.reversed().stream().map(p -> splitter.split(p.text())).toList().reversed()));
            for (Future<List<List<TextSpan>>> run : runs) {
                assertThat(run.get()).isEqualTo(expected);
            }
        }
    }
}
