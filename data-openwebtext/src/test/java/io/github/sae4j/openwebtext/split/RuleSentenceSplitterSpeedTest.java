package io.github.sae4j.openwebtext.split;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Time is linear in the text: a 10 MB document, and 10 MB of inputs that would make a backtracking or look-back
 * splitter quadratic, each split in a few seconds even on a busy two-core machine.
 */
class RuleSentenceSplitterSpeedTest {

    private static final int TEN_MB = 10 << 20;
    private static final Duration LIMIT = Duration.ofSeconds(4);

    private final RuleSentenceSplitter splitter = new RuleSentenceSplitter();

    @Test
    void splitsA10MbDocumentOfWebTextInSeconds() {
        List<GoldSet.Paragraph> gold = GoldSet.load();
        SplittableRandom random = new SplittableRandom(7);
        StringBuilder document = new StringBuilder(TEN_MB + 4096);
        int sentences = 0;
        while (document.length() < TEN_MB) {
            GoldSet.Paragraph paragraph = gold.get(random.nextInt(gold.size()));
            document.append(paragraph.text()).append("\n\n");
            sentences += paragraph.sentences().size();
        }
        String text = document.toString();
        splitter.split(text.substring(0, 1 << 20)); // warm up the JIT

        long t0 = System.nanoTime();
        int found = splitter.split(text).size();
        Duration took = Duration.ofNanos(System.nanoTime() - t0);

        assertThat(took).as("10 MB of web text").isLessThan(LIMIT);
        assertThat((double) found).isCloseTo(sentences, org.assertj.core.data.Percentage.withPercentage(2));
    }

    @Test
    void pathologicalInputsStayLinear() {
        for (String unit : List.of("a.", "a. ", ". ", "A. ", "x\n", "- \n", "\"?\" ", "U.S. ", "aaaaaaaaaaaaaaaaa")) {
            String text = unit.repeat(TEN_MB / unit.length());
            long t0 = System.nanoTime();
            splitter.split(text);
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            assertThat(took).as("10 MB of %s", unit.replace("\n", "\\n")).isLessThan(LIMIT);
        }
    }
}
