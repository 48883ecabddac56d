package io.github.sae4j.api.backend;

/**
 * The operations a decoder-only transformer's forward pass needs beyond {@link TensorOps}' primitives: a matmul
 * against weights kept in their file's (possibly quantized) format, embedding lookup, RMSNorm, rotary position
 * embedding, SwiGLU and causal attention over packed sequences. All activations are F32 tensors.
 * <p>Every method has a default written as the slow, obvious reference (copy to the host, loop, copy back), so a
 * backend works before it has kernels of its own; backends override them with fast versions, and the conformance
 * suite compares the two. Results must be deterministic whatever the thread count.
 */
public interface TransformerOps {

    /**
     * {@code out[r, o] = sum_i x[r, i] * w[o, i]}: {@code x} is {@code [n, w.cols()]}, {@code out} is
     * {@code [n, w.rows()]}. Quantized weights stay quantized; kernels dequantize block by block.
     */
    default void linear(Tensor x, WeightMatrix w, Tensor out) {
        int n = x.rows();
        require(x.cols() == w.cols(), "linear: x is " + shape(x) + " but " + w.name() + " has " + w.cols() + " columns");
        require(out.rows() == n && out.cols() == w.rows(), "linear: out must be [" + n + ", " + w.rows() + "], got "
                + shape(out));
        float[] xs = host(x);
        float[] ys = new float[Math.multiplyExact(n, w.rows())];
        float[] row = new float[w.cols()];
        for (int o = 0; o < w.rows(); o++) {
            w.dequantizeRow(o, row, 0);
            for (int r = 0; r < n; r++) {
                float s = 0;
                for (int i = 0; i < row.length; i++) {
                    s += xs[r * row.length + i] * row[i];
                }
                ys[r * w.rows() + o] = s;
            }
        }
        out.copyFrom(ys, 0);
    }

    /** {@code out[r, :] = table[tokens[r], :]}, dequantized; {@code out} is {@code [tokens.length, table.cols()]}. */
    default void embedding(WeightMatrix table, int[] tokens, Tensor out) {
        require(out.rows() == tokens.length && out.cols() == table.cols(), "embedding: out must be ["
                + tokens.length + ", " + table.cols() + "], got " + shape(out));
        float[] ys = new float[Math.multiplyExact(tokens.length, table.cols())];
        for (int r = 0; r < tokens.length; r++) {
            if (tokens[r] < 0 || tokens[r] >= table.rows()) {
                throw new IllegalArgumentException("embedding: token " + tokens[r] + " at row " + r + " is outside "
                        + table.name() + "'s " + table.rows() + " rows");
            }
            table.dequantizeRow(tokens[r], ys, r * table.cols());
        }
        out.copyFrom(ys, 0);
    }

