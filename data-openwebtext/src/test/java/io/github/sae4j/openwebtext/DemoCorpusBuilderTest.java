package io.github.sae4j.openwebtext;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The demo corpus builder picks and normalizes documents as tools/tiny-llama3/corpus.py does. */
class DemoCorpusBuilderTest {

    @Test
    void theHeldOutDocumentsAreEveryTwelfthFromIndexFive() {
        List<String> docs = IntStream.range(0, 30).mapToObj(Integer::toString).toList();

        assertThat(DemoCorpusBuilder.heldOut(docs)).containsExactly("5", "17", "29");
    }

    @Test
    void whitespaceCollapsesAsPythonsSplitAndJoin() {
        assertThat(DemoCorpusBuilder.collapse("  Fellow-Citizens\tof the\n\nSenate\u00a0and\u2003House  "))
                .isEqualTo("Fellow-Citizens of the Senate and House");
        assertThat(DemoCorpusBuilder.collapse(" \n\t ")).isEmpty();
    }
}
