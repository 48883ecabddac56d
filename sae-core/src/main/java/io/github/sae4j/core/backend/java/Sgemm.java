package io.github.sae4j.core.backend.java;

/** Placeholder until the blocked kernel lands: a plain triple loop. */
public final class Sgemm {

    private Sgemm() {
    }

    public static void gemm(WorkerPool pool, boolean transA, boolean transB, int m, int n, int k,
                            float alpha, float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
                            float beta, float[] c, int cOffset, int ldc) {
        pool.forRange(m, 1, (r0, r1) -> {
            for (int i = r0; i < r1; i++) {
                for (int j = 0; j < n; j++) {
                    float sum = 0f;
                    for (int p = 0; p < k; p++) {
                        float av = transA ? a[aOffset + p * lda + i] : a[aOffset + i * lda + p];
                        float bv = transB ? b[bOffset + j * ldb + p] : b[bOffset + p * ldb + j];
                        sum += av * bv;
                    }
                    int ci = cOffset + i * ldc + j;
                    c[ci] = beta == 0f ? alpha * sum : alpha * sum + beta * c[ci];
                }
            }
        });
    }
}