    /**
     * RMSNorm of each row: {@code out[r, :] = weight * (x[r, :] / sqrt(mean(x[r, :]^2) + eps))}; {@code out} may
     * be {@code x}.
     */
    default void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out) {
        int d = x.cols();
        require(weight.size() == d && out.size() == x.size(), "rmsNorm: x " + shape(x) + ", weight " + shape(weight)
                + ", out " + shape(out));
        float[] xs = host(x);
        float[] w = host(weight);
        for (int r = 0; r < x.rows(); r++) {
            double ss = 0;
            for (int i = 0; i < d; i++) {
                ss += (double) xs[r * d + i] * xs[r * d + i];
            }
            float inv = (float) (1.0 / Math.sqrt((float) (ss / d) + eps));
            for (int i = 0; i < d; i++) {
                xs[r * d + i] = w[i] * (xs[r * d + i] * inv);
            }
        }
        out.copyFrom(xs, 0);
    }

    /**
     * Rotary position embedding, in place, on {@code x} of shape {@code [n, heads * headDim]}: row {@code r} is
     * at position {@code positions[r]} and pair {@code j < headDim / 2} of every head is rotated by the angle
     * whose {@code cos[p, j]} and {@code sin[p, j]} the {@code [maxPositions, headDim / 2]} tables hold.
     * Pairs are {@code (j, j + headDim/2)} (Hugging Face "rotate half") or, with {@code interleaved},
     * {@code (2j, 2j + 1)} (Meta's and GGUF's layout).
     */
    default void rotaryEmbedding(Tensor x, int headDim, int[] positions, Tensor cos, Tensor sin, boolean interleaved) {
        int width = x.cols();
        int half = headDim / 2;
        require(headDim % 2 == 0 && width % headDim == 0, "rotaryEmbedding: row width " + width
                + " is not a whole number of heads of even size " + headDim);
        require(positions.length == x.rows(), "rotaryEmbedding: " + positions.length + " positions for " + x.rows()
                + " rows");
        require(cos.cols() == half && sin.cols() == half, "rotaryEmbedding: cos/sin tables must have " + half
                + " columns");
        float[] xs = host(x);
        float[] c = host(cos);
        float[] s = host(sin);
        for (int r = 0; r < positions.length; r++) {
            int p = positions[r];
            require(p >= 0 && p < cos.rows(), "rotaryEmbedding: position " + p + " is outside the " + cos.rows()
                    + "-row table");
            for (int h = 0; h < width / headDim; h++) {
                int base = r * width + h * headDim;
                for (int j = 0; j < half; j++) {
                    int a = base + (interleaved ? 2 * j : j);
                    int b = base + (interleaved ? 2 * j + 1 : j + half);
                    float cj = c[p * half + j];
                    float sj = s[p * half + j];
                    float x0 = xs[a];
                    float x1 = xs[b];
                    xs[a] = x0 * cj - x1 * sj;
                    xs[b] = x1 * cj + x0 * sj;
                }
            }
        }
        x.copyFrom(xs, 0);
    }

    /** SwiGLU: {@code out = gate * sigmoid(gate) * up}, elementwise; {@code out} may be {@code gate} or {@code up}. */
    default void siluMul(Tensor gate, Tensor up, Tensor out) {
        require(gate.size() == up.size() && out.size() == gate.size(), "siluMul: sizes differ: gate " + shape(gate)
                + ", up " + shape(up) + ", out " + shape(out));
        float[] g = host(gate);
        float[] u = host(up);
        for (int i = 0; i < g.length; i++) {
            g[i] = g[i] / (1f + (float) Math.exp(-g[i])) * u[i];
        }
        out.copyFrom(g, 0);
    }

    /** Copies rows {@code srcRow .. srcRow + rows} of {@code src} to rows {@code dstRow ..} of {@code dst} (same columns). */
    default void copyRows(Tensor src, int srcRow, Tensor dst, int dstRow, int rows) {
        int c = src.cols();
        require(dst.cols() == c, "copyRows: column counts differ: " + shape(src) + " vs " + shape(dst));
        require(srcRow >= 0 && dstRow >= 0 && rows >= 0 && srcRow + rows <= src.rows() && dstRow + rows <= dst.rows(),
                "copyRows: rows " + srcRow + ".." + (srcRow + rows) + " of " + shape(src) + " to " + dstRow + ".."
                        + (dstRow + rows) + " of " + shape(dst));
        float[] s = host(src);
        float[] d = host(dst);
        System.arraycopy(s, srcRow * c, d, dstRow * c, rows * c);
        dst.copyFrom(d, 0);
    }

    /**
     * Causal multi-head attention with grouped KV heads: for every query row, softmax of
     * {@code q . k / sqrt(headDim)} over the keys it may see (see {@link AttentionLayout}), times the values.
     * {@code q} and {@code out} are {@code [rows, heads * headDim]}; {@code keys} and {@code values}
     * {@code [rows', kvHeads * headDim]}. Rows of {@code out} outside the layout are left alone.
     */
    default void causalAttention(Tensor q, Tensor keys, Tensor values, AttentionLayout layout, Tensor out) {
        int hd = layout.headDim();
        int qw = layout.heads() * hd;
        int kw = layout.kvHeads() * hd;
        require(q.cols() == qw && out.cols() == qw && out.rows() == q.rows(), "causalAttention: q " + shape(q)
                + " and out " + shape(out) + " must both be [rows, " + qw + "]");
        require(keys.cols() == kw && values.cols() == kw && keys.rows() == values.rows(), "causalAttention: keys "
                + shape(keys) + " and values " + shape(values) + " must both be [rows, " + kw + "]");
        float[] qs = host(q);
        float[] ks = host(keys);
        float[] vs = host(values);
        float[] os = host(out);
        int group = layout.heads() / layout.kvHeads();
        float scale = (float) (1.0 / Math.sqrt(hd));
        for (int s = 0; s < layout.sequences(); s++) {
            for (int i = 0; i < layout.queryCount()[s]; i++) {
                int qr = layout.queryRow()[s] + i;
                int visible = layout.firstPosition()[s] + i + 1;
                require(qr < q.rows() && layout.keyRow()[s] + visible <= keys.rows(), "causalAttention: sequence " + s
                        + " reaches past the tensors");
                float[] scores = new float[visible];
                for (int h = 0; h < layout.heads(); h++) {
                    int kvh = h / group;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int t = 0; t < visible; t++) {
                        int kr = layout.keyRow()[s] + t;
                        float dot = 0;
                        for (int j = 0; j < hd; j++) {
                            dot += qs[qr * qw + h * hd + j] * ks[kr * kw + kvh * hd + j];
                        }
                        scores[t] = dot * scale;
                        max = Math.max(max, scores[t]);
                    }
                    float sum = 0;
                    for (int t = 0; t < visible; t++) {
                        scores[t] = (float) Math.exp(scores[t] - max);
                        sum += scores[t];
                    }
                    for (int j = 0; j < hd; j++) {
                        float acc = 0;
                        for (int t = 0; t < visible; t++) {
                            acc += scores[t] * vs[(layout.keyRow()[s] + t) * kw + kvh * hd + j];
                        }
                        os[qr * qw + h * hd + j] = acc / sum;
                    }
                }
            }
        }
        out.copyFrom(os, 0);
    }

    private static float[] host(Tensor t) {
        if (t.dtype() != DType.F32) {
            throw new IllegalArgumentException("transformer ops need F32 tensors, got " + t.dtype() + " " + shape(t));
        }
        float[] a = new float[Math.toIntExact(t.size())];
        t.copyTo(a, 0);
        return a;
    }

    private static String shape(Tensor t) {
        return java.util.Arrays.toString(t.shape());
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
