package io.github.sae4j.core.backend;

import io.github.sae4j.api.backend.AdamWStep;
import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.backend.DType;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.backend.TensorOps;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The slow, obvious twin of every op: plain loops, sums in double, no threads, no vectors, no tricks. The pure-Java
 * backend is checked against it; other backends are checked against the pure-Java backend.
 */
public final class ReferenceBackend implements Backend {

    private final RefDevice device = new RefDevice();

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public List<Device> devices() {
        return List.of(device);
    }

    @Override
    public void close() {
    }

    private final class RefDevice implements Device {
        private final RefOps ops = new RefOps();

        @Override
        public Backend backend() {
            return ReferenceBackend.this;
        }

        @Override
        public int index() {
            return 0;
        }

        @Override
        public String description() {
            return "scalar reference";
        }

        @Override
        public long memoryBytes() {
            return Runtime.getRuntime().maxMemory();
        }

        @Override
        public Tensor allocate(DType dtype, int... shape) {
            return new RefTensor(this, dtype, Tensor.checkShape(shape), null);
        }

        @Override
        public TensorOps ops() {
            return ops;
        }
    }

    private static final class RefTensor implements Tensor {
        final Device device;
        final DType dtype;
        final int[] shape;
        final float[] f;
        final int[] i;

        RefTensor(Device device, DType dtype, int[] shape, RefTensor share) {
            this.device = device;
            this.dtype = dtype;
            this.shape = shape;
            int n = 1;
            for (int d : shape) {
                n *= d;
            }
            if (share != null) {
                f = share.f;
                i = share.i;
            } else {
                // BF16 tensors hold floats rounded to bf16: the reference needs no packed storage.
                f = dtype == DType.I32 ? null : new float[n];
                i = dtype == DType.I32 ? new int[n] : null;
            }
        }

        int n() {
            return (int) size();
        }

        @Override
        public Device device() {
            return device;
        }

        @Override
        public DType dtype() {
            return dtype;
        }

        @Override
        public int[] shape() {
            return shape.clone();
        }

        @Override
        public Tensor view(int... s) {
            RefTensor v = new RefTensor(device, dtype, Tensor.checkShape(s), this);
            if (v.size() != size()) {
                throw new IllegalArgumentException("view size differs");
            }
            return v;
        }

        @Override
        public void copyFrom(float[] src, int offset) {
            for (int k = 0; k < n(); k++) {
                f[k] = dtype == DType.BF16 ? roundBf16(src[offset + k]) : src[offset + k];
            }
        }

        @Override
        public void copyTo(float[] dst, int offset) {
            System.arraycopy(f, 0, dst, offset, n());
        }

        @Override
        public void copyFrom(int[] src, int offset) {
            System.arraycopy(src, offset, i, 0, n());
        }

        @Override
        public void copyTo(int[] dst, int offset) {
            System.arraycopy(i, 0, dst, offset, n());
        }

        @Override
        public void copyFromBf16(short[] src, int offset) {
            for (int k = 0; k < n(); k++) {
                f[k] = Float.intBitsToFloat((src[offset + k] & 0xffff) << 16);
            }
        }

        @Override
        public void close() {
        }
    }

    static float roundBf16(float v) {
        if (Float.isNaN(v)) {
            return v;
        }
        int bits = Float.floatToRawIntBits(v);
        bits = (bits + 0x7fff + ((bits >>> 16) & 1)) & 0xffff0000;
        return Float.intBitsToFloat(bits);
    }

    private static RefTensor r(Tensor t) {
        return (RefTensor) t;
    }

    private static final class RefOps implements TensorOps {

        @Override
        public void fill(Tensor t, float value) {
            RefTensor x = r(t);
            if (x.i != null) {
                Arrays.fill(x.i, (int) value);
            } else {
                Arrays.fill(x.f, x.dtype == DType.BF16 ? roundBf16(value) : value);
            }
        }

        @Override
        public void copy(Tensor src, Tensor dst) {
            RefTensor s = r(src);
            RefTensor d = r(dst);
            if (s.i != null) {
                System.arraycopy(s.i, 0, d.i, 0, s.n());
            } else {
                for (int k = 0; k < s.n(); k++) {
                    d.f[k] = d.dtype == DType.BF16 ? roundBf16(s.f[k]) : s.f[k];
                }
            }
        }

