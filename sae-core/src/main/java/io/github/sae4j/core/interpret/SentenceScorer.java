package io.github.sae4j.core.interpret;

/**
 * Turns the sparse latent codes of consecutive token rows into sentence scores: rows of one sentence are fed in
 * order, and when the sentence ends every latent active anywhere in it is credited with its aggregate (not only the
 * sentence's strongest latent, which is what the original miner did). Scratch arrays are indexed by latent and
 * reset through the list of latents touched, so a sentence costs O(tokens x k).
 */
public final class SentenceScorer {

    private final Aggregation aggregation;
    private final TopSentences top;
    private final LatentStatistics statistics;
    private final float[] max;
    private final float[] sum;
    private final float[] last;
    /** The row (within the sentence) where {@link #last} was set. */
    private final int[] lastRow;
    private final int[] touched;
    private final boolean[] seen;
    private int touchedCount;
    private long sentence = Long.MIN_VALUE;
    private int tokens;

    public SentenceScorer(Aggregation aggregation, TopSentences top, LatentStatistics statistics) {
        this.aggregation = aggregation;
        this.top = top;
        this.statistics = statistics;
        int latents = top.latents();
        this.max = new float[latents];
        this.sum = new float[latents];
        this.last = new float[latents];
        this.lastRow = new int[latents];
        this.touched = new int[latents];
        this.seen = new boolean[latents];
    }

    /**
     * One token row: its sentence and its active latents ({@code indices[from..from+k)}, -1 for an empty slot, and
     * their values; values <= 0 are inactive).
     */
    public void row(long sentenceId, int[] indices, float[] values, int from, int k) {
        if (sentenceId != sentence) {
            finishSentence();
            sentence = sentenceId;
        }
        int row = tokens++;
        for (int j = from; j < from + k; j++) {
            int latent = indices[j];
            float v = values[j];
            if (latent < 0 || !(v > 0f)) {
                continue;
            }
            if (!seen[latent]) {
                seen[latent] = true;
                touched[touchedCount++] = latent;
            }
            if (v > max[latent]) {
                max[latent] = v;
            }
            sum[latent] += v;
            last[latent] = v;
            lastRow[latent] = row;
            statistics.add(latent, v);
        }
    }

    /** Credits the sentence in progress (call once after the last row). */
    public void finishSentence() {
        if (tokens == 0) {
            return;
        }
        statistics.addTokens(tokens);
        for (int i = 0; i < touchedCount; i++) {
            int l = touched[i];
            float score = switch (aggregation) {
                case MAX -> max[l];
                case MEAN -> sum[l] / tokens;
                case LAST -> lastRow[l] == tokens - 1 ? last[l] : 0f;
            };
            if (score > 0f) {
                top.offer(l, score, sentence);
            }
            max[l] = 0f;
            sum[l] = 0f;
            last[l] = 0f;
            seen[l] = false;
        }
        touchedCount = 0;
        tokens = 0;
    }
}
