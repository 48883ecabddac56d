package io.github.sae4j.core.backend.java;

import io.github.sae4j.api.backend.AttentionLayout;

/**
 * Causal attention with grouped KV heads over packed sequences (see {@link AttentionLayout}), on heap arrays.
 *
 * <p>The work is split into tasks of one sequence, one query head and up to {@value #QUERY_BLOCK} consecutive
 * queries: the split follows the data, not the thread count, and each output row of a head is computed by one task
 * in a fixed order (vector dot products for the scores, a max-subtracted softmax with {@link Math#exp}, then the
 * values accumulated with fused multiply-adds in key order), so results do not depend on the thread count.
 */
final class AttentionKernel {

    /** Queries per task: enough to amortize the task, few enough that short batches still spread over threads. */
    static final int QUERY_BLOCK = 32;

    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[2][0]);

    private AttentionKernel() {
    }

    static void run(WorkerPool pool, float[] q, int qRows, int qCols, float[] k, float[] v, int kRows, int kCols,
                    int vRows, int vCols, AttentionLayout layout, float[] out, int outRows, int outCols) {
        int hd = layout.headDim();
        int heads = layout.heads();
        int qw = heads * hd;
        int kw = layout.kvHeads() * hd;
        if (qCols != qw || outCols != qw || outRows != qRows) {
            throw new IllegalArgumentException("causalAttention: q [" + qRows + ", " + qCols + "] and out [" + outRows
                    + ", " + outCols + "] must both be [rows, " + qw + "]");
        }
        if (kCols != kw || vCols != kw || kRows != vRows) {
            throw new IllegalArgumentException("causalAttention: keys [" + kRows + ", " + kCols + "] and values ["
                    + vRows + ", " + vCols + "] must both be [rows, " + kw + "]");
        }
        int sequences = layout.sequences();
        int[] firstTask = new int[sequences + 1];
        int maxVisible = 0;
        for (int s = 0; s < sequences; s++) {
            int count = layout.queryCount()[s];
            int first = layout.firstPosition()[s];
            if (count < 0 || first < 0 || layout.queryRow()[s] < 0 || layout.keyRow()[s] < 0
                    || layout.queryRow()[s] + count > qRows || layout.keyRow()[s] + first + count > kRows) {
                throw new IllegalArgumentException("causalAttention: sequence " + s + " (query rows "
                        + layout.queryRow()[s] + " + " + count + ", key rows " + layout.keyRow()[s] + " + "
                        + (first + count) + ") reaches past the tensors (" + qRows + " query rows, " + kRows
                        + " key rows)");
            }
            maxVisible = Math.max(maxVisible, first + count);
            firstTask[s + 1] = firstTask[s] + heads * ((count + QUERY_BLOCK - 1) / QUERY_BLOCK);
        }
        int visibleMax = maxVisible;
        int group = heads / layout.kvHeads();
        float scale = (float) (1.0 / Math.sqrt(hd));
        pool.run(firstTask[sequences], task -> {
            int s = sequence(firstTask, task);
            int local = task - firstTask[s];
            int count = layout.queryCount()[s];
            int blocks = (count + QUERY_BLOCK - 1) / QUERY_BLOCK;
            int h = local / blocks;
            int i0 = (local % blocks) * QUERY_BLOCK;
            int i1 = Math.min(count, i0 + QUERY_BLOCK);
            int kvOffset = (h / group) * hd;
            int keyRow = layout.keyRow()[s];
            float[][] scratch = SCRATCH.get();
            if (scratch[0].length < visibleMax) {
                scratch[0] = new float[visibleMax];
            }
            if (scratch[1].length < hd) {
                scratch[1] = new float[hd];
            }
            float[] scores = scratch[0];
            float[] acc = scratch[1];
            for (int i = i0; i < i1; i++) {
                int qBase = (layout.queryRow()[s] + i) * qw + h * hd;
                int visible = layout.firstPosition()[s] + i + 1;
                float max = Float.NEGATIVE_INFINITY;
                for (int t = 0; t < visible; t++) {
                    float score = Kernels.dot2(q, qBase, k, (keyRow + t) * kw + kvOffset, hd) * scale;
                    scores[t] = score;
                    max = Math.max(max, score);
                }
                float sum = 0;
                for (int t = 0; t < visible; t++) {
                    float e = (float) Math.exp(scores[t] - max);
                    scores[t] = e;
                    sum += e;
                }
                java.util.Arrays.fill(acc, 0, hd, 0f);
                for (int t = 0; t < visible; t++) {
                    Kernels.axpy(scores[t], v, (keyRow + t) * kw + kvOffset, acc, 0, hd);
                }
                for (int j = 0; j < hd; j++) {
                    out[qBase + j] = acc[j] / sum;
                }
            }
        });
    }

    /** The sequence whose tasks include {@code task}: binary search over the first task of each sequence. */
    private static int sequence(int[] firstTask, int task) {
        int lo = 0;
        int hi = firstTask.length - 2;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (firstTask[mid] <= task) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }
}
