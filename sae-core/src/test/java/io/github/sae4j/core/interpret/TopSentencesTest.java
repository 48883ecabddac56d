package io.github.sae4j.core.interpret;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TopSentencesTest {

    record Offer(int latent, float score, long id) {
    }

    static List<Offer> offers(long seed, int count, int latents) {
        SplittableRandom r = new SplittableRandom(seed);
        List<Offer> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            // Scores from a small set, so ties are common.
            out.add(new Offer(r.nextInt(latents), r.nextInt(40) / 8f, r.nextLong(1000)));
        }
        return out;
    }

    static long[] expected(List<Offer> offers, int latent, int n) {
        return offers.stream().filter(o -> o.latent() == latent)
                .sorted(Comparator.comparing(Offer::score).reversed().thenComparing(Offer::id)).limit(n)
                .mapToLong(Offer::id).toArray();
    }

    static long[] ranked(TopSentences t, int latent) {
        long[] ids = new long[t.capacity()];
        float[] scores = new float[t.capacity()];
        int n = t.ranked(latent, ids, scores);
        return java.util.Arrays.copyOf(ids, n);
    }

    @Test
    void keepsTheBestSentencesOfEveryLatentWithTiesToTheSmallerId() {
        List<Offer> offers = offers(1, 20_000, 37);
        TopSentences t = new TopSentences(37, 7);
        offers.forEach(o -> t.offer(o.latent(), o.score(), o.id()));
        for (int l = 0; l < 37; l++) {
            assertThat(ranked(t, l)).as("latent %d", l).containsExactly(expected(offers, l, 7));
        }
    }

    @Test
    void partialResultsMergeIntoTheSingleRunsAndSurviveAWriteAndRead() throws IOException {
        List<Offer> offers = offers(2, 10_000, 11);
        TopSentences whole = new TopSentences(11, 5);
        TopSentences a = new TopSentences(11, 5);
        TopSentences b = new TopSentences(11, 5);
        for (int i = 0; i < offers.size(); i++) {
            Offer o = offers.get(i);
            whole.offer(o.latent(), o.score(), o.id());
            (i % 3 == 0 ? a : b).offer(o.latent(), o.score(), o.id());
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        b.write(new DataOutputStream(bytes));
        TopSentences bBack = TopSentences.read(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        a.merge(bBack);
        for (int l = 0; l < 11; l++) {
            assertThat(ranked(a, l)).containsExactly(ranked(whole, l));
        }
    }
}
