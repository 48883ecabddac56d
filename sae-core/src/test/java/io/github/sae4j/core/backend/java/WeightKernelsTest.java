package io.github.sae4j.core.backend.java;

import static io.github.sae4j.core.backend.BackendConformanceSuite.assertIdentical;
import static io.github.sae4j.core.backend.BackendConformanceSuite.random;

import io.github.sae4j.api.backend.AttentionLayout;
import io.github.sae4j.api.backend.WeightFormat;
import io.github.sae4j.api.backend.WeightMatrix;
import io.github.sae4j.core.backend.WeightMatrices;
import org.junit.jupiter.api.Test;

class WeightKernelsTest {

    @Test
    void dequantizingAnyBlockRangeGivesTheReferenceValues() {
        for (WeightFormat format : WeightFormat.values()) {
            WeightMatrix w = WeightMatrices.random(format, 5, 352, 1 + format.ordinal());
            float[] want = new float[352];
            float[] got = new float[352 + 3];
            for (int row = 0; row < w.rows(); row++) {
                w.dequantizeRow(row, want, 0);
                for (int[] range : new int[][] {{0, 352}, {32, 64}, {96, 256}, {320, 32}}) {
                    WeightKernels.dequantize(w, row, range[0], range[1], got, 3);
                    assertIdentical(java.util.Arrays.copyOfRange(got, 3, 3 + range[1]),
                            java.util.Arrays.copyOfRange(want, range[0], range[0] + range[1]),
                            format + " row " + row + " from " + range[0] + " count " + range[1]);
                }
            }
        }
    }

    @Test
    void manyRowsGiveExactlyTheGemmOfTheDequantizedMatrix() {
        int n = 45;
        int rows = 70;
        int cols = 1600; // three K blocks, aligned to the quantization blocks
        float[] x = random(9, n * cols, 1);
        try (WorkerPool pool = new WorkerPool(2)) {
            for (WeightFormat format : WeightFormat.values()) {
                WeightMatrix w = WeightMatrices.random(format, rows, cols, 10 + format.ordinal());
                float[] got = new float[n * rows];
                WeightKernels.linear(pool, x, n, w, got);
                float[] want = new float[n * rows];
                Sgemm.gemm(pool, false, true, n, rows, cols, 1f, x, 0, cols, w.toFloats(), 0, cols, 0f, want, 0, rows);
                assertIdentical(got, want, "linear " + format + " vs gemm");
            }
        }
    }

    @Test
    void linearAndAttentionDoNotDependOnTheThreadCount() {
        WeightMatrix q4 = WeightMatrices.random(WeightFormat.Q4_0, 300, 256, 20);
        WeightMatrix bf16 = WeightMatrices.random(WeightFormat.BF16, 300, 256, 21);
        float[] x = random(22, 40 * 256, 1);
        int heads = 4;
        int hd = 16;
        float[] q = random(23, 150 * heads * hd, 1);
        float[] k = random(24, 150 * hd, 1);
        AttentionLayout layout = AttentionLayout.packed(heads, 1, hd, new int[] {0, 100}, new int[] {100, 50});
        float[][] results = new float[3][];
        for (int threads = 1; threads <= 3; threads++) {
            try (WorkerPool pool = new WorkerPool(threads)) {
                float[] a = new float[2 * 300];
                WeightKernels.linear(pool, x, 2, q4, a);
                float[] b = new float[40 * 300];
                WeightKernels.linear(pool, x, 40, bf16, b);
                float[] c = new float[150 * heads * hd];
                AttentionKernel.run(pool, q, 150, heads * hd, k, k, 150, hd, 150, hd, layout, c, 150, heads * hd);
                float[] all = new float[a.length + b.length + c.length];
                System.arraycopy(a, 0, all, 0, a.length);
                System.arraycopy(b, 0, all, a.length, b.length);
                System.arraycopy(c, 0, all, a.length + b.length, c.length);
                results[threads - 1] = all;
            }
        }
        assertIdentical(results[1], results[0], "2 threads vs 1");
        assertIdentical(results[2], results[0], "3 threads vs 1");
    }
}
