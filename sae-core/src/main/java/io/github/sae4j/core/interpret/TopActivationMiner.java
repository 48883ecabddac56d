package io.github.sae4j.core.interpret;

import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.sae.LatentCodes;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.core.io.AtomicFiles;
import io.github.sae4j.core.store.ActivationDataset;
import io.github.sae4j.core.store.ActivationShardReader;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.IntConsumer;

/**
 * Mines stored activations for every latent's top sentences: each record batch of each shard is encoded by the SAE
 * and every latent active in a sentence is credited with the sentence's aggregate ({@link SentenceScorer}).
 *
 * <p>Shards are mined one at a time into a partial result (top sentences and statistics) that is written to the
 * state directory before the next shard starts; a rerun merges the partials it finds instead of mining those shards
 * again, so an interrupted run resumes at the shard where it stopped, and partials from runs over different shards
 * of one dataset merge into the result of a single run.
 */
public final class TopActivationMiner {

    /** What a run found. */
    public record Result(TopSentences top, LatentStatistics statistics, int shardsMined, int shardsResumed) {
    }

    private TopActivationMiner() {
    }

    /**
     * @param batchRows rows encoded at a time
     * @param state     where partial results go (created if needed), or null to keep nothing
     * @param progress  told the number of shards done after each
     */
    public static Result mine(ActivationDataset dataset, Sae sae, Aggregation aggregation, int topN, int batchRows,
                              Path state, IntConsumer progress) throws IOException {
        int dIn = sae.spec().dIn();
        int dModel = dataset.header().dModel();
        if (dIn != dModel) {
            throw new IllegalArgumentException("the SAE reads " + dIn + "-dimensional activations (d_in in its cfg.json) "
                    + "but " + dataset.location() + " holds " + dModel + "-dimensional ones (" + dataset.header().hookPoint()
                    + "); mine the activations the SAE was trained on");
        }
        if (dataset.rows() == 0) {
            throw new IllegalArgumentException(dataset.location() + " holds no activation rows; capture some first");
        }
        int latents = sae.spec().dSae();
        TopSentences top = new TopSentences(latents, topN);
        LatentStatistics stats = new LatentStatistics(latents);
        if (state != null) {
            Files.createDirectories(state);
        }
        int mined = 0;
        int resumed = 0;
        for (int s = 0; s < dataset.shards().size(); s++) {
            Path shard = dataset.shards().get(s);
            Path partial = state == null ? null : state.resolve(shard.getFileName() + "." + aggregation.name()
                    .toLowerCase(java.util.Locale.ROOT) + ".top" + topN + ".partial");
            if (partial != null && Files.exists(partial)) {
                try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(partial)))) {
                    TopSentences t = TopSentences.read(in);
                    LatentStatistics st = LatentStatistics.read(in);
                    if (t.latents() != latents || t.capacity() != topN) {
                        throw new IOException(partial + " holds " + t.latents() + " latents x " + t.capacity()
                                + " sentences, not " + latents + " x " + topN + ": it is from another SAE or setting; "
                                + "delete the state directory or choose another");
                    }
                    top.merge(t);
                    stats.merge(st);
                }
                resumed++;
            } else {
                TopSentences t = new TopSentences(latents, topN);
                LatentStatistics st = new LatentStatistics(latents);
                mineShard(shard, sae, new SentenceScorer(aggregation, t, st), batchRows);
                if (partial != null) {
                    AtomicFiles.writeFile(partial, tmp -> {
                        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(
                                Files.newOutputStream(tmp)))) {
                            t.write(out);
                            st.write(out);
                        }
                    });
                }
                top.merge(t);
                stats.merge(st);
                mined++;
            }
            progress.accept(s + 1);
        }
        return new Result(top, stats, mined, resumed);
    }

    private static void mineShard(Path shardPath, Sae sae, SentenceScorer scorer, int batchRows) throws IOException {
        int d = sae.spec().dIn();
        Device device = sae.device();
        try (ActivationShardReader shard = ActivationShardReader.open(shardPath)) {
            int capacity = 0;
            for (int b = 0; b < shard.batchCount(); b++) {
                capacity = Math.max(capacity, shard.batchRows(b));
            }
            float[] values = new float[capacity * d];
            long[] sentences = new long[capacity];
            int[] positions = new int[capacity];
            int[] tokens = new int[capacity];
            for (int b = 0; b < shard.batchCount(); b++) {
                int rows = shard.batchRows(b);
                shard.readBatch(b, values, sentences, positions, tokens, 0);
                sae.spec().normalize(values, 0, rows);
                for (int from = 0; from < rows; from += batchRows) {
                    int n = Math.min(batchRows, rows - from);
                    float[] chunk = java.util.Arrays.copyOfRange(values, from * d, (from + n) * d);
                    try (Tensor x = device.upload(chunk, n, d); LatentCodes codes = sae.encode(x)) {
                        feed(codes, sentences, from, n, scorer);
                    }
                }
            }
            scorer.finishSentence();
        }
    }

    private static void feed(LatentCodes codes, long[] sentences, int from, int n, SentenceScorer scorer) {
        switch (codes) {
            case LatentCodes.Sparse sparse -> {
                int k = sparse.values().cols();
                float[] v = sparse.values().toFloatArray();
                int[] idx = sparse.indices().toIntArray();
                for (int r = 0; r < n; r++) {
                    scorer.row(sentences[from + r], idx, v, r * k, k);
                }
            }
            case LatentCodes.Dense dense -> {
                int latents = dense.activations().cols();
                float[] a = dense.activations().toFloatArray();
                int[] idx = new int[latents];
                float[] val = new float[latents];
                for (int r = 0; r < n; r++) {
                    int m = 0;
                    for (int l = 0; l < latents; l++) {
                        float x = a[r * latents + l];
                        if (x > 0f) {
                            idx[m] = l;
                            val[m++] = x;
                        }
                    }
                    scorer.row(sentences[from + r], idx, val, 0, m);
                }
            }
        }
    }
}
