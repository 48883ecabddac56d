package io.github.sae4j.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The row-major to column-major mapping, checked numerically: a column-major SGEMM with BLAS's exact semantics (the
 * contract cublasSgemm implements), called as {@link GemmLayout} says on the row-major buffers, must give the
 * row-major product.
 */
class GemmLayoutTest {

    /** Column-major BLAS SGEMM: C(m x n) = alpha op(A) op(B) + beta C, element (i, j) at i + j * ld. */
    static void columnMajorSgemm(int opA, int opB, int m, int n, int k, float alpha, float[] a, int lda, float[] b,
                                 int ldb, float beta, float[] c, int ldc) {
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < m; i++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    float av = opA == GemmLayout.OP_N ? a[i + p * lda] : a[p + i * lda];
                    float bv = opB == GemmLayout.OP_N ? b[p + j * ldb] : b[j + p * ldb];
                    s += (double) av * bv;
                }
                c[i + j * ldc] = (float) (alpha * s + (beta == 0 ? 0 : beta * c[i + j * ldc]));
            }
        }
    }

    @Test
    void theColumnMajorCallComputesTheRowMajorProductForEveryTranspose() {
        int m = 5;
        int n = 7;
        int k = 3;
        SplittableRandom r = new SplittableRandom(1);
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                float[] a = new float[m * k];
                float[] b = new float[k * n];
                float[] c = new float[m * n];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (float) r.nextGaussian();
                }
                for (int i = 0; i < b.length; i++) {
                    b[i] = (float) r.nextGaussian();
                }
                for (int i = 0; i < c.length; i++) {
                    c[i] = (float) r.nextGaussian();
                }
                int aRows = ta ? k : m;
                int aCols = ta ? m : k;
                int bRows = tb ? n : k;
                int bCols = tb ? k : n;
                float[] expected = new float[m * n];
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double s = 0;
                        for (int p = 0; p < k; p++) {
                            float av = ta ? a[p * aCols + i] : a[i * aCols + p];
                            float bv = tb ? b[j * bCols + p] : b[p * bCols + j];
                            s += (double) av * bv;
                        }
                        expected[i * n + j] = (float) (1.5 * s + 0.5 * c[i * n + j]);
                    }
                }
                GemmLayout g = GemmLayout.of(ta, tb, aRows, aCols, bRows, bCols, m, n);
                float[] got = c.clone();
                columnMajorSgemm(g.opFirst(), g.opSecond(), g.m(), g.n(), g.k(), 1.5f, b, g.ldFirst(), a,
                        g.ldSecond(), 0.5f, got, g.ldc());
                assertThat(got).as("transA=" + ta + " transB=" + tb).containsExactly(expected);
            }
        }
    }

    @Test
    void swapsOperandsAndDimensions() {
        // x [B, d_in] times W_enc^T where W_enc is [n, d_in]: the encoder product.
        GemmLayout g = GemmLayout.of(false, true, 4096, 3072, 65536, 3072, 4096, 65536);
        assertThat(g).isEqualTo(new GemmLayout(GemmLayout.OP_T, GemmLayout.OP_N, 65536, 4096, 3072, 3072, 3072,
                65536));
    }

    @Test
    void rejectsShapesThatDoNotMultiply() {
        assertThatThrownBy(() -> GemmLayout.of(false, false, 3, 4, 5, 6, 3, 6))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("inner dimensions");
        assertThatThrownBy(() -> GemmLayout.of(false, false, 3, 4, 4, 6, 3, 5))
                .hasMessage("gemm: C must be 3 x 6, got [3, 5]");
        assertThat(GemmLayout.of(false, false, 0, 4, 4, 6, 0, 6).empty()).isTrue();
        assertThat(GemmLayout.of(false, false, 3, 0, 0, 6, 3, 6).ldSecond()).as("ld >= 1 for cuBLAS").isEqualTo(1);
    }
}
