package io.github.sae4j.openwebtext.split;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** The metric on a case worked by hand, then both splitters on the gold set. */
class SplitEvaluationTest {

    /** The rules' F1 on the gold set when last measured (docs/sentence-splitting.md), less a margin for edits. */
    private static final double RULES_MIN_BOUNDARY_F1 = 0.98;
    private static final double RULES_MIN_SPAN_F1 = 0.97;
    /** OpenNLP's, measured the same way, less the same margin: a guard against a broken model load or mapping. */
    private static final double OPENNLP_MIN_BOUNDARY_F1 = 0.82;

    @Test
    void scoresBoundariesAndSpansAsDefined() {
        // gold: "A. B. C." is three sentences; the splitter below finds "A. B." and "C."
        GoldSet.Paragraph paragraph = new GoldSet.Paragraph("p", "web", "A. B. C.", List.of("A.", "B.", "C."));
        SentenceSplitter joinsTheFirstTwo = new SentenceSplitter() {
            @Override
            public String name() {
                return "fixed";
            }

            @Override
            public List<TextSpan> split(String text) {
                return List.of(new TextSpan(0, 5), new TextSpan(6, 8));
            }
        };
        SplitEvaluation e = SplitEvaluation.of(joinsTheFirstTwo, List.of(paragraph));
        // boundaries: gold {2, 5}, predicted {5}: P = 1/1, R = 1/2, F1 = 2/3
        assertThat(e.boundaries()).isEqualTo(new SplitEvaluation.Counts(1, 1, 2));
        assertThat(e.boundaries().f1()).isCloseTo(2.0 / 3, within(1e-12));
        // spans: gold {[0,2), [3,5), [6,8)}, predicted {[0,5), [6,8)}: P = 1/2, R = 1/3, F1 = 2/5
        assertThat(e.spans()).isEqualTo(new SplitEvaluation.Counts(1, 2, 3));
        assertThat(e.spans().f1()).isCloseTo(0.4, within(1e-12));
        assertThat(e.paragraphAccuracy()).isZero();
    }

    @Test
    void theDefaultSplitterScoresAtLeastItsMeasuredF1AndBeatsTheOthers() {
        List<GoldSet.Paragraph> gold = GoldSet.load();
        SplitEvaluation rules = SplitEvaluation.of(SentenceSplitters.create("rules"), gold);
        SplitEvaluation openNlp = SplitEvaluation.of(SentenceSplitters.create("opennlp"), gold);
        print("rules", rules);
        print("opennlp", openNlp);

        assertThat(rules.boundaries().f1()).as("rules boundary F1").isGreaterThanOrEqualTo(RULES_MIN_BOUNDARY_F1);
        assertThat(rules.spans().f1()).as("rules span F1").isGreaterThanOrEqualTo(RULES_MIN_SPAN_F1);
        assertThat(openNlp.boundaries().f1()).as("opennlp boundary F1")
                .isGreaterThanOrEqualTo(OPENNLP_MIN_BOUNDARY_F1);
        assertThat(SentenceSplitters.DEFAULT).isEqualTo("rules");
        assertThat(rules.boundaries().f1()).as("the default has the best boundary F1")
                .isGreaterThan(openNlp.boundaries().f1());
    }

    private static void print(String name, SplitEvaluation e) {
        System.out.printf(Locale.ROOT, "%-8s boundary P/R/F1 %.3f/%.3f/%.3f  span P/R/F1 %.3f/%.3f/%.3f  "
                        + "paragraphs right %.3f%n", name, e.boundaries().precision(), e.boundaries().recall(),
                e.boundaries().f1(), e.spans().precision(), e.spans().recall(), e.spans().f1(),
                e.paragraphAccuracy());
    }
}
