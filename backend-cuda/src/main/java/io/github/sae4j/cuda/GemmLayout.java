package io.github.sae4j.cuda;

/**
 * A row-major {@code C = alpha op(A) op(B) + beta C} as the column-major call cuBLAS takes. A row-major matrix read
 * column-major is its transpose, so the call computes {@code C^T = op(B)^T op(A)^T}: B's operand first, A's second,
 * m and n swapped, each leading dimension the row-major column count.
 *
 * @param opFirst  cuBLAS operation on the first operand (B): transposed iff {@code transB}
 * @param opSecond cuBLAS operation on the second operand (A): transposed iff {@code transA}
 * @param m        cuBLAS m: C's columns
 * @param n        cuBLAS n: C's rows
 * @param k        the inner dimension
 * @param ldFirst  B's row-major column count
 * @param ldSecond A's row-major column count
 * @param ldc      C's row-major column count
 */
public record GemmLayout(int opFirst, int opSecond, int m, int n, int k, int ldFirst, int ldSecond, int ldc) {

    /** cuBLAS's CUBLAS_OP_N and CUBLAS_OP_T. */
    public static final int OP_N = 0;
    public static final int OP_T = 1;

    /**
     * The cuBLAS call for row-major A ({@code aRows x aCols}), B and C.
     *
     * @throws IllegalArgumentException when the shapes do not multiply, saying how
     */
    public static GemmLayout of(boolean transA, boolean transB, int aRows, int aCols, int bRows, int bCols, int cRows,
                                int cCols) {
        int m = transA ? aCols : aRows;
        int k = transA ? aRows : aCols;
        int kb = transB ? bCols : bRows;
        int n = transB ? bRows : bCols;
        if (k != kb) {
            throw new IllegalArgumentException("gemm: inner dimensions differ: op(A) is " + m + " x " + k
                    + ", op(B) is " + kb + " x " + n + " (A [" + aRows + ", " + aCols + "]" + (transA ? "^T" : "")
                    + ", B [" + bRows + ", " + bCols + "]" + (transB ? "^T" : "") + ")");
        }
        if (cRows != m || cCols != n) {
            throw new IllegalArgumentException("gemm: C must be " + m + " x " + n + ", got [" + cRows + ", " + cCols
                    + "]");
        }
        // cuBLAS wants every leading dimension >= 1, even for empty matrices.
        return new GemmLayout(transB ? OP_T : OP_N, transA ? OP_T : OP_N, n, m, k, Math.max(1, bCols),
                Math.max(1, aCols), Math.max(1, cCols));
    }

    /** The product has no elements. */
    public boolean empty() {
        return m == 0 || n == 0;
    }
}
