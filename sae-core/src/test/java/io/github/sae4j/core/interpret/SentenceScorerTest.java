package io.github.sae4j.core.interpret;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Sentence scores on hand-made codes where the right answers are known. */
class SentenceScorerTest {

    /** Feeds rows given as {latent, value, latent, value, ...} with k = 2 slots. */
    static void row(SentenceScorer s, long sentence, float... pairs) {
        int[] idx = {-1, -1};
        float[] val = {0, 0};
        for (int i = 0; i < pairs.length / 2; i++) {
            idx[i] = (int) pairs[2 * i];
            val[i] = pairs[2 * i + 1];
        }
        s.row(sentence, idx, val, 0, 2);
    }

    static TopSentences score(Aggregation a, LatentStatistics stats) {
        TopSentences top = new TopSentences(4, 3);
        SentenceScorer s = new SentenceScorer(a, top, stats);
        // Sentence 10: latent 0 strong on every token, latent 1 weak on the last token only.
        row(s, 10, 0, 5f, 1, 0f);
        row(s, 10, 0, 5f);
        row(s, 10, 0, 4f, 1, 0.5f);
        // Sentence 11: latent 1 high once in the middle (never the sentence's strongest latent: 0 is stronger).
        row(s, 11, 0, 9f, 1, 0.25f);
        row(s, 11, 0, 9f, 1, 3f);
        row(s, 11, 0, 9f);
        // Sentence 12: latent 2 only, on its last token; a negative slot value counts as off.
        row(s, 12, 3, -1f);
        row(s, 12, 2, 1f);
        s.finishSentence();
        return top;
    }

    static long[] ranked(TopSentences t, int latent) {
        return TopSentencesTest.ranked(t, latent);
    }

    @Test
    void everyActiveLatentIsCreditedNotOnlyTheSentencesStrongest() {
        TopSentences top = score(Aggregation.MAX, new LatentStatistics(4));
        assertThat(ranked(top, 0)).containsExactly(11L, 10L);
        assertThat(ranked(top, 1)).as("latent 1 never wins a token's argmax").containsExactly(11L, 10L);
        assertThat(ranked(top, 2)).containsExactly(12L);
        assertThat(ranked(top, 3)).isEmpty();
    }

    @Test
    void meanAndLastTokenScores() {
        TopSentences mean = score(Aggregation.MEAN, new LatentStatistics(4));
        long[] ids = new long[3];
        float[] scores = new float[3];
        mean.ranked(1, ids, scores);
        // latent 1: sentence 11 (0.25 + 3) / 3, sentence 10 0.5 / 3
        assertThat(ids[0]).isEqualTo(11L);
        assertThat(scores[0]).isCloseTo(3.25f / 3, within(1e-6f));
        assertThat(scores[1]).isCloseTo(0.5f / 3, within(1e-6f));

        TopSentences last = score(Aggregation.LAST, new LatentStatistics(4));
        assertThat(ranked(last, 1)).as("only sentence 10 has latent 1 on its last token").containsExactly(10L);
        assertThat(ranked(last, 2)).containsExactly(12L);
        assertThat(ranked(last, 0)).containsExactly(11L, 10L);
    }

    @Test
    void statisticsCountTokensDensityMeanHistogramAndDeadLatents() {
        LatentStatistics stats = new LatentStatistics(4);
        score(Aggregation.MAX, stats);
        assertThat(stats.tokens()).isEqualTo(8);
        assertThat(stats.firingTokens(0)).isEqualTo(6);
        assertThat(stats.density(1)).isCloseTo(3 / 8.0, within(1e-12));
        assertThat(stats.meanActivation(1)).isCloseTo((0.5 + 0.25 + 3) / 3, within(1e-9));
        assertThat(stats.dead()).containsExactly(3);
        int[] h = stats.histogram(2);
        assertThat(h[LatentStatistics.bin(1f)]).isEqualTo(1);
        assertThat(java.util.Arrays.stream(h).sum()).isEqualTo(1);
        assertThat(LatentStatistics.bin(1f)).isEqualTo(13);
        assertThat(LatentStatistics.bin(1e-9f)).isZero();
        assertThat(LatentStatistics.bin(1e9f)).isEqualTo(LatentStatistics.BINS - 1);
    }
}
