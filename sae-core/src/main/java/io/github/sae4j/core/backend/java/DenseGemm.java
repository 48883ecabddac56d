package io.github.sae4j.core.backend.java;

/**
 * A dense matrix multiply on row-major heap arrays with {@link Sgemm#gemm}'s contract, for backends that keep the
 * pure-Java backend's tensors and kernels but hand dense products to a native BLAS (backend-nd4j).
 */
public interface DenseGemm {

    /** What runs the products, for device descriptions (for example "OpenBLAS via ND4J"). */
    String description();

    /** {@code C = alpha * op(A) * op(B) + beta * C}; arguments as {@link Sgemm#gemm}, already checked. */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOffset, int lda,
              float[] b, int bOffset, int ldb, float beta, float[] c, int cOffset, int ldc);
}
