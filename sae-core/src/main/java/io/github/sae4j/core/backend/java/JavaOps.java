package io.github.sae4j.core.backend.java;

import static io.github.sae4j.api.backend.TensorArgs.length;
import static io.github.sae4j.api.backend.TensorArgs.sameSize;
import static io.github.sae4j.api.backend.TensorArgs.shape;

import io.github.sae4j.core.store.BFloat16;
import io.github.sae4j.api.backend.AdamWStep;
import io.github.sae4j.api.backend.AttentionLayout;
import io.github.sae4j.api.backend.DType;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.backend.TensorArgs;
import io.github.sae4j.api.backend.TensorOps;
import io.github.sae4j.api.backend.WeightMatrix;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The pure-Java implementation of every op: Vector API inner loops, work split over rows, columns or fixed-size
 * chunks so that each output element is computed the same way whatever the thread count.
 */
final class JavaOps implements TensorOps {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Elementwise work below this many elements runs on the calling thread. */
    private static final int PARALLEL_MIN = 1 << 15;
    /** Reductions sum fixed chunks of this many elements in float, then the chunks in order in double. */
    private static final int REDUCE_CHUNK = 1 << 12;

    private final JavaDevice device;
    private final WorkerPool pool;

    JavaOps(JavaDevice device, WorkerPool pool) {
        this.device = device;
        this.pool = pool;
    }

    // ------------------------------------------------------------------ argument checks

    private JavaTensor t(Tensor tensor, String what) {
        JavaTensor x = TensorArgs.on(tensor, device, JavaTensor.class, what);
        x.checkOpen();
        return x;
    }

    private JavaTensor f32(Tensor tensor, String what) {
        JavaTensor x = t(tensor, what);
        TensorArgs.dtype(x, DType.F32, what);
        return x;
    }

    private JavaTensor i32(Tensor tensor, String what) {
        JavaTensor x = t(tensor, what);
        TensorArgs.dtype(x, DType.I32, what);
        return x;
    }

    private void elementwise(int n, WorkerPool.RangeBody body) {
        if (n < PARALLEL_MIN) {
            body.run(0, n);
        } else {
            pool.forRange(n, PARALLEL_MIN / 2, body);
        }
    }

    private void overRows(int rows, int costPerRow, WorkerPool.RangeBody body) {
        if ((long) rows * costPerRow < PARALLEL_MIN) {
            body.run(0, rows);
        } else {
            pool.forRange(rows, Math.max(1, PARALLEL_MIN / Math.max(1, costPerRow)), body);
        }
    }

    // ------------------------------------------------------------------ data movement

    @Override
    public void fill(Tensor tensor, float value) {
        JavaTensor x = t(tensor, "fill target");
        switch (x.dtype()) {
            case F32 -> elementwise(x.length(), (s, e) -> Arrays.fill(x.f, s, e, value));
            case I32 -> elementwise(x.length(), (s, e) -> Arrays.fill(x.i, s, e, (int) value));
            case BF16 -> {
                short bits = BFloat16.fromFloat(value);
                elementwise(x.length(), (s, e) -> Arrays.fill(x.h, s, e, bits));
            }
        }
    }

    @Override
    public void copy(Tensor source, Tensor destination) {
        JavaTensor src = t(source, "copy source");
        JavaTensor dst = t(destination, "copy destination");
        sameSize(src, dst, "copy");
        DType from = src.dtype();
        DType to = dst.dtype();
        if (from == to) {
            switch (from) {
                case F32 -> elementwise(src.length(), (s, e) -> System.arraycopy(src.f, s, dst.f, s, e - s));
                case BF16 -> elementwise(src.length(), (s, e) -> System.arraycopy(src.h, s, dst.h, s, e - s));
                case I32 -> elementwise(src.length(), (s, e) -> System.arraycopy(src.i, s, dst.i, s, e - s));
            }
        } else if (from == DType.BF16 && to == DType.F32) {
            elementwise(src.length(), (s, e) -> {
                for (int k = s; k < e; k++) {
                    dst.f[k] = BFloat16.toFloat(src.h[k]);
                }
            });
        } else if (from == DType.F32 && to == DType.BF16) {
            elementwise(src.length(), (s, e) -> {
                for (int k = s; k < e; k++) {
                    dst.h[k] = BFloat16.fromFloat(src.f[k]);
                }
            });
        } else {
            throw new IllegalArgumentException("copy cannot convert " + from + " to " + to);
        }
    }

    // ------------------------------------------------------------------ dense linear algebra