        @Override
        public void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
            RefTensor A = r(a);
            RefTensor B = r(b);
            RefTensor C = r(c);
            int m = transA ? A.cols() : A.rows();
            int k = transA ? A.rows() : A.cols();
            int n = transB ? B.rows() : B.cols();
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        double av = transA ? A.f[p * A.cols() + i] : A.f[i * A.cols() + p];
                        double bv = transB ? B.f[j * B.cols() + p] : B.f[p * B.cols() + j];
                        s += av * bv;
                    }
                    int ci = i * n + j;
                    C.f[ci] = (float) (beta == 0 ? alpha * s : alpha * s + (double) beta * C.f[ci]);
                }
            }
        }

        @Override
        public void axpby(float alpha, Tensor x, float beta, Tensor y) {
            RefTensor X = r(x);
            RefTensor Y = r(y);
            for (int k = 0; k < X.n(); k++) {
                Y.f[k] = (float) (beta == 0 ? (double) alpha * X.f[k] : (double) alpha * X.f[k] + (double) beta * Y.f[k]);
            }
        }

        @Override
        public void addRowVector(Tensor m, float alpha, Tensor v) {
            RefTensor M = r(m);
            RefTensor V = r(v);
            for (int row = 0; row < M.rows(); row++) {
                for (int c = 0; c < M.cols(); c++) {
                    M.f[row * M.cols() + c] += alpha * V.f[c];
                }
            }
        }

        @Override
        public void relu(Tensor in, float threshold, Tensor out) {
            RefTensor I = r(in);
            RefTensor O = r(out);
            for (int k = 0; k < I.n(); k++) {
                O.f[k] = I.f[k] > threshold ? I.f[k] : 0f;
            }
        }

        @Override
        public void reluBackward(Tensor activation, Tensor grad, Tensor out) {
            RefTensor A = r(activation);
            RefTensor G = r(grad);
            RefTensor O = r(out);
            for (int k = 0; k < A.n(); k++) {
                O.f[k] = A.f[k] > 0 ? G.f[k] : 0f;
            }
        }

        @Override
        public void columnSums(Tensor m, float alpha, float beta, Tensor out) {
            RefTensor M = r(m);
            RefTensor O = r(out);
            for (int c = 0; c < M.cols(); c++) {
                double s = 0;
                for (int row = 0; row < M.rows(); row++) {
                    s += M.f[row * M.cols() + c];
                }
                O.f[c] = (float) (beta == 0 ? alpha * s : alpha * s + (double) beta * O.f[c]);
            }
        }

        @Override
        public void columnCountAbove(Tensor m, float threshold, Tensor out) {
            RefTensor M = r(m);
            RefTensor O = r(out);
            for (int row = 0; row < M.rows(); row++) {
                for (int c = 0; c < M.cols(); c++) {
                    if (M.f[row * M.cols() + c] > threshold) {
                        O.f[c] += 1;
                    }
                }
            }
        }

        @Override
        public void rowNorms(Tensor m, Tensor out) {
            RefTensor M = r(m);
            for (int row = 0; row < M.rows(); row++) {
                double s = 0;
                for (int c = 0; c < M.cols(); c++) {
                    double v = M.f[row * M.cols() + c];
                    s += v * v;
                }
                r(out).f[row] = (float) Math.sqrt(s);
            }
        }

        @Override
        public double sumSquares(Tensor x) {
            double s = 0;
            for (float v : r(x).f) {
                s += (double) v * v;
            }
            return s;
        }

        @Override
        public double sumSquaredDifference(Tensor a, Tensor b) {
            double s = 0;
            for (int k = 0; k < r(a).n(); k++) {
                double d = (double) r(a).f[k] - r(b).f[k];
                s += d * d;
            }
            return s;
        }

        @Override
        public double dot(Tensor a, Tensor b) {
            double s = 0;
            for (int k = 0; k < r(a).n(); k++) {
                s += (double) r(a).f[k] * r(b).f[k];
            }
            return s;
        }

        @Override
        public long countAbove(Tensor x, float threshold) {
            long n = 0;
            for (float v : r(x).f) {
                if (v > threshold) {
                    n++;
                }
            }
            return n;
        }

        @Override
        public void rowNormsAndDots(Tensor x, Tensor xHat, Tensor out) {
            RefTensor X = r(x);
            RefTensor H = r(xHat);
            int d = X.cols();
            for (int row = 0; row < X.rows(); row++) {
                double xx = 0;
                double hh = 0;
                double xh = 0;
                for (int c = 0; c < d; c++) {
                    double a = X.f[row * d + c];
                    double b = H.f[row * d + c];
                    xx += a * a;
                    hh += b * b;
                    xh += a * b;
                }
                r(out).f[3 * row] = (float) xx;
                r(out).f[3 * row + 1] = (float) hh;
                r(out).f[3 * row + 2] = (float) xh;
            }
        }

        @Override
        public void topKRows(Tensor m, int k, Tensor values, Tensor indices) {
            topK(r(m), null, k, r(values), r(indices));
        }

        @Override
        public void topKRowsMasked(Tensor m, Tensor columnMask, int k, Tensor values, Tensor indices) {
            topK(r(m), r(columnMask).f, k, r(values), r(indices));
        }

        /** Sort every allowed column of the row by (value desc, column asc) and keep the first k. */
        private static void topK(RefTensor m, float[] mask, int k, RefTensor values, RefTensor indices) {
            int n = m.cols();
            for (int row = 0; row < m.rows(); row++) {
                List<Integer> cols = new ArrayList<>();
                for (int c = 0; c < n; c++) {
                    float v = m.f[row * n + c];
                    if (!Float.isNaN(v) && (mask == null || mask[c] != 0)) {
                        cols.add(c);
                    }
                }
                final int base = row * n;
                cols.sort((a, b) -> {
                    int byValue = Float.compare(m.f[base + b], m.f[base + a]);
                    return byValue != 0 ? byValue : Integer.compare(a, b);
                });
                for (int j = 0; j < k; j++) {
                    if (j < cols.size()) {
                        values.f[row * k + j] = m.f[base + cols.get(j)];
                        indices.i[row * k + j] = cols.get(j);
                    } else {
                        values.f[row * k + j] = 0f;
                        indices.i[row * k + j] = -1;
                    }
                }
            }
        }

        @Override
        public void sparseDecode(Tensor values, Tensor indices, Tensor weights, Tensor bias, Tensor out) {
            RefTensor V = r(values);
            RefTensor I = r(indices);
            RefTensor W = r(weights);
            RefTensor O = r(out);
            int k = V.cols();
            int d = W.cols();
            for (int row = 0; row < V.rows(); row++) {
                for (int c = 0; c < d; c++) {
                    double s = bias == null ? 0 : r(bias).f[c];
                    for (int j = 0; j < k; j++) {
                        int idx = I.i[row * k + j];
                        if (idx >= 0) {
                            s += (double) V.f[row * k + j] * W.f[idx * d + c];
                        }
                    }
                    O.f[row * d + c] = (float) s;
                }
            }
        }

        @Override
        public void sparseRowDots(Tensor indices, Tensor dense, Tensor weights, Tensor out) {
            RefTensor I = r(indices);
            RefTensor D = r(dense);
            RefTensor W = r(weights);
            int k = I.cols();
            int d = W.cols();
            for (int row = 0; row < I.rows(); row++) {
                for (int j = 0; j < k; j++) {
                    int idx = I.i[row * k + j];
                    double s = 0;
                    if (idx >= 0) {
                        for (int c = 0; c < d; c++) {
                            s += (double) D.f[row * d + c] * W.f[idx * d + c];
                        }
                    }
                    r(out).f[row * k + j] = (float) s;
                }
            }
        }

        @Override
        public void sparseAccumulateRows(Tensor values, Tensor indices, Tensor dense, float alpha, Tensor grad) {
            RefTensor V = r(values);
            RefTensor I = r(indices);
            RefTensor D = r(dense);
            RefTensor G = r(grad);
            int k = V.cols();
            int d = G.cols();
            double[] acc = new double[G.n()];
            boolean[] touched = new boolean[G.rows()];
            for (int row = 0; row < V.rows(); row++) {
                for (int j = 0; j < k; j++) {
                    int idx = I.i[row * k + j];
                    if (idx >= 0) {
                        touched[idx] = true;
                        for (int c = 0; c < d; c++) {
                            acc[idx * d + c] += (double) alpha * V.f[row * k + j] * D.f[row * d + c];
                        }
                    }
                }
            }
            for (int i = 0; i < G.rows(); i++) {
                if (touched[i]) {
                    for (int c = 0; c < d; c++) {
                        G.f[i * d + c] = (float) (G.f[i * d + c] + acc[i * d + c]);
                    }
                }
            }
        }

        @Override
        public void sparseColumnSums(Tensor values, Tensor indices, float alpha, Tensor out) {
            RefTensor V = r(values);
            RefTensor I = r(indices);
            double[] acc = new double[r(out).n()];
            for (int e = 0; e < V.n(); e++) {
                if (I.i[e] >= 0) {
                    acc[I.i[e]] += (double) alpha * V.f[e];
                }
            }
            for (int c = 0; c < acc.length; c++) {
                r(out).f[c] = (float) (r(out).f[c] + acc[c]);
            }
        }

        @Override
        public void sparseColumnCountPositive(Tensor values, Tensor indices, Tensor out) {
            RefTensor V = r(values);
            RefTensor I = r(indices);
            for (int e = 0; e < V.n(); e++) {
                if (I.i[e] >= 0 && V.f[e] > 0) {
                    r(out).f[I.i[e]] += 1;
                }
            }
        }

        @Override
        public void adamW(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep step) {
            RefTensor P = r(param);
            RefTensor G = r(grad);
            RefTensor M = r(m);
            RefTensor V = r(v);
            double bc1 = step.biasCorrection1();
            double bc2 = step.biasCorrection2();
            for (int k = 0; k < P.n(); k++) {
                double g = G.f[k];
                double mm = M.f[k] + (g - M.f[k]) * (1 - step.beta1());
                double vv = V.f[k] * (double) step.beta2() + (1 - step.beta2()) * g * g;
                double p = P.f[k] * (1 - (double) step.learningRate() * step.weightDecay());
                p -= step.learningRate() / bc1 * mm / (Math.sqrt(vv) / Math.sqrt(bc2) + step.eps());
                M.f[k] = (float) mm;
                V.f[k] = (float) vv;
                P.f[k] = (float) p;
            }
        }

        @Override
        public void projectOutRowComponents(Tensor weights, Tensor grad) {
            RefTensor W = r(weights);
            RefTensor G = r(grad);
            int d = W.cols();
            for (int row = 0; row < W.rows(); row++) {
                double ww = 0;
                double gw = 0;
                for (int c = 0; c < d; c++) {
                    ww += (double) W.f[row * d + c] * W.f[row * d + c];
                    gw += (double) G.f[row * d + c] * W.f[row * d + c];
                }
                if (ww > 0) {
                    for (int c = 0; c < d; c++) {
                        G.f[row * d + c] = (float) (G.f[row * d + c] - gw / ww * W.f[row * d + c]);
                    }
                }
            }
        }

        @Override
        public void normalizeRows(Tensor weights) {
            RefTensor W = r(weights);
            int d = W.cols();
            for (int row = 0; row < W.rows(); row++) {
                double ww = 0;
                for (int c = 0; c < d; c++) {
                    ww += (double) W.f[row * d + c] * W.f[row * d + c];
                }
                if (ww > 0) {
                    double norm = Math.sqrt(ww);
                    for (int c = 0; c < d; c++) {
                        W.f[row * d + c] = (float) (W.f[row * d + c] / norm);
                    }
                }
            }
        }

        @Override
        public void addScaledRows(Tensor src, Tensor scales, float alpha, Tensor dst) {
            RefTensor S = r(src);
            RefTensor D = r(dst);
            int d = S.cols();
            for (int row = 0; row < S.rows(); row++) {
                for (int c = 0; c < d; c++) {
                    D.f[row * d + c] = (float) (D.f[row * d + c]
                            + (double) alpha * r(scales).f[row] * S.f[row * d + c]);
                }
            }
        }

        @Override
        public long countNonFinite(Tensor x) {
            long n = 0;
            for (float v : r(x).f) {
                if (!Float.isFinite(v)) {
                    n++;
                }
            }
            return n;
        }
    }
}
