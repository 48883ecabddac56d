package io.github.sae4j.openwebtext.split;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Scores a splitter against the gold set.
 *
 * <p>A <em>boundary</em> is the offset where a sentence ends, for every sentence but the last of a paragraph (the
 * last ends with the paragraph, so every splitter gets it free). Boundary precision is the share of predicted
 * boundaries that are gold, recall the share of gold boundaries predicted. <em>Span</em> scores count whole
 * sentences instead: a predicted sentence is right only if both its start and its end match a gold sentence, so
 * one missed boundary costs two spans. A paragraph is right if all its sentences are.
 */
public record SplitEvaluation(Counts boundaries, Counts spans, int paragraphs, int paragraphsRight) {

    /** True positives, predicted and gold totals, and the scores they give. */
    public record Counts(long truePositives, long predicted, long gold) {

        public double precision() {
            return predicted == 0 ? 1.0 : (double) truePositives / predicted;
        }

        public double recall() {
            return gold == 0 ? 1.0 : (double) truePositives / gold;
        }

        public double f1() {
            double p = precision();
            double r = recall();
            return p + r == 0 ? 0.0 : 2 * p * r / (p + r);
        }
    }

    public double paragraphAccuracy() {
        return paragraphs == 0 ? 1.0 : (double) paragraphsRight / paragraphs;
    }

    public static SplitEvaluation of(SentenceSplitter splitter, List<GoldSet.Paragraph> gold) {
        long boundaryTp = 0;
        long boundaryPredicted = 0;
        long boundaryGold = 0;
        long spanTp = 0;
        long spanPredicted = 0;
        long spanGold = 0;
        int right = 0;
        for (GoldSet.Paragraph paragraph : gold) {
            List<TextSpan> expected = paragraph.spans();
            List<TextSpan> actual = splitter.split(paragraph.text());
            Set<Integer> expectedEnds = innerEnds(expected);
            Set<Integer> actualEnds = innerEnds(actual);
            boundaryGold += expectedEnds.size();
            boundaryPredicted += actualEnds.size();
            actualEnds.retainAll(expectedEnds);
            boundaryTp += actualEnds.size();
            Set<TextSpan> expectedSpans = new HashSet<>(expected);
            spanGold += expected.size();
            spanPredicted += actual.size();
            spanTp += actual.stream().filter(expectedSpans::contains).count();
            if (actual.equals(expected)) {
                right++;
            }
        }
        return new SplitEvaluation(new Counts(boundaryTp, boundaryPredicted, boundaryGold),
                new Counts(spanTp, spanPredicted, spanGold), gold.size(), right);
    }

    private static Set<Integer> innerEnds(List<TextSpan> spans) {
        Set<Integer> ends = new HashSet<>();
        for (int k = 0; k < spans.size() - 1; k++) {
            ends.add(spans.get(k).end());
        }
        return ends;
    }
}