    @Override
    public void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        JavaTensor ja = f32(a, "gemm A");
        JavaTensor jb = f32(b, "gemm B");
        JavaTensor jc = f32(c, "gemm C");
        int m = transA ? ja.cols() : ja.rows();
        int k = transA ? ja.rows() : ja.cols();
        int kb = transB ? jb.cols() : jb.rows();
        int n = transB ? jb.rows() : jb.cols();
        if (k != kb) {
            throw new IllegalArgumentException("gemm: inner dimensions differ: op(A) is " + m + " x " + k
                    + ", op(B) is " + kb + " x " + n + " (A " + Arrays.toString(ja.shape()) + (transA ? "^T" : "")
                    + ", B " + Arrays.toString(jb.shape()) + (transB ? "^T" : "") + ")");
        }
        if (jc.rows() != m || jc.cols() != n) {
            throw new IllegalArgumentException("gemm: C must be " + m + " x " + n + ", got " + Arrays.toString(jc.shape()));
        }
        DenseGemm dense = device.denseGemm();
        if (dense != null) {
            dense.gemm(transA, transB, m, n, k, alpha, ja.f, 0, ja.cols(), jb.f, 0, jb.cols(), beta, jc.f, 0, jc.cols());
        } else {
            Sgemm.gemm(pool, transA, transB, m, n, k, alpha, ja.f, 0, ja.cols(), jb.f, 0, jb.cols(), beta, jc.f, 0,
                    jc.cols());
        }
    }

    // ------------------------------------------------------------------ elementwise

    @Override
    public void axpby(float alpha, Tensor x, float beta, Tensor y) {
        JavaTensor jx = f32(x, "axpby x");
        JavaTensor jy = f32(y, "axpby y");
        sameSize(jx, jy, "axpby");
        float[] xs = jx.f;
        float[] ys = jy.f;
        elementwise(jx.length(), (s, e) -> {
            int i = s;
            int upper = s + S.loopBound(e - s);
            if (beta == 0f) {
                for (; i < upper; i += L) {
                    FloatVector.fromArray(S, xs, i).mul(alpha).intoArray(ys, i);
                }
                for (; i < e; i++) {
                    ys[i] = alpha * xs[i];
                }
            } else {
                for (; i < upper; i += L) {
                    FloatVector vx = FloatVector.fromArray(S, xs, i);
                    FloatVector vy = FloatVector.fromArray(S, ys, i);
                    vx.mul(alpha).add(vy.mul(beta)).intoArray(ys, i);
                }
                for (; i < e; i++) {
                    ys[i] = alpha * xs[i] + beta * ys[i];
                }
            }
        });
    }

    @Override
    public void addRowVector(Tensor m, float alpha, Tensor v) {
        JavaTensor jm = f32(m, "addRowVector matrix");
        JavaTensor jv = f32(v, "addRowVector vector");
        int cols = jm.cols();
        length(jv, cols, "addRowVector vector");
        float[] ms = jm.f;
        float[] vs = jv.f;
        overRows(jm.rows(), cols, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int base = r * cols;
                int c = 0;
                int upper = S.loopBound(cols);
                for (; c < upper; c += L) {
                    FloatVector.fromArray(S, vs, c).mul(alpha).add(FloatVector.fromArray(S, ms, base + c))
                            .intoArray(ms, base + c);
                }
                for (; c < cols; c++) {
                    ms[base + c] += alpha * vs[c];
                }
            }
        });
    }

    @Override
    public void relu(Tensor in, float threshold, Tensor out) {
        JavaTensor ji = f32(in, "relu input");
        JavaTensor jo = f32(out, "relu output");
        sameSize(ji, jo, "relu");
        float[] is = ji.f;
        float[] os = jo.f;
        elementwise(ji.length(), (s, e) -> {
            int i = s;
            int upper = s + S.loopBound(e - s);
            FloatVector zero = FloatVector.zero(S);
            for (; i < upper; i += L) {
                FloatVector v = FloatVector.fromArray(S, is, i);
                zero.blend(v, v.compare(VectorOperators.GT, threshold)).intoArray(os, i);
            }
            for (; i < e; i++) {
                float v = is[i];
                os[i] = v > threshold ? v : 0f;
            }
        });
    }

    @Override
    public void reluBackward(Tensor activation, Tensor grad, Tensor out) {
        JavaTensor ja = f32(activation, "reluBackward activation");
        JavaTensor jg = f32(grad, "reluBackward grad");
        JavaTensor jo = f32(out, "reluBackward output");
        sameSize(ja, jg, "reluBackward");
        sameSize(ja, jo, "reluBackward");
        float[] as = ja.f;
        float[] gs = jg.f;
        float[] os = jo.f;
        elementwise(ja.length(), (s, e) -> {
            int i = s;
            int upper = s + S.loopBound(e - s);
            FloatVector zero = FloatVector.zero(S);
            for (; i < upper; i += L) {
                VectorMask<Float> on = FloatVector.fromArray(S, as, i).compare(VectorOperators.GT, 0f);
                zero.blend(FloatVector.fromArray(S, gs, i), on).intoArray(os, i);
            }
            for (; i < e; i++) {
                os[i] = as[i] > 0f ? gs[i] : 0f;
            }
        });
    }

    // ------------------------------------------------------------------ reductions

    /** Splits columns into blocks; each block sums its rows in row order, so the split does not change results. */
    private void overColumnBlocks(int rows, int cols, WorkerPool.RangeBody body) {
        int block = Math.max(64, L);
        int blocks = (cols + block - 1) / block;
        if ((long) rows * cols < PARALLEL_MIN || blocks == 1) {
            body.run(0, cols);
            return;
        }
        pool.run(blocks, b -> body.run(b * block, Math.min(cols, (b + 1) * block)));
    }

    @Override
    public void columnSums(Tensor m, float alpha, float beta, Tensor out) {
        JavaTensor jm = f32(m, "columnSums matrix");
        JavaTensor jo = f32(out, "columnSums output");
        int rows = jm.rows();
        int cols = jm.cols();
        length(jo, cols, "columnSums output");
        float[] ms = jm.f;
        float[] os = jo.f;
        overColumnBlocks(rows, cols, (c0, c1) -> {
            float[] acc = new float[c1 - c0];
            for (int r = 0; r < rows; r++) {
                addInto(acc, ms, r * cols + c0, c1 - c0);
            }
            for (int c = c0; c < c1; c++) {
                float sum = alpha * acc[c - c0];
                os[c] = beta == 0f ? sum : beta * os[c] + sum;
            }
        });
    }

    private static void addInto(float[] acc, float[] src, int srcOff, int n) {
        int c = 0;
        int upper = S.loopBound(n);
        for (; c < upper; c += L) {
            FloatVector.fromArray(S, acc, c).add(FloatVector.fromArray(S, src, srcOff + c)).intoArray(acc, c);
        }
        for (; c < n; c++) {
            acc[c] += src[srcOff + c];
        }
    }

    @Override
    public void columnCountAbove(Tensor m, float threshold, Tensor out) {
        JavaTensor jm = f32(m, "columnCountAbove matrix");
        JavaTensor jo = f32(out, "columnCountAbove output");
        int rows = jm.rows();
        int cols = jm.cols();
        length(jo, cols, "columnCountAbove output");
        float[] ms = jm.f;
        float[] os = jo.f;
        overColumnBlocks(rows, cols, (c0, c1) -> {
            int n = c1 - c0;
            float[] acc = new float[n];
            FloatVector one = FloatVector.broadcast(S, 1f);
            FloatVector zero = FloatVector.zero(S);
            int upper = S.loopBound(n);
            for (int r = 0; r < rows; r++) {
                int base = r * cols + c0;
                int c = 0;
                for (; c < upper; c += L) {
                    VectorMask<Float> on = FloatVector.fromArray(S, ms, base + c).compare(VectorOperators.GT, threshold);
                    FloatVector.fromArray(S, acc, c).add(zero.blend(one, on)).intoArray(acc, c);
                }
                for (; c < n; c++) {
                    if (ms[base + c] > threshold) {
                        acc[c] += 1f;
                    }
                }
            }
            for (int c = c0; c < c1; c++) {
                os[c] += acc[c - c0];
            }
        });
    }

    @Override
    public void rowNorms(Tensor m, Tensor out) {
        JavaTensor jm = f32(m, "rowNorms matrix");
        JavaTensor jo = f32(out, "rowNorms output");
        int rows = jm.rows();
        int cols = jm.cols();
        length(jo, rows, "rowNorms output");
        float[] ms = jm.f;
        float[] os = jo.f;
        overRows(rows, cols, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                os[r] = (float) Math.sqrt(Kernels.dot(ms, r * cols, ms, r * cols, cols));
            }
        });
    }

    /** Sums chunk partials in chunk order: deterministic for any thread count. */
    private double reduceChunks(int n, ChunkReducer reducer) {
        int chunks = (n + REDUCE_CHUNK - 1) / REDUCE_CHUNK;
        if (chunks == 0) {
            return 0;
        }
        double[] partial = new double[chunks];
        WorkerPool.RangeBody body = (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                int s = c * REDUCE_CHUNK;
                partial[c] = reducer.reduce(s, Math.min(n, s + REDUCE_CHUNK));
            }
        };
        if (n < PARALLEL_MIN) {
            body.run(0, chunks);
        } else {
            pool.forRange(chunks, 4, body);
        }
        double total = 0;
        for (double p : partial) {
            total += p;
        }
        return total;
    }

    @FunctionalInterface
    private interface ChunkReducer {
        double reduce(int start, int end);
    }

    @Override
    public double sumSquares(Tensor x) {
        JavaTensor jx = f32(x, "sumSquares input");
        float[] xs = jx.f;
        return reduceChunks(jx.length(), (s, e) -> Kernels.dot(xs, s, xs, s, e - s));
    }

    @Override
    public double sumSquaredDifference(Tensor a, Tensor b) {
        JavaTensor ja = f32(a, "sumSquaredDifference a");
        JavaTensor jb = f32(b, "sumSquaredDifference b");
        sameSize(ja, jb, "sumSquaredDifference");
        float[] as = ja.f;
        float[] bs = jb.f;
        return reduceChunks(ja.length(), (s, e) -> Kernels.squaredDistance(as, s, bs, s, e - s));
    }

    @Override
    public double dot(Tensor a, Tensor b) {
        JavaTensor ja = f32(a, "dot a");
        JavaTensor jb = f32(b, "dot b");
        sameSize(ja, jb, "dot");
        float[] as = ja.f;
        float[] bs = jb.f;
        return reduceChunks(ja.length(), (s, e) -> Kernels.dot(as, s, bs, s, e - s));
    }

    @Override
    public long countAbove(Tensor x, float threshold) {
        JavaTensor jx = f32(x, "countAbove input");
        float[] xs = jx.f;
        int n = jx.length();
        return (long) reduceChunks(n, (s, e) -> {
            long count = 0;
            int i = s;
            int upper = s + S.loopBound(e - s);
            for (; i < upper; i += L) {
                count += FloatVector.fromArray(S, xs, i).compare(VectorOperators.GT, threshold).trueCount();
            }
            for (; i < e; i++) {
                if (xs[i] > threshold) {
                    count++;
                }
            }
            return count;
        });
    }

    @Override
    public long countNonFinite(Tensor x) {
        JavaTensor jx = f32(x, "countNonFinite input");
        float[] xs = jx.f;
        int n = jx.length();
        return (long) reduceChunks(n, (s, e) -> {
            long count = 0;
            int i = s;
            int upper = s + S.loopBound(e - s);
            for (; i < upper; i += L) {
                FloatVector v = FloatVector.fromArray(S, xs, i);
                // x - x is 0 for finite x and NaN for NaN and infinities.
                count += v.sub(v).compare(VectorOperators.NE, 0f).trueCount();
            }
            for (; i < e; i++) {
                if (!Float.isFinite(xs[i])) {
                    count++;
                }
            }
            return count;
        });
    }

    @Override
    public void rowNormsAndDots(Tensor x, Tensor xHat, Tensor out) {
        JavaTensor jx = f32(x, "rowNormsAndDots x");
        JavaTensor jh = f32(xHat, "rowNormsAndDots xHat");
        JavaTensor jo = f32(out, "rowNormsAndDots output");
        int rows = jx.rows();
        int cols = jx.cols();
        shape(jh, rows, cols, "rowNormsAndDots xHat");
        shape(jo, rows, 3, "rowNormsAndDots output");
        float[] xs = jx.f;
        float[] hs = jh.f;
        float[] os = jo.f;
        overRows(rows, 3 * cols, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int base = r * cols;
                os[3 * r] = (float) Kernels.dot(xs, base, xs, base, cols);
                os[3 * r + 1] = (float) Kernels.dot(hs, base, hs, base, cols);
                os[3 * r + 2] = (float) Kernels.dot(xs, base, hs, base, cols);
            }
        });
    }

    // ------------------------------------------------------------------ top-k

    @Override
    public void topKRows(Tensor m, int k, Tensor values, Tensor indices) {
        topK(m, null, k, values, indices, "topKRows");
    }

    @Override
    public void topKRowsMasked(Tensor m, Tensor columnMask, int k, Tensor values, Tensor indices) {
        JavaTensor mask = f32(columnMask, "topKRowsMasked mask");
        length(mask, t(m, "topKRowsMasked matrix").cols(), "topKRowsMasked mask");
        topK(m, mask.f, k, values, indices, "topKRowsMasked");
    }

    private void topK(Tensor m, float[] mask, int k, Tensor values, Tensor indices, String op) {
        JavaTensor jm = f32(m, op + " matrix");
        JavaTensor jv = f32(values, op + " values");
        JavaTensor ji = i32(indices, op + " indices");
        int rows = jm.rows();
        int cols = jm.cols();
        if (k < 1 || k > cols) {
            throw new IllegalArgumentException(op + ": k must be in [1, " + cols + "], got " + k);
        }
        shape(jv, rows, k, op + " values");
        shape(ji, rows, k, op + " indices");
        float[] ms = jm.f;
        float[] vs = jv.f;
        int[] is = ji.i;
        // With a mask, each row is first gathered down to the allowed columns (AuxK: the dead latents, usually few).
        int[] allowed = null;
        if (mask != null) {
            int count = 0;
            for (float v : mask) {
                count += v != 0f ? 1 : 0;
            }
            allowed = new int[count];
            count = 0;
            for (int c = 0; c < cols; c++) {
                if (mask[c] != 0f) {
                    allowed[count++] = c;
                }
            }
        }
        int[] columns = allowed;
        overRows(rows, cols, (r0, r1) -> {
            RowTopK selector = new RowTopK(k);
            float[] compact = columns == null ? null : new float[columns.length];
            for (int r = r0; r < r1; r++) {
                if (columns == null) {
                    selector.select(ms, r * cols, cols, null, vs, is, r * k);
                } else {
                    int base = r * cols;
                    for (int p = 0; p < columns.length; p++) {
                        compact[p] = ms[base + columns[p]];
                    }
                    selector.select(compact, 0, columns.length, columns, vs, is, r * k);
                }
            }
        });
    }

    // ------------------------------------------------------------------ sparse products

    private record Sparse(float[] values, int[] indices, int rows, int k) {
    }

    private Sparse sparse(Tensor values, Tensor indices, String op) {
        JavaTensor jv = f32(values, op + " values");
        JavaTensor ji = i32(indices, op + " indices");
        shape(ji, jv.rows(), jv.cols(), op + " indices");
        return new Sparse(jv.f, ji.i, jv.rows(), jv.cols());
    }

    private static int checkIndex(int index, int n, String op) {
        if (index >= n || index < -1) {
            throw new IndexOutOfBoundsException(op + ": latent index " + index + " outside [0, " + n + ")");
        }
        return index;
    }

    @Override
    public void sparseDecode(Tensor values, Tensor indices, Tensor weights, Tensor bias, Tensor out) {
        Sparse sp = sparse(values, indices, "sparseDecode");
        JavaTensor jw = f32(weights, "sparseDecode weights");
        JavaTensor jo = f32(out, "sparseDecode output");
        int n = jw.rows();
        int d = jw.cols();
        shape(jo, sp.rows, d, "sparseDecode output");
        float[] bs = null;
        if (bias != null) {
            JavaTensor jb = f32(bias, "sparseDecode bias");
            length(jb, d, "sparseDecode bias");
            bs = jb.f;
        }
        float[] biasArray = bs;
        float[] ws = jw.f;
        float[] os = jo.f;
        int k = sp.k;
        overRows(sp.rows, k * d, (r0, r1) -> {
            int[] live = new int[k];
            for (int r = r0; r < r1; r++) {
                int o = r * d;
                if (biasArray != null) {
                    System.arraycopy(biasArray, 0, os, o, d);
                } else {
                    Arrays.fill(os, o, o + d, 0f);
                }
                int count = 0;
                for (int j = 0; j < k; j++) {
                    int idx = checkIndex(sp.indices[r * k + j], n, "sparseDecode");
                    if (idx >= 0 && sp.values[r * k + j] != 0f) {
                        live[count++] = j;
                    }
                }
                // Four source rows at a time: the output row is loaded once per four and the gathers overlap.
                int q = 0;
                for (; q + 4 <= count; q += 4) {
                    int e0 = r * k + live[q];
                    int e1 = r * k + live[q + 1];
                    int e2 = r * k + live[q + 2];
                    int e3 = r * k + live[q + 3];
                    Kernels.axpy4(sp.values[e0], ws, sp.indices[e0] * d, sp.values[e1], ws, sp.indices[e1] * d,
                            sp.values[e2], ws, sp.indices[e2] * d, sp.values[e3], ws, sp.indices[e3] * d, os, o, d);
                }
                for (; q < count; q++) {
                    int e = r * k + live[q];
                    Kernels.axpy(sp.values[e], ws, sp.indices[e] * d, os, o, d);
                }
            }
        });
    }

    @Override
    public void sparseRowDots(Tensor indices, Tensor dense, Tensor weights, Tensor out) {
        JavaTensor ji = i32(indices, "sparseRowDots indices");
        JavaTensor jd = f32(dense, "sparseRowDots dense");
        JavaTensor jw = f32(weights, "sparseRowDots weights");
        JavaTensor jo = f32(out, "sparseRowDots output");
        int rows = ji.rows();
        int k = ji.cols();
        int n = jw.rows();
        int d = jw.cols();
        shape(jd, rows, d, "sparseRowDots dense");
        shape(jo, rows, k, "sparseRowDots output");
        int[] is = ji.i;
        float[] ds = jd.f;
        float[] ws = jw.f;
        float[] os = jo.f;
        overRows(rows, k * d, (r0, r1) -> {
            int[] live = new int[k];
            float[] four = new float[4];
            for (int r = r0; r < r1; r++) {
                int count = 0;
                for (int j = 0; j < k; j++) {
                    int idx = checkIndex(is[r * k + j], n, "sparseRowDots");
                    if (idx < 0) {
                        os[r * k + j] = 0f;
                    } else {
                        live[count++] = j;
                    }
                }
                int q = 0;
                for (; q + 4 <= count; q += 4) {
                    Kernels.dots4(ds, r * d, ws, is[r * k + live[q]] * d, is[r * k + live[q + 1]] * d,
                            is[r * k + live[q + 2]] * d, is[r * k + live[q + 3]] * d, d, four, 0);
                    for (int t = 0; t < 4; t++) {
                        os[r * k + live[q + t]] = four[t];
                    }
                }
                for (; q < count; q++) {
                    int j = live[q];
                    os[r * k + j] = Kernels.dot2(ds, r * d, ws, is[r * k + j] * d, d);
                }
            }
        });
    }

    @Override
    public void sparseAccumulateRows(Tensor values, Tensor indices, Tensor dense, float alpha, Tensor grad) {
        Sparse sp = sparse(values, indices, "sparseAccumulateRows");
        JavaTensor jd = f32(dense, "sparseAccumulateRows dense");
        JavaTensor jg = f32(grad, "sparseAccumulateRows grad");
        int n = jg.rows();
        int d = jg.cols();
        shape(jd, sp.rows, d, "sparseAccumulateRows dense");
        int k = sp.k;
        int rows = sp.rows;
        int[] perLatent = new int[n];
        int total = 0;
        for (int e = 0; e < rows * k; e++) {
            int idx = checkIndex(sp.indices[e], n, "sparseAccumulateRows");
            if (idx >= 0 && sp.values[e] != 0f) {
                perLatent[idx]++;
                total++;
            }
        }
        if (total == 0) {
            return;
        }
        int touched = 0;
        for (int c : perLatent) {
            touched += c > 0 ? 1 : 0;
        }
        // Rows are taken in blocks small enough to stay in cache while every latent with entries in the block adds
        // them to its gradient row (which stays in L1): enough entries per (block, latent) to reuse both. Within a
        // block, entries are counting-sorted by latent. Each latent still sees its entries in (row, slot) order, so
        // the result does not depend on the block size or on how latents are split over threads.
        int entriesPerRow = Math.max(1, total / rows);
        int blockRows = Integer.highestOneBit(Math.max(1, 16 * touched / entriesPerRow));
        blockRows = Math.max(blockRows, Math.max(16, (rows + 63) / 64));
        blockRows = Math.min(blockRows, rows);
        int blocks = (rows + blockRows - 1) / blockRows;
        int[] entryLatent = new int[total];
        int[] entryRow = new int[total];
        float[] entryCoef = new float[total];
        int[] blockStart = new int[blocks + 1];
        int[] slot = new int[n + 1];
        int filled = 0;
        for (int b = 0; b < blocks; b++) {
            int e0 = b * blockRows * k;
            int e1 = Math.min(rows, (b + 1) * blockRows) * k;
            Arrays.fill(slot, 0);
            int inBlock = 0;
            for (int e = e0; e < e1; e++) {
                int idx = sp.indices[e];
                if (idx >= 0 && sp.values[e] != 0f) {
                    slot[idx + 1]++;
                    inBlock++;
                }
            }
            slot[0] = filled;
            for (int i = 0; i < n; i++) {
                slot[i + 1] += slot[i];
            }
            for (int e = e0; e < e1; e++) {
                int idx = sp.indices[e];
                float v = sp.values[e];
                if (idx >= 0 && v != 0f) {
                    int p = slot[idx]++;
                    entryLatent[p] = idx;
                    entryRow[p] = e / k;
                    entryCoef[p] = alpha * v;
                }
            }
            filled += inBlock;
            blockStart[b + 1] = filled;
        }
        float[] ds = jd.f;
        float[] gs = jg.f;
        // Split latents so that each task gets about the same number of entries.
        int tasks = (long) total * d < PARALLEL_MIN ? 1 : Math.min(n, pool.threads() * 4);
        int[] bounds = new int[tasks + 1];
        long running = 0;
        int t = 1;
        for (int i = 0; i < n && t < tasks; i++) {
            running += perLatent[i];
            while (t < tasks && running >= (long) total * t / tasks) {
                bounds[t++] = i + 1;
            }
        }
        while (t < tasks) {
            bounds[t++] = n;
        }
        bounds[tasks] = n;
        pool.run(tasks, task -> {
            int lo = bounds[task];
            int hi = bounds[task + 1];
            if (lo >= hi) {
                return;
            }
            for (int b = 0; b < blocks; b++) {
                int p = lowerBound(entryLatent, blockStart[b], blockStart[b + 1], lo);
                int end = lowerBound(entryLatent, p, blockStart[b + 1], hi);
                while (p < end) {
                    int latent = entryLatent[p];
                    int g = latent * d;
                    int runEnd = p + 1;
                    while (runEnd < end && entryLatent[runEnd] == latent) {
                        runEnd++;
                    }
                    for (; p + 4 <= runEnd; p += 4) {
                        Kernels.axpy4(entryCoef[p], ds, entryRow[p] * d, entryCoef[p + 1], ds, entryRow[p + 1] * d,
                                entryCoef[p + 2], ds, entryRow[p + 2] * d, entryCoef[p + 3], ds, entryRow[p + 3] * d,
                                gs, g, d);
                    }
                    for (; p < runEnd; p++) {
                        Kernels.axpy(entryCoef[p], ds, entryRow[p] * d, gs, g, d);
                    }
                }
            }
        });
    }

    /** The first position in {@code a[from, to)} (sorted ascending) whose value is at least {@code key}. */
    private static int lowerBound(int[] a, int from, int to, int key) {
        int lo = from;
        int hi = to;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (a[mid] < key) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    @Override
    public void sparseColumnSums(Tensor values, Tensor indices, float alpha, Tensor out) {
        Sparse sp = sparse(values, indices, "sparseColumnSums");
        JavaTensor jo = f32(out, "sparseColumnSums output");
        int n = jo.length();
        float[] os = jo.f;
        int entries = sp.rows * sp.k;
        for (int e = 0; e < entries; e++) {
            int idx = checkIndex(sp.indices[e], n, "sparseColumnSums");
            if (idx >= 0) {
                os[idx] += alpha * sp.values[e];
            }
        }
    }

    @Override
    public void sparseColumnCountPositive(Tensor values, Tensor indices, Tensor out) {
        Sparse sp = sparse(values, indices, "sparseColumnCountPositive");
        JavaTensor jo = f32(out, "sparseColumnCountPositive output");
        int n = jo.length();
        float[] os = jo.f;
        int entries = sp.rows * sp.k;
        for (int e = 0; e < entries; e++) {
            int idx = checkIndex(sp.indices[e], n, "sparseColumnCountPositive");
            if (idx >= 0 && sp.values[e] > 0f) {
                os[idx] += 1f;
            }
        }
    }

    // ------------------------------------------------------------------ optimizer and constraints

    @Override
    public void adamW(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep step) {
        JavaTensor jp = f32(param, "adamW param");
        JavaTensor jg = f32(grad, "adamW grad");
        JavaTensor jm = f32(m, "adamW m");
        JavaTensor jv = f32(v, "adamW v");
        sameSize(jp, jg, "adamW grad");
        sameSize(jp, jm, "adamW m");
        sameSize(jp, jv, "adamW v");
        float[] ps = jp.f;
        float[] gs = jg.f;
        float[] ms = jm.f;
        float[] vs = jv.f;
        // PyTorch's AdamW, operation for operation: decay, lerp the first moment, update the second, then
        // p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps).
        float decay = 1f - step.learningRate() * step.weightDecay();
        float oneMinusB1 = 1f - step.beta1();
        float b2 = step.beta2();
        float oneMinusB2 = 1f - b2;
        float stepSize = (float) (step.learningRate() / step.biasCorrection1());
        float bc2Sqrt = (float) Math.sqrt(step.biasCorrection2());
        float eps = step.eps();
        elementwise(jp.length(), (s, e) -> {
            int i = s;
            int upper = s + S.loopBound(e - s);
            for (; i < upper; i += L) {
                FloatVector g = FloatVector.fromArray(S, gs, i);
                FloatVector mm = FloatVector.fromArray(S, ms, i);
                FloatVector vv = FloatVector.fromArray(S, vs, i);
                FloatVector p = FloatVector.fromArray(S, ps, i);
                mm = mm.add(g.sub(mm).mul(oneMinusB1));
                vv = vv.mul(b2).add(g.mul(g).mul(oneMinusB2));
                FloatVector denom = vv.sqrt().div(bc2Sqrt).add(eps);
                p = p.mul(decay).sub(mm.div(denom).mul(stepSize));
                mm.intoArray(ms, i);
                vv.intoArray(vs, i);
                p.intoArray(ps, i);
            }
            for (; i < e; i++) {
                float g = gs[i];
                float mm = ms[i] + (g - ms[i]) * oneMinusB1;
                float vv = vs[i] * b2 + g * g * oneMinusB2;
                float denom = (float) Math.sqrt(vv) / bc2Sqrt + eps;
                ms[i] = mm;
                vs[i] = vv;
                ps[i] = ps[i] * decay - (mm / denom) * stepSize;
            }
        });
    }

    @Override
    public void projectOutRowComponents(Tensor weights, Tensor grad) {
        JavaTensor jw = f32(weights, "projectOutRowComponents weights");
        JavaTensor jg = f32(grad, "projectOutRowComponents grad");
        int rows = jw.rows();
        int cols = jw.cols();
        shape(jg, rows, cols, "projectOutRowComponents grad");
        float[] ws = jw.f;
        float[] gs = jg.f;
        overRows(rows, 3 * cols, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int base = r * cols;
                double ww = Kernels.dot(ws, base, ws, base, cols);
                if (ww > 0) {
                    double gw = Kernels.dot(gs, base, ws, base, cols);
                    Kernels.axpy((float) (-gw / ww), ws, base, gs, base, cols);
                }
            }
        });
    }

    @Override
    public void normalizeRows(Tensor weights) {
        JavaTensor jw = f32(weights, "normalizeRows weights");
        int rows = jw.rows();
        int cols = jw.cols();
        float[] ws = jw.f;
        overRows(rows, 2 * cols, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int base = r * cols;
                double norm = Math.sqrt(Kernels.dot(ws, base, ws, base, cols));
                if (norm > 0) {
                    Kernels.scale((float) (1.0 / norm), ws, base, cols);
                }
            }
        });
    }

    @Override
    public void addScaledRows(Tensor src, Tensor scales, float alpha, Tensor dst) {
        JavaTensor js = f32(src, "addScaledRows source");
        JavaTensor jc = f32(scales, "addScaledRows scales");
        JavaTensor jd = f32(dst, "addScaledRows destination");
        int rows = js.rows();
        int cols = js.cols();
        length(jc, rows, "addScaledRows scales");
        shape(jd, rows, cols, "addScaledRows destination");
        float[] ss = js.f;
        float[] cs = jc.f;
        float[] ds = jd.f;
        overRows(rows, cols, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                float s = alpha * cs[r];
                if (s != 0f) {
                    Kernels.axpy(s, ss, r * cols, ds, r * cols, cols);
                }
            }
        });
    }

    // ------------------------------------------------------------------ transformer ops

    @Override
    public void linear(Tensor x, WeightMatrix w, Tensor out) {
        JavaTensor jx = f32(x, "linear x");
        JavaTensor jo = f32(out, "linear out");
        if (jx.cols() != w.cols()) {
            throw new IllegalArgumentException("linear: x is " + Arrays.toString(jx.shape()) + " but " + w.name()
                    + " has " + w.cols() + " columns");
        }
        shape(jo, jx.rows(), w.rows(), "linear out");
        WeightKernels.linear(pool, jx.f, jx.rows(), w, jo.f);
    }

    @Override
    public void embedding(WeightMatrix table, int[] tokens, Tensor out) {
        JavaTensor jo = f32(out, "embedding out");
        int d = table.cols();
        shape(jo, tokens.length, d, "embedding out");
        for (int r = 0; r < tokens.length; r++) {
            if (tokens[r] < 0 || tokens[r] >= table.rows()) {
                throw new IllegalArgumentException("embedding: token " + tokens[r] + " at row " + r + " is outside "
                        + table.name() + "'s " + table.rows() + " rows");
            }
        }
        overRows(tokens.length, d, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                WeightKernels.dequantize(table, tokens[r], 0, d, jo.f, r * d);
            }
        });
    }

    /** The same arithmetic as the reference: the mean square summed in double, in order. */
    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out) {
        JavaTensor jx = f32(x, "rmsNorm x");
        JavaTensor jw = f32(weight, "rmsNorm weight");
        JavaTensor jo = f32(out, "rmsNorm out");
        int d = jx.cols();
        length(jw, d, "rmsNorm weight");
        sameSize(jx, jo, "rmsNorm");
        float[] xs = jx.f;
        float[] ws = jw.f;
        float[] os = jo.f;
        overRows(jx.rows(), d, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int base = r * d;
                double ss = 0;
                for (int i = 0; i < d; i++) {
                    ss += (double) xs[base + i] * xs[base + i];
                }
                float inv = (float) (1.0 / Math.sqrt((float) (ss / d) + eps));
                for (int i = 0; i < d; i++) {
                    os[base + i] = ws[i] * (xs[base + i] * inv);
                }
            }
        });
    }

    @Override
    public void rotaryEmbedding(Tensor x, int headDim, int[] positions, Tensor cos, Tensor sin, boolean interleaved) {
        JavaTensor jx = f32(x, "rotaryEmbedding x");
        JavaTensor jc = f32(cos, "rotaryEmbedding cos");
        JavaTensor js = f32(sin, "rotaryEmbedding sin");
        int width = jx.cols();
        int half = headDim / 2;
        if (headDim <= 0 || headDim % 2 != 0 || width % headDim != 0) {
            throw new IllegalArgumentException("rotaryEmbedding: row width " + width
                    + " is not a whole number of heads of even size " + headDim);
        }
        if (positions.length != jx.rows()) {
            throw new IllegalArgumentException("rotaryEmbedding: " + positions.length + " positions for " + jx.rows()
                    + " rows");
        }
        if (jc.cols() != half || js.cols() != half || jc.rows() != js.rows()) {
            throw new IllegalArgumentException("rotaryEmbedding: cos/sin tables must both be [positions, " + half
                    + "], got " + Arrays.toString(jc.shape()) + " and " + Arrays.toString(js.shape()));
        }
        for (int p : positions) {
            if (p < 0 || p >= jc.rows()) {
                throw new IllegalArgumentException("rotaryEmbedding: position " + p + " is outside the " + jc.rows()
                        + "-row table");
            }
        }
        float[] xs = jx.f;
        float[] cs = jc.f;
        float[] ss = js.f;
        int pairStride = interleaved ? 2 : 1;
        int partner = interleaved ? 1 : half;
        overRows(positions.length, width, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int t = positions[r] * half;
                for (int base = r * width; base < (r + 1) * width; base += headDim) {
                    for (int j = 0; j < half; j++) {
                        int a = base + j * pairStride;
                        int b = a + partner;
                        float c = cs[t + j];
                        float sn = ss[t + j];
                        float x0 = xs[a];
                        float x1 = xs[b];
                        xs[a] = x0 * c - x1 * sn;
                        xs[b] = x1 * c + x0 * sn;
                    }
                }
            }
        });
    }

    @Override
    public void siluMul(Tensor gate, Tensor up, Tensor out) {
        JavaTensor jg = f32(gate, "siluMul gate");
        JavaTensor ju = f32(up, "siluMul up");
        JavaTensor jo = f32(out, "siluMul out");
        sameSize(jg, ju, "siluMul");
        sameSize(jg, jo, "siluMul");
        float[] g = jg.f;
        float[] u = ju.f;
        float[] o = jo.f;
        elementwise(jg.length(), (s, e) -> {
            for (int i = s; i < e; i++) {
                o[i] = g[i] / (1f + (float) Math.exp(-g[i])) * u[i];
            }
        });
    }

    @Override
    public void copyRows(Tensor src, int srcRow, Tensor dst, int dstRow, int rows) {
        JavaTensor js = f32(src, "copyRows source");
        JavaTensor jd = f32(dst, "copyRows destination");
        int c = js.cols();
        if (jd.cols() != c) {
            throw new IllegalArgumentException("copyRows: column counts differ: " + Arrays.toString(js.shape())
                    + " vs " + Arrays.toString(jd.shape()));
        }
        if (srcRow < 0 || dstRow < 0 || rows < 0 || srcRow + rows > js.rows() || dstRow + rows > jd.rows()) {
            throw new IllegalArgumentException("copyRows: rows " + srcRow + ".." + (srcRow + rows) + " of "
                    + Arrays.toString(js.shape()) + " to " + dstRow + ".." + (dstRow + rows) + " of "
                    + Arrays.toString(jd.shape()));
        }
        System.arraycopy(js.f, srcRow * c, jd.f, dstRow * c, rows * c);
    }

    @Override
    public void causalAttention(Tensor q, Tensor keys, Tensor values, AttentionLayout layout, Tensor out) {
        JavaTensor jq = f32(q, "causalAttention q");
        JavaTensor jk = f32(keys, "causalAttention keys");
        JavaTensor jv = f32(values, "causalAttention values");
        JavaTensor jo = f32(out, "causalAttention out");
        AttentionKernel.run(pool, jq.f, jq.rows(), jq.cols(), jk.f, jv.f, jk.rows(), jk.cols(), jv.rows(),
                jv.cols(), layout, jo.f, jo.rows(), jo.cols());
    }
}
