package io.github.sae4j.core.backend.java;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Sgemm#gemm} against its slow twin {@link Sgemm#reference}.
 *
 * <p>Tolerance: each element may differ from the double-precision reference by at most
 * {@value #RELATIVE_TOLERANCE} times {@code |alpha| * sum_p |a_ip * b_pj| + |beta * c_ij|}, the size of the terms
 * summed. Float rounding of K products stays near 2^-24 of that sum; one missing or doubled product moves the
 * result by about 1/k of it, far above the tolerance for every K tested.
 */
class SgemmTest {

    static final double RELATIVE_TOLERANCE = 1e-5;

    private static WorkerPool pool;

    @BeforeAll
    static void startPool() {
        pool = new WorkerPool(2);
    }

    @AfterAll
    static void stopPool() {
        pool.close();
    }

    /** Sizes around the vector width, the micro-tile and the cache blocks, in every dimension. */
    static Stream<Arguments> shapes() {
        int[][] mnk = {
                {0, 5, 3}, {4, 0, 3}, {3, 5, 0}, {1, 1, 1}, {1, 17, 1}, {7, 1, 33}, {7, 17, 33},
                {17, 33, 7}, {33, 65, 17}, {65, 33, 129}, {64, 64, 64}, {129, 65, 257}, {257, 129, 65},
                {65, 257, 33}, {33, 17, 600}, {1, 300, 300}, {300, 1, 300}, {257, 257, 257},
                {1, 513, 769}, {513, 1, 769}, {35, 47, 1600}, {1, 2048, 256}, {1, 1031, 257}, {2, 1031, 257}, {3, 777, 129},
        };
        List<Arguments> out = new ArrayList<>();
        for (int[] s : mnk) {
            for (int t = 0; t < 4; t++) {
                out.add(Arguments.of(t / 2 == 1, t % 2 == 1, s[0], s[1], s[2]));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "transA={0} transB={1} m={2} n={3} k={4}")
    @MethodSource("shapes")
    void matchesReferenceOnPackedArrays(boolean transA, boolean transB, int m, int n, int k) {
        Case c = Case.random(transA, transB, m, n, k, 0, 0, 0, 0, 1.5f, 0f, 7L * m + 31L * n + k);

        c.runBoth(pool);

        c.assertClose();
    }

    @ParameterizedTest(name = "transA={0} transB={1} m={2} n={3} k={4}")
    @MethodSource("shapes")
    void matchesReferenceWithOffsetsPaddingAndBeta(boolean transA, boolean transB, int m, int n, int k) {
        Case c = Case.random(transA, transB, m, n, k, 3, 5, 2, 9, -0.75f, 0.5f, 11L * m + 3L * n + k);

        c.runBoth(pool);

        c.assertClose();
    }

    @Test
    void matchesReferenceOnShapesLargerThanEveryBlock() {
        int m = 2 * Sgemm.MC + 2 * Sgemm.MR + 1;
        int n = Sgemm.NC + Sgemm.NR + 3;
        int k = 2 * Sgemm.KC + 5;
        // Every seventh row and the rows at the edges of the M blocks: the full reference would take too long.
        int[] rows = IntStream.concat(IntStream.iterate(0, i -> i < m, i -> i + 7),
                IntStream.of(Sgemm.MR - 1, Sgemm.MR, Sgemm.MC - 1, Sgemm.MC, 2 * Sgemm.MC - 1, 2 * Sgemm.MC, m - 1))
                .distinct().toArray();
        for (int t = 0; t < 4; t++) {
            Case c = Case.random(t / 2 == 1, t % 2 == 1, m, n, k, 1, 2, 3, 4, 1f, 0.25f, t);

            c.runGemm(pool);

            c.assertRowsClose(rows);
        }
    }

    @ParameterizedTest(name = "transA={0} transB={1} m={2} n={3} k={4}")
    @MethodSource("shapes")
    void sumsEachElementAsOneFmaChainOverKInOrder(boolean transA, boolean transB, int m, int n, int k) {
        Case c = Case.random(transA, transB, m, n, k, 2, 3, 1, 5, 0.5f, -1.25f, 3L * m + n + 5L * k);

        c.runGemm(pool);

        float[] model = c.original.clone();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float sum = 0f;
                for (int p = 0; p < k; p++) {
                    sum = Math.fma(c.opA(i, p), c.opB(p, j), sum);
                }
                int ij = c.cOffset + i * c.ldc + j;
                model[ij] = k == 0 ? c.beta * model[ij] : Math.fma(sum, c.alpha, c.beta * model[ij]);
            }
        }
        assertThat(c.c).as("gemm vs the scalar FMA chain, bit for bit").isEqualTo(model);
    }

    @Test
    void ignoresNanInCWhenBetaIsZero() {
        for (int t = 0; t < 4; t++) {
            for (int[] s : new int[][] {{5, 7, 3}, {70, 90, 80}}) {
                Case c = Case.random(t / 2 == 1, t % 2 == 1, s[0], s[1], s[2], 0, 1, 0, 2, 2f, 0f, 99);
                c.fillC(Float.NaN);

                c.runBoth(pool);

                c.assertClose();
                long nans = IntStream.range(0, c.c.length).filter(i -> Float.isNaN(c.c[i])).count();
                assertThat(nans).as("NaNs left in C (only the padding)").isEqualTo(c.c.length - (long) c.m * c.n);
            }
        }
    }

    @Test
    void alphaZeroScalesCWithoutReadingAOrB() {
        Case c = Case.random(false, false, 70, 80, 90, 0, 0, 0, 0, 0f, 3f, 5);
        Arrays.fill(c.a, Float.NaN);

        Sgemm.gemm(pool, false, false, 70, 80, 90, 0f, c.a, 0, 90, c.b, 0, 80, 3f, c.c, 0, 80);

        for (int i = 0; i < 70 * 80; i++) {
            assertThat(c.c[i]).as("C[%d]", i).isEqualTo(3f * c.original[i]);
        }
    }

    @Test
    void leavesElementsOutsideTheMatrixUntouched() {
        Case c = Case.random(true, false, 37, 29, 41, 6, 4, 5, 11, 1f, 1f, 17);

        c.runBoth(pool);

        for (int i = 0; i < c.c.length; i++) {
            if (!c.insideC(i)) {
                assertThat(c.c[i]).as("C[%d] outside the %d x %d matrix", i, c.m, c.n).isEqualTo(c.original[i]);
            }
        }
    }

    @Test
    void givesBitIdenticalResultsForAnyThreadCount() {
        int m = 2 * Sgemm.MC + 45;
        int n = Sgemm.NC + 37;
        int k = Sgemm.KC + 77;
        for (int t = 0; t < 4; t++) {
            boolean transA = t / 2 == 1;
            boolean transB = t % 2 == 1;
            Case base = Case.random(transA, transB, m, n, k, 0, 0, 0, 0, 1f, 0.5f, 1234 + t);
            float[][] results = new float[3][];
            for (int threads = 1; threads <= 3; threads++) {
                float[] c = base.original.clone();
                try (WorkerPool p = new WorkerPool(threads)) {
                    Sgemm.gemm(p, transA, transB, m, n, k, base.alpha, base.a, 0, base.lda, base.b, 0, base.ldb,
                            base.beta, c, 0, base.ldc);
                }
                results[threads - 1] = c;
            }

            assertThat(results[1]).as("2 threads vs 1, transA=%s transB=%s", transA, transB)
                    .isEqualTo(results[0]);
            assertThat(results[2]).as("3 threads vs 1, transA=%s transB=%s", transA, transB)
                    .isEqualTo(results[0]);
        }
    }

    @Test
    void rejectsArraysTooShortForTheShape() {
        float[] a = new float[6];
        float[] b = new float[6];
        float[] c = new float[5];

        assertThatThrownBy(() -> Sgemm.gemm(pool, false, false, 2, 3, 2, 1f, a, 0, 2, b, 0, 3, 0f, c, 0, 3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("c of length 5");
        assertThatThrownBy(() -> Sgemm.gemm(pool, false, false, 2, 3, 2, 1f, a, 0, 1, b, 0, 3, 0f, c, 0, 3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("lda=1");
    }

    /** Random operands for one product, with offsets and padded leading dimensions, and a copy for the reference. */
    private static final class Case {
        final boolean transA;
        final boolean transB;
        final int m;
        final int n;
        final int k;
        final int cOffset;
        final int lda;
        final int ldb;
        final int ldc;
        final int aOffset;
        final int bOffset;
        final float alpha;
        final float beta;
        final float[] a;
        final float[] b;
        final float[] c;
        final float[] original;
        final float[] expected;
        private boolean referenceDone;

        private Case(boolean transA, boolean transB, int m, int n, int k, int offset, int pad, float alpha,
                     float beta, int aOffset, int bOffset, int cOffset, SplittableRandom random) {
            this.transA = transA;
            this.transB = transB;
            this.m = m;
            this.n = n;
            this.k = k;
            this.alpha = alpha;
            this.beta = beta;
            this.aOffset = aOffset;
            this.bOffset = bOffset;
            this.cOffset = cOffset;
            this.lda = (transA ? m : k) + pad;
            this.ldb = (transB ? k : n) + pad;
            this.ldc = n + pad;
            this.a = randomArray(random, aOffset + (transA ? k : m) * lda + offset);
            this.b = randomArray(random, bOffset + (transB ? n : k) * ldb + offset);
            this.c = randomArray(random, cOffset + m * ldc + offset);
            this.original = c.clone();
            this.expected = c.clone();
        }

        static Case random(boolean transA, boolean transB, int m, int n, int k, int aOffset, int pad,
                           int bOffset, int cOffset, float alpha, float beta, long seed) {
            return new Case(transA, transB, m, n, k, 3, pad, alpha, beta, aOffset, bOffset, cOffset,
                    new SplittableRandom(seed));
        }

        void fillC(float value) {
            Arrays.fill(c, value);
            Arrays.fill(original, value);
            Arrays.fill(expected, value);
        }

        void runBoth(WorkerPool pool) {
            runGemm(pool);
            referenceDone = true;
            Sgemm.reference(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, expected,
                    cOffset, ldc);
        }

        void runGemm(WorkerPool pool) {
            Sgemm.gemm(pool, transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
        }

        void assertClose() {
            assertRowsClose(IntStream.range(0, m).toArray());
            for (int i = 0; i < c.length; i++) {
                if (!insideC(i)) {
                    assertThat(Float.floatToRawIntBits(c[i])).as("C[%d] outside the matrix", i)
                            .isEqualTo(Float.floatToRawIntBits(original[i]));
                }
            }
        }

        float opA(int i, int p) {
            return transA ? a[aOffset + p * lda + i] : a[aOffset + i * lda + p];
        }

        float opB(int p, int j) {
            return transB ? b[bOffset + j * ldb + p] : b[bOffset + p * ldb + j];
        }

        /** Whether index i of the C array holds an element of the m x n matrix. */
        boolean insideC(int i) {
            return n > 0 && i >= cOffset && (i - cOffset) / ldc < m && (i - cOffset) % ldc < n;
        }

        /** Compares the given rows with the reference, computed here row by row if runBoth did not. */
        void assertRowsClose(int... rows) {
            for (int i : rows) {
                if (!referenceDone) {
                    Sgemm.reference(transA, transB, 1, n, k, alpha, a, aOffset + (transA ? i : i * lda), lda,
                            b, bOffset, ldb, beta, expected, cOffset + i * ldc, ldc);
                }
                for (int j = 0; j < n; j++) {
                    double scale = 0;
                    for (int p = 0; p < k; p++) {
                        scale += Math.abs((double) opA(i, p) * opB(p, j));
                    }
                    int ij = cOffset + i * ldc + j;
                    double old = beta == 0f ? 0 : Math.abs((double) beta * original[ij]);
                    double tolerance = RELATIVE_TOLERANCE * (Math.abs(alpha) * scale + old) + Float.MIN_NORMAL;
                    if (!(Math.abs(c[ij] - expected[ij]) <= tolerance)) {
                        assertThat(c[ij]).as("C(%d, %d) of %d x %d x %d, transA=%s transB=%s", i, j, m, n, k,
                                transA, transB).isCloseTo(expected[ij], within((float) tolerance));
                    }
                }
            }
        }

        private static float[] randomArray(SplittableRandom random, int size) {
            float[] x = new float[size];
            for (int i = 0; i < size; i++) {
                x[i] = (float) (random.nextDouble() * 2 - 1);
            }
            return x;
        }
    }
}
