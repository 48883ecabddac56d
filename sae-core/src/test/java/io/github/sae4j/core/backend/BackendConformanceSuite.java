package io.github.sae4j.core.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.sae4j.api.backend.AdamWStep;
import io.github.sae4j.api.backend.AttentionLayout;
import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.backend.DType;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.backend.TensorOps;
import io.github.sae4j.api.backend.TransformerOps;
import io.github.sae4j.api.backend.WeightFormat;
import io.github.sae4j.api.backend.WeightMatrix;
import io.github.sae4j.api.sae.AuxKSettings;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeArchitecture;
import io.github.sae4j.api.sae.SaeParameter;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.api.sae.TrainingContext;
import io.github.sae4j.api.sae.TrainingStepResult;
import io.github.sae4j.core.backend.java.JavaBackend;
import io.github.sae4j.core.sae.ReluL1Architecture;
import io.github.sae4j.core.sae.TopKArchitecture;
import io.github.sae4j.core.train.AdamW;
import io.github.sae4j.core.train.UnitNormDecoderConstraint;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The conformance suite every backend runs: each op of {@link TensorOps}, and whole SAE training steps, against
 * an oracle backend (the pure-Java backend unless a subclass says otherwise). Shapes are odd on purpose (vector
 * tails) and large enough to take multi-threaded paths.
 *
 * <p>A backend module extends this class in its tests (sae-core's test-jar) and implements
 * {@link #backendUnderTest()}; a test that needs hardware that is absent should skip in {@code @BeforeAll} with an
 * assumption that states why.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class BackendConformanceSuite {

    /** Relative tolerance for elementwise results; sums add a term proportional to the summed magnitudes. */
    protected static final double RTOL = 2e-5;

    private Backend tested;
    private Backend oracleBackend;
    private Device dut;
    private Device ref;

    /** The backend under test (opened once per class, closed after). */
    protected abstract Backend backendUnderTest();

    /** The backend whose results are taken as correct: the pure-Java backend by default. */
    protected Backend oracle() {
        return new JavaBackend(1);
    }

    @BeforeAll
    void open() {
        tested = backendUnderTest();
        oracleBackend = oracle();
        dut = tested.devices().getFirst();
        ref = oracleBackend.devices().getFirst();
    }

    @AfterAll
    void close() {
        if (tested != null) {
            tested.close();
        }
        if (oracleBackend != null) {
            oracleBackend.close();
        }
    }

    // ------------------------------------------------------------------ helpers

    public static float[] random(long seed, int n, double scale) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * scale);
        }
        return a;
    }

    private Tensor on(Device device, float[] data, int... shape) {
        return device.upload(data, shape);
    }

    private Tensor ints(Device device, int[] data, int... shape) {
        Tensor t = device.allocate(DType.I32, shape);
        t.copyFrom(data);
        return t;
    }

    /** Asserts |a - e| <= rtol * (|e| + magnitude) elementwise, naming the first bad element. */
    protected static void assertClose(float[] actual, float[] expected, double magnitude, String what) {
        assertThat(actual).as(what + " length").hasSameSizeAs(expected);
        for (int i = 0; i < expected.length; i++) {
            double tol = RTOL * (Math.abs(expected[i]) + magnitude) + 1e-30;
            if (!(Math.abs(actual[i] - expected[i]) <= tol) && !(Float.isNaN(actual[i]) && Float.isNaN(expected[i]))) {
                throw new AssertionError(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i]
                        + " (tolerance " + tol + ")");
            }
        }
    }

    /** Bit-for-bit equality, naming the first differing element (AssertJ's containsExactly is quadratic on big arrays). */
    public static void assertIdentical(float[] actual, float[] expected, String what) {
        assertThat(actual.length).as(what + " length").isEqualTo(expected.length);
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(actual[i]) != Float.floatToRawIntBits(expected[i])) {
                throw new AssertionError(what + ": element " + i + " is " + actual[i] + ", expected exactly " + expected[i]);
            }
        }
    }

    private static void assertCloseScalar(double actual, double expected, double magnitude, String what) {
        double tol = RTOL * (Math.abs(expected) + magnitude);
        assertThat(Math.abs(actual - expected)).as(what + ": " + actual + " vs " + expected).isLessThanOrEqualTo(tol);
    }

    // ------------------------------------------------------------------ data movement and elementwise

    @Test
    void fillAndCopyRoundTripThroughBf16() {
        float[] data = random(1, 4099, 3);
        try (Tensor a = on(dut, data, 4099); Tensor h = dut.allocate(DType.BF16, 4099);
             Tensor back = dut.allocate(DType.F32, 4099);
             Tensor ra = on(ref, data, 4099); Tensor rh = ref.allocate(DType.BF16, 4099);
             Tensor rback = ref.allocate(DType.F32, 4099)) {
            dut.ops().copy(a, h);
            dut.ops().copy(h, back);
            ref.ops().copy(ra, rh);
            ref.ops().copy(rh, rback);
            assertIdentical(back.toFloatArray(), rback.toFloatArray(), "bf16 rounding (round to nearest even)");
            dut.ops().fill(a, 2.5f);
            assertThat(a.toFloatArray()).containsOnly(2.5f);
        }
    }

    @Test
    void viewsShareStorage() {
        try (Tensor a = dut.allocate(DType.F32, 6, 4)) {
            Tensor v = a.view(24);
            dut.ops().fill(v, 1f);
            assertThat(a.toFloatArray()).containsOnly(1f);
            assertThat(v.shape()).containsExactly(24);
            assertThatThrownBy(() -> a.view(5, 5)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void gemmAllTransposesMatchTheOracle() {
        int m = 67;
        int n = 131;
        int k = 259;
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                float[] a = random(2, m * k, 1);
                float[] b = random(3, k * n, 1);
                float[] c = random(4, m * n, 1);
                int[] aShape = ta ? new int[] {k, m} : new int[] {m, k};
                int[] bShape = tb ? new int[] {n, k} : new int[] {k, n};
                for (float beta : new float[] {0f, 0.5f}) {
                    float[] got = gemm(dut, ta, tb, 1.5f, a, aShape, b, bShape, beta, c, m, n);
                    float[] want = gemm(ref, ta, tb, 1.5f, a, aShape, b, bShape, beta, c, m, n);
                    assertClose(got, want, 1.5 * Math.sqrt(k) * 4, "gemm ta=" + ta + " tb=" + tb + " beta=" + beta);
                }
            }
        }
    }

    private float[] gemm(Device d, boolean ta, boolean tb, float alpha, float[] a, int[] aShape, float[] b, int[] bShape,
                         float beta, float[] c, int m, int n) {
        try (Tensor A = on(d, a, aShape); Tensor B = on(d, b, bShape); Tensor C = on(d, c, m, n)) {
            d.ops().gemm(ta, tb, alpha, A, B, beta, C);
            return C.toFloatArray();
        }
    }

    @Test
    void gemmWithBetaZeroIgnoresNanInC() {
        float[] nan = new float[9 * 11];
        java.util.Arrays.fill(nan, Float.NaN);
        float[] got = gemm(dut, false, false, 1f, random(5, 9 * 13, 1), new int[] {9, 13}, random(6, 13 * 11, 1),
                new int[] {13, 11}, 0f, nan, 9, 11);
        for (float v : got) {
            assertThat(v).isFinite();
        }
    }

    @Test
    void gemmRejectsMismatchedShapes() {
        try (Tensor a = dut.allocate(DType.F32, 3, 4); Tensor b = dut.allocate(DType.F32, 5, 6);
             Tensor c = dut.allocate(DType.F32, 3, 6)) {
            assertThatThrownBy(() -> dut.ops().gemm(false, false, 1f, a, b, 0f, c))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("inner dimensions");
        }
    }

    @Test
    void elementwiseOpsMatchTheOracle() {
        int rows = 41;
        int cols = 1031;
        float[] x = random(7, rows * cols, 1);
        float[] y = random(8, rows * cols, 1);
        float[] v = random(9, cols, 1);
        float[][] results = new float[2][];
        for (int which = 0; which < 2; which++) {
            Device d = which == 0 ? dut : ref;
            TensorOps ops = d.ops();
            try (Tensor X = on(d, x, rows, cols); Tensor Y = on(d, y, rows, cols); Tensor V = on(d, v, cols);
                 Tensor out = d.allocate(DType.F32, rows, cols)) {
                ops.axpby(0.75f, X, -1.25f, Y);
                ops.addRowVector(Y, 0.5f, V);
                ops.relu(Y, 0.1f, out);
                ops.reluBackward(out, X, X);
                ops.axpby(2f, X, 0f, Y);
                float[] a = Y.toFloatArray();
                float[] b = out.toFloatArray();
                float[] both = new float[a.length + b.length];
                System.arraycopy(a, 0, both, 0, a.length);
                System.arraycopy(b, 0, both, a.length, b.length);
                results[which] = both;
            }
        }
        assertClose(results[0], results[1], 1, "axpby/addRowVector/relu/reluBackward");
    }

    @Test
    void reductionsMatchTheOracle() {
        int rows = 97;
        int cols = 771;
        float[] x = random(10, rows * cols, 1);
        float[] y = random(11, rows * cols, 1);
        double[][] scalars = new double[2][];
        float[][] vectors = new float[2][];
        for (int which = 0; which < 2; which++) {
            Device d = which == 0 ? dut : ref;
            TensorOps ops = d.ops();
            try (Tensor X = on(d, x, rows, cols); Tensor Y = on(d, y, rows, cols);
                 Tensor colSums = on(d, random(12, cols, 1), cols); Tensor counts = on(d, new float[cols], cols);
                 Tensor norms = d.allocate(DType.F32, rows); Tensor stats = d.allocate(DType.F32, rows, 3)) {
                ops.columnSums(X, 0.5f, 2f, colSums);
                ops.columnCountAbove(X, 0.3f, counts);
                ops.columnCountAbove(Y, 0.3f, counts);
                ops.rowNorms(X, norms);
                ops.rowNormsAndDots(X, Y, stats);
                scalars[which] = new double[] {ops.sumSquares(X), ops.sumSquaredDifference(X, Y), ops.dot(X, Y),
                        ops.countAbove(X, 0.2f), ops.countNonFinite(X)};
                vectors[which] = concat(colSums.toFloatArray(), counts.toFloatArray(), norms.toFloatArray(),
                        stats.toFloatArray());
            }
        }
        double n = (double) rows * cols;
        assertCloseScalar(scalars[0][0], scalars[1][0], n * 1e-3, "sumSquares");
        assertCloseScalar(scalars[0][1], scalars[1][1], n * 1e-3, "sumSquaredDifference");
        assertCloseScalar(scalars[0][2], scalars[1][2], n * 1e-2, "dot");
        assertThat(scalars[0][3]).as("countAbove").isEqualTo(scalars[1][3]);
        assertThat(scalars[0][4]).as("countNonFinite").isZero();
        assertClose(vectors[0], vectors[1], Math.sqrt(rows) * 4, "columnSums/columnCountAbove/rowNorms/rowNormsAndDots");
    }

    private static float[] concat(float[]... parts) {
        int n = 0;
        for (float[] p : parts) {
            n += p.length;
        }
        float[] out = new float[n];
        int o = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }

    @Test
    void countNonFiniteFindsNanAndInfinities() {
        float[] x = random(13, 5000, 1);
        x[17] = Float.NaN;
        x[4000] = Float.POSITIVE_INFINITY;
        x[4999] = Float.NEGATIVE_INFINITY;
        try (Tensor X = on(dut, x, 5000)) {
            assertThat(dut.ops().countNonFinite(X)).isEqualTo(3);
        }
    }

    // ------------------------------------------------------------------ top-k

    @Test
    void topKMatchesTheOracleExactly() {
        // k = 37 is the TopK activation's range; 60 and 300 are AuxK's (implementations may switch algorithms).
        for (int k : new int[] {37, 60, 300}) {
            topKMatchesTheOracleExactly(k);
        }
    }

    private void topKMatchesTheOracleExactly(int k) {
        int rows = 53;
        int cols = 2053;
        float[] x = random(14, rows * cols, 1);
        // Some exact ties and negative rows, so order and tie-breaking are exercised too.
        for (int i = 0; i < x.length; i += 7) {
            x[i] = Math.round(x[i] * 4) / 4f;
        }
        float[] mask = new float[cols];
        SplittableRandom r = new SplittableRandom(15);
        for (int c = 0; c < cols; c++) {
            mask[c] = r.nextInt(10) == 0 ? 1f : 0f;
        }
        for (boolean masked : new boolean[] {false, true}) {
            float[][] vals = new float[2][];
            int[][] idx = new int[2][];
            for (int which = 0; which < 2; which++) {
                Device d = which == 0 ? dut : ref;
                try (Tensor X = on(d, x, rows, cols); Tensor M = on(d, mask, cols);
                     Tensor V = d.allocate(DType.F32, rows, k); Tensor I = d.allocate(DType.I32, rows, k)) {
                    if (masked) {
                        d.ops().topKRowsMasked(X, M, k, V, I);
                    } else {
                        d.ops().topKRows(X, k, V, I);
                    }
                    vals[which] = V.toFloatArray();
                    idx[which] = I.toIntArray();
                }
            }
            assertThat(idx[0]).as("top-k indices, k=" + k + ", masked=" + masked).containsExactly(idx[1]);
            assertIdentical(vals[0], vals[1], "top-k values, k=" + k + ", masked=" + masked);
        }
    }

    @Test
    void largeKBreaksTiesTowardsLowerColumnsAndFillsMissingSlots() {
        int cols = 500;
        float[] x = new float[cols];
        for (int c = 0; c < cols; c++) {
            x[c] = (c % 5) - 2f;
        }
        x[3] = Float.NaN;
        float[] mask = new float[cols];
        for (int c = 0; c < 60; c++) {
            mask[c * 7] = 1f;
        }
        for (int which = 0; which < 2; which++) {
            try (Tensor X = on(dut, x, 1, cols); Tensor V = dut.allocate(DType.F32, 1, 120);
                 Tensor I = dut.allocate(DType.I32, 1, 120); Tensor M = on(dut, mask, cols)) {
                if (which == 0) {
                    dut.ops().topKRows(X, 120, V, I);
                    int[] idx = I.toIntArray();
                    assertThat(idx[0]).as("first of the value-2 columns").isEqualTo(4);
                    assertThat(idx[99]).as("the 100th value-2 column").isEqualTo(499);
                    assertThat(idx[100]).as("then the value-1 columns, lowest first").isEqualTo(8);
                } else {
                    dut.ops().topKRowsMasked(X, M, 120, V, I);
                    int[] idx = I.toIntArray();
                    assertThat(idx[59]).as("60 allowed columns").isNotEqualTo(-1);
                    assertThat(java.util.Arrays.copyOfRange(idx, 60, 120)).as("the rest are empty").containsOnly(-1);
                    assertThat(java.util.Arrays.copyOfRange(V.toFloatArray(), 60, 120)).containsOnly(0f);
                }
            }
        }
    }

    @Test
    void topKBreaksTiesTowardsLowerColumnsAndFillsMissingSlots() {
        float[] x = {1, 3, 3, 2, 3, 0, -1, 3};
        try (Tensor X = on(dut, x, 1, 8); Tensor V = dut.allocate(DType.F32, 1, 3);
             Tensor I = dut.allocate(DType.I32, 1, 3); Tensor M = on(dut, new float[] {1, 0, 0, 1, 0, 0, 0, 0}, 8)) {
            dut.ops().topKRows(X, 3, V, I);
            assertThat(I.toIntArray()).containsExactly(1, 2, 4);
            assertThat(V.toFloatArray()).containsExactly(3, 3, 3);
            dut.ops().topKRowsMasked(X, M, 3, V, I);
            assertThat(I.toIntArray()).as("only columns 0 and 3 are allowed").containsExactly(3, 0, -1);
            assertThat(V.toFloatArray()).containsExactly(2, 1, 0);
        }
    }

    // ------------------------------------------------------------------ sparse products

    @Test
    void sparseOpsMatchTheOracle() {
        int rows = 83;
        int k = 13;
        int n = 517;
        int d = 203;
        SplittableRandom r = new SplittableRandom(16);
        int[] idx = new int[rows * k];
        for (int e = 0; e < idx.length; e++) {
            idx[e] = r.nextInt(12) == 0 ? -1 : r.nextInt(n);
        }
        float[] vals = random(17, rows * k, 1);
        float[] w = random(18, n * d, 1);
        float[] dense = random(19, rows * d, 1);
        float[] bias = random(20, d, 1);
        float[] gradInit = random(21, n * d, 1);
        float[][] out = new float[2][];
        for (int which = 0; which < 2; which++) {
            Device dev = which == 0 ? dut : ref;
            TensorOps ops = dev.ops();
            try (Tensor V = on(dev, vals, rows, k); Tensor I = ints(dev, idx, rows, k); Tensor W = on(dev, w, n, d);
                 Tensor D = on(dev, dense, rows, d); Tensor B = on(dev, bias, d);
                 Tensor decoded = dev.allocate(DType.F32, rows, d); Tensor decodedNoBias = dev.allocate(DType.F32, rows, d);
                 Tensor dots = dev.allocate(DType.F32, rows, k); Tensor grad = on(dev, gradInit, n, d);
                 Tensor colSums = on(dev, random(22, n, 1), n); Tensor counts = dev.allocate(DType.F32, n)) {
                ops.sparseDecode(V, I, W, B, decoded);
                ops.sparseDecode(V, I, W, null, decodedNoBias);
                ops.sparseRowDots(I, D, W, dots);
                ops.sparseAccumulateRows(V, I, D, -0.5f, grad);
                ops.sparseColumnSums(V, I, 2f, colSums);
                ops.sparseColumnCountPositive(V, I, counts);
                out[which] = concat(decoded.toFloatArray(), decodedNoBias.toFloatArray(), dots.toFloatArray(),
                        grad.toFloatArray(), colSums.toFloatArray(), counts.toFloatArray());
            }
        }
        assertClose(out[0], out[1], Math.sqrt(d) * 8, "sparseDecode/sparseRowDots/sparseAccumulateRows/column sums");
    }

    @Test
    void sparseAccumulateRowsLeavesUnnamedRowsAlone() {
        try (Tensor V = on(dut, new float[] {1, 2}, 2, 1); Tensor I = ints(dut, new int[] {1, 1}, 2, 1);
             Tensor D = on(dut, new float[] {1, 1, 3, 3}, 2, 2); Tensor G = on(dut, new float[] {7, 7, 0, 0, 9, 9}, 3, 2)) {
            dut.ops().sparseAccumulateRows(V, I, D, 1f, G);
            assertThat(G.toFloatArray()).containsExactly(7, 7, 7, 7, 9, 9);
        }
    }

    // ------------------------------------------------------------------ optimizer and constraints

    @Test
    void adamWAndRowConstraintsMatchTheOracle() {
        int rows = 129;
        int cols = 263;
        float[] p = random(23, rows * cols, 1);
        p[5 * cols + 7] = 0;
        float[][] out = new float[2][];
        for (int which = 0; which < 2; which++) {
            Device dev = which == 0 ? dut : ref;
            TensorOps ops = dev.ops();
            try (Tensor P = on(dev, p, rows, cols); Tensor M = dev.allocate(DType.F32, rows, cols);
                 Tensor V = dev.allocate(DType.F32, rows, cols); Tensor zeroRow = dev.allocate(DType.F32, 2, cols);
                 Tensor scales = on(dev, random(24, rows, 1), rows)) {
                for (int t = 1; t <= 3; t++) {
                    try (Tensor G = on(dev, random(100 + t, rows * cols, 0.1), rows, cols)) {
                        ops.projectOutRowComponents(P, G);
                        ops.adamW(P, G, M, V, new AdamWStep(1e-2f, 0.85f, 0.9999f, 6.25e-10f, 0.01f, t));
                        ops.addScaledRows(G, scales, 0.5f, P);
                        ops.normalizeRows(P);
                    }
                }
                ops.normalizeRows(zeroRow);
                out[which] = concat(P.toFloatArray(), M.toFloatArray(), V.toFloatArray(), zeroRow.toFloatArray());
            }
        }
        assertClose(out[0], out[1], 1e-2, "adamW/projectOutRowComponents/addScaledRows/normalizeRows");
    }

    @Test
    void projectedGradientIsOrthogonalToItsRow() {
        int rows = 17;
        int cols = 301;
        try (Tensor W = on(dut, random(25, rows * cols, 1), rows, cols); Tensor G = on(dut, random(26, rows * cols, 1), rows, cols)) {
            dut.ops().projectOutRowComponents(W, G);
            float[] w = W.toFloatArray();
            float[] g = G.toFloatArray();
            for (int r = 0; r < rows; r++) {
                double dot = 0;
                double ww = 0;
                for (int c = 0; c < cols; c++) {
                    dot += (double) w[r * cols + c] * g[r * cols + c];
                    ww += (double) w[r * cols + c] * w[r * cols + c];
                }
                assertThat(Math.abs(dot) / ww).as("row " + r).isLessThan(1e-5);
            }
        }
    }

    @Test
    void opsAreDeterministic() {
        int rows = 64;
        int cols = 1500;
        float[] x = random(27, rows * cols, 1);
        float[] w = random(28, 700 * cols, 1);
        try (Tensor X = on(dut, x, rows, cols); Tensor W = on(dut, w, 700, cols);
             Tensor C1 = dut.allocate(DType.F32, rows, 700); Tensor C2 = dut.allocate(DType.F32, rows, 700)) {
            dut.ops().gemm(false, true, 1f, X, W, 0f, C1);
            dut.ops().gemm(false, true, 1f, X, W, 0f, C2);
            assertIdentical(C1.toFloatArray(), C2.toFloatArray(), "gemm called twice");
            assertThat(dut.ops().sumSquares(X)).isEqualTo(dut.ops().sumSquares(X));
        }
    }

    // ------------------------------------------------------------------ whole SAE steps

    /** Runs a few full optimizer steps and returns the parameters, gradients and losses, flattened. */
    private float[] trainSteps(Device d, SaeArchitecture arch, SaeSpec spec, float[][] batches, float[] deadMask,
                               AuxKSettings auxK) {
        try (Sae sae = arch.create(spec, d);
             AdamW adam = new AdamW(d, sae.parameters(), 0.85, 0.9999, 6.25e-10, 0)) {
            sae.initialize(42, random(29, spec.dIn(), 0.5));
            UnitNormDecoderConstraint constraint = UnitNormDecoderConstraint.of(sae);
            Map<String, Tensor> grads = new LinkedHashMap<>();
            for (SaeParameter p : sae.parameters()) {
                grads.put(p.name(), d.allocate(DType.F32, p.value().shape()));
            }
            int deadCount = 0;
            for (float v : deadMask) {
                deadCount += v != 0 ? 1 : 0;
            }
            Tensor deadTensor = d.upload(deadMask, deadMask.length);
            Tensor fired = d.allocate(DType.F32, deadMask.length);
            TrainingContext ctx = TrainingContext.of(deadTensor, deadCount, auxK, fired);
            float[] losses = new float[batches.length * 2];
            for (int s = 0; s < batches.length; s++) {
                try (Tensor x = d.upload(batches[s], batches[s].length / spec.dIn(), spec.dIn())) {
                    d.ops().fill(fired, 0f);
                    TrainingStepResult result = sae.trainingStep(x, ctx, grads);
                    losses[2 * s] = (float) result.loss();
                    losses[2 * s + 1] = (float) result.l0();
                    constraint.projectGradient(grads);
                    adam.step(grads, 1e-3, s + 1);
                    constraint.renormalize();
                }
            }
            float[] out = losses;
            for (SaeParameter p : sae.parameters()) {
                out = concat(out, p.value().toFloatArray(), grads.get(p.name()).toFloatArray());
            }
            out = concat(out, fired.toFloatArray());
            grads.values().forEach(Tensor::close);
            deadTensor.close();
            fired.close();
            return out;
        }
    }

    @Test
    void topKTrainingStepsWithAuxKMatchTheOracle() {
        int dIn = 48;
        int dSae = 192;
        SaeArchitecture arch = new TopKArchitecture();
        SaeSpec spec = arch.spec(dIn, dSae, Map.of("k", 8), 1.0, Map.of());
        float[][] batches = {random(30, 64 * dIn, 1), random(31, 64 * dIn, 1), random(32, 64 * dIn, 1)};
        float[] dead = new float[dSae];
        for (int i = 0; i < dSae; i += 3) {
            dead[i] = 1f;
        }
        AuxKSettings auxK = new AuxKSettings(16, 1f / 32);
        float[] got = trainSteps(dut, arch, spec, batches, dead, auxK);
        float[] want = trainSteps(ref, arch, spec, batches, dead, auxK);
        assertClose(got, want, 1e-2, "TopK + AuxK: losses, parameters, gradients, firing counts after 3 steps");
    }

    @Test
    void reluTrainingStepsMatchTheOracle() {
        int dIn = 40;
        int dSae = 160;
        SaeArchitecture arch = new ReluL1Architecture();
        SaeSpec spec = arch.spec(dIn, dSae, Map.of("l1_coefficient", 0.5), 1.0, Map.of());
        float[][] batches = {random(33, 32 * dIn, 1), random(34, 32 * dIn, 1)};
        float[] got = trainSteps(dut, arch, spec, batches, new float[dSae], null);
        float[] want = trainSteps(ref, arch, spec, batches, new float[dSae], null);
        assertClose(got, want, 1e-2, "ReLU+L1: losses, parameters, gradients after 2 steps");
    }

    // ------------------------------------------------------------------ transformer ops, against the SPI's references

    /** The slow, obvious defaults of {@link TransformerOps}, which every backend's kernels must agree with. */
    private static final TransformerOps REFERENCE = new TransformerOps() {
    };

    /** Runs {@code op} on the device under test and on the reference defaults; returns both outputs. */
    private float[][] both(float[] input, int[] shape, java.util.function.BiConsumer<TransformerOps, Tensor> op) {
        float[][] results = new float[2][];
        for (int which = 0; which < 2; which++) {
            try (Tensor t = on(dut, input, shape)) {
                op.accept(which == 0 ? dut.ops() : REFERENCE, t);
                results[which] = t.toFloatArray();
            }
        }
        return results;
    }

    @Test
    void linearMatchesTheReferenceForEveryWeightFormatAndRowCount() {
        for (WeightFormat format : WeightFormat.values()) {
            checkLinear(format, 67, 160);
            if (!format.isQuantized()) {
                // widths that leave vector tails: even but not a vector multiple, and odd
                checkLinear(format, 67, 38);
                checkLinear(format, 67, 37);
            }
        }
    }

    private void checkLinear(WeightFormat format, int rows, int cols) {
        WeightMatrix w = WeightMatrices.random(format, rows, cols, 40 + format.ordinal());
        float[] dense = w.toFloats();
        for (int n : new int[] {1, 3, 9, 70}) {
            float[] x = random(41 + n, n * cols, 1);
            float[] got;
            float[] want;
            try (Tensor X = on(dut, x, n, cols); Tensor out = dut.allocate(DType.F32, n, rows)) {
                dut.ops().linear(X, w, out);
                got = out.toFloatArray();
                REFERENCE.linear(X, w, out);
                want = out.toFloatArray();
            }
            // Each sum's rounding is bounded by its terms' magnitudes: check against that, term by term.
            for (int r = 0; r < n; r++) {
                for (int o = 0; o < rows; o++) {
                    double magnitude = 0;
                    for (int i = 0; i < cols; i++) {
                        magnitude += Math.abs((double) x[r * cols + i] * dense[o * cols + i]);
                    }
                    int at = r * rows + o;
                    assertCloseScalar(got[at], want[at], magnitude, "linear " + format + " [" + rows + ", " + cols
                            + "] n=" + n + " [" + r + ", " + o + "]");
                }
            }
        }
    }

    @Test
    void linearAndEmbeddingRejectMismatchedShapes() {
        WeightMatrix w = WeightMatrices.random(WeightFormat.Q8_0, 8, 64, 42);
        try (Tensor x = dut.allocate(DType.F32, 2, 32); Tensor out = dut.allocate(DType.F32, 2, 8);
             Tensor e = dut.allocate(DType.F32, 1, 64)) {
            assertThatThrownBy(() -> dut.ops().linear(x, w, out)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(w.name());
            assertThatThrownBy(() -> dut.ops().embedding(w, new int[] {8}, e))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("token 8");
        }
    }

    @Test
    void embeddingDequantizesExactly() {
        for (WeightFormat format : WeightFormat.values()) {
            WeightMatrix table = WeightMatrices.random(format, 50, 96, 43 + format.ordinal());
            int[] tokens = {0, 49, 7, 7, 23};
            float[][] r = both(new float[tokens.length * 96], new int[] {tokens.length, 96},
                    (ops, out) -> ops.embedding(table, tokens, out));
            assertIdentical(r[0], r[1], "embedding " + format);
        }
    }

    @Test
    void normRopeSwigluAndCopyRowsMatchTheReference() {
        int rows = 37;
        int d = 72;
        float[] x = random(44, rows * d, 2);
        float[] weight = random(45, d, 1);
        float[][] r = both(x, new int[] {rows, d}, (ops, t) -> {
            try (Tensor w = on(dut, weight, d)) {
                ops.rmsNorm(t, w, 1e-5f, t);
            }
        });
        assertClose(r[0], r[1], 1e-6, "rmsNorm in place");

        int headDim = 24;
        int[] positions = new int[rows];
        for (int i = 0; i < rows; i++) {
            positions[i] = (i * 7) % 50;
        }
        float[] cos = new float[50 * headDim / 2];
        float[] sin = new float[cos.length];
        for (int p = 0; p < 50; p++) {
            for (int j = 0; j < headDim / 2; j++) {
                double angle = p * Math.pow(10000, -2.0 * j / headDim);
                cos[p * headDim / 2 + j] = (float) Math.cos(angle);
                sin[p * headDim / 2 + j] = (float) Math.sin(angle);
            }
        }
        for (boolean interleaved : new boolean[] {false, true}) {
            r = both(x, new int[] {rows, d}, (ops, t) -> {
                try (Tensor c = on(dut, cos, 50, headDim / 2); Tensor s = on(dut, sin, 50, headDim / 2)) {
                    ops.rotaryEmbedding(t, headDim, positions, c, s, interleaved);
                }
            });
            assertClose(r[0], r[1], 1e-6, "rotaryEmbedding interleaved=" + interleaved);
        }

        float[] up = random(46, rows * d, 1);
        r = both(x, new int[] {rows, d}, (ops, gate) -> {
            try (Tensor u = on(dut, up, rows, d)) {
                ops.siluMul(gate, u, gate);
            }
        });
        assertClose(r[0], r[1], 1e-6, "siluMul");

        r = both(new float[50 * d], new int[] {50, d}, (ops, dst) -> {
            try (Tensor src = on(dut, x, rows, d)) {
                ops.copyRows(src, 3, dst, 11, 30);
            }
        });
        assertIdentical(r[0], r[1], "copyRows");
    }

    @Test
    void causalAttentionMatchesTheReferenceForPackedBatchesAndCaches() {
        int heads = 6;
        int kvHeads = 2;
        int hd = 20;
        // Packed prefill: three sequences of 1, 45 and 70 rows, with a gap row that must be left alone.
        int rows = 117;
        float[] q = random(47, rows * heads * hd, 1);
        float[] k = random(48, rows * kvHeads * hd, 1);
        float[] v = random(49, rows * kvHeads * hd, 1);
        AttentionLayout packed = AttentionLayout.packed(heads, kvHeads, hd, new int[] {0, 1, 47},
                new int[] {1, 45, 70});
        float[] canary = random(50, rows * heads * hd, 1);
        float[][] r = both(canary, new int[] {rows, heads * hd}, (ops, out) -> {
            try (Tensor Q = on(dut, q, rows, heads * hd); Tensor K = on(dut, k, rows, kvHeads * hd);
                 Tensor V = on(dut, v, rows, kvHeads * hd)) {
                ops.causalAttention(Q, K, V, packed, out);
            }
        });
        assertClose(r[0], r[1], 1, "packed causal attention"); // outputs are averages of unit-size values
        assertIdentical(java.util.Arrays.copyOfRange(r[0], 46 * heads * hd, 47 * heads * hd),
                java.util.Arrays.copyOfRange(canary, 46 * heads * hd, 47 * heads * hd), "row outside the layout");

        // Decode against a cache: two sequences, 1 and 3 new queries after 40 and 9 cached positions.
        AttentionLayout cached = new AttentionLayout(heads, kvHeads, hd, new int[] {0, 1}, new int[] {1, 3},
                new int[] {0, 60}, new int[] {40, 9});
        r = both(new float[4 * heads * hd], new int[] {4, heads * hd}, (ops, out) -> {
            try (Tensor Q = on(dut, java.util.Arrays.copyOf(q, 4 * heads * hd), 4, heads * hd);
                 Tensor K = on(dut, k, rows, kvHeads * hd); Tensor V = on(dut, v, rows, kvHeads * hd)) {
                ops.causalAttention(Q, K, V, cached, out);
            }
        });
        assertClose(r[0], r[1], 1, "cached causal attention");
    }
}
