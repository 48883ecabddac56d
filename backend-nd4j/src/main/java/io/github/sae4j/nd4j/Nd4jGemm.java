package io.github.sae4j.nd4j;

import io.github.sae4j.core.backend.java.DenseGemm;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Dense products on ND4J: the operands are copied into off-heap ND4J arrays that are kept for the next product of
 * the same shapes (allocating ones per call halves ND4J's GEMM rate), multiplied with {@code Nd4j.gemm} (OpenBLAS
 * on the CPU) and the result copied back. The copies are memory-bound and cost a few percent of the product for
 * the SAE shapes (docs/backend-nd4j.md).
 */
final class Nd4jGemm implements DenseGemm {

    private final String description;
    /** The ND4J device (GPU) the products run on, or -1 for the CPU. */
    private final int device;
    /**
     * Off-heap operands by role and shape, the most recently used last. A training step alternates a few shapes (the
     * encoder's product, the AuxK decoder's, the validation batch's), so each keeps its arrays instead of
     * reallocating hundreds of megabytes per call.
     */
    private final java.util.LinkedHashMap<String, INDArray> cache = new java.util.LinkedHashMap<>(16, 0.75f, true);
    private static final int CACHED = 9;

    Nd4jGemm(String description, int device) {
        this.description = description;
        this.device = device;
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public synchronized void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a,
                                  int aOffset, int lda, float[] b, int bOffset, int ldb, float beta, float[] c,
                                  int cOffset, int ldc) {
        if (device >= 0) {
            Nd4j.getAffinityManager().unsafeSetDevice(device);
        }
        // Stored shapes: op(A) is m x k, so A is k x m when transposed.
        INDArray na = load("a", a, aOffset, lda, transA ? k : m, transA ? m : k);
        INDArray nb = load("b", b, bOffset, ldb, transB ? n : k, transB ? k : n);
        INDArray nc = beta == 0f ? array("c", m, n) : load("c", c, cOffset, ldc, m, n);
        Nd4j.gemm(na, nb, nc, transA, transB, alpha, beta);
        MemorySegment out = segment(nc);
        if (ldc == n) {
            MemorySegment.copy(out, ValueLayout.JAVA_FLOAT, 0, c, cOffset, m * n);
        } else {
            for (int r = 0; r < m; r++) {
                MemorySegment.copy(out, ValueLayout.JAVA_FLOAT, 4L * r * n, c, cOffset + r * ldc, n);
            }
        }
    }

    /** The array's off-heap memory (native byte order, as ND4J keeps it) for bulk copies. */
    private static MemorySegment segment(INDArray arr) {
        long bytes = arr.length() * 4L;
        return MemorySegment.ofAddress(arr.data().addressPointer().address()).reinterpret(bytes);
    }

    private INDArray load(String role, float[] src, int offset, int ld, int rows, int cols) {
        INDArray arr = array(role, rows, cols);
        MemorySegment dst = segment(arr);
        if (ld == cols) {
            MemorySegment.copy(src, offset, dst, ValueLayout.JAVA_FLOAT, 0, rows * cols);
        } else {
            for (int r = 0; r < rows; r++) {
                MemorySegment.copy(src, offset + r * ld, dst, ValueLayout.JAVA_FLOAT, 4L * r * cols, cols);
            }
        }
        return arr;
    }

    private INDArray array(String role, int rows, int cols) {
        String key = role + rows + "x" + cols;
        INDArray arr = cache.get(key);
        if (arr == null) {
            if (cache.size() >= CACHED) {
                var eldest = cache.entrySet().iterator().next();
                eldest.getValue().close();
                cache.remove(eldest.getKey());
            }
            try {
                arr = Nd4j.create(DataType.FLOAT, new long[] {rows, cols}, 'c');
            } catch (OutOfMemoryError e) {
                throw new IllegalStateException("ND4J could not allocate " + (4L * rows * cols >> 20) + " MB off the heap for a ["
                        + rows + ", " + cols + "] operand (JavaCPP's limits: org.bytedeco.javacpp.maxbytes="
                        + System.getProperty("org.bytedeco.javacpp.maxbytes") + ", maxphysicalbytes="
                        + System.getProperty("org.bytedeco.javacpp.maxphysicalbytes") + "); raise them with "
                        + "SAE4J_JAVA_OPTS=\"-Dorg.bytedeco.javacpp.maxbytes=...\", lower the batch size, or use --backend java",
                        e);
            }
            cache.put(key, arr);
        }
        return arr;
    }

    /** Frees the cached off-heap operands. */
    synchronized void release() {
        cache.values().forEach(INDArray::close);
        cache.clear();
    }
}
