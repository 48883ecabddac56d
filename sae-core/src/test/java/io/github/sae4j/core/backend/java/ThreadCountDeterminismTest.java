package io.github.sae4j.core.backend.java;

import io.github.sae4j.api.backend.DType;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.backend.TensorOps;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Resuming a run on a machine with another core count must not change the result: every op gives bit-identical
 * output on 1, 2 and 3 threads.
 */
class ThreadCountDeterminismTest {

    private static float[] random(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    private static float[] run(int threads) {
        try (JavaBackend backend = new JavaBackend(threads)) {
            Device d = backend.device();
            TensorOps ops = d.ops();
            int rows = 96;
            int cols = 515;
            int n = 1200;
            int k = 9;
            try (Tensor x = d.upload(random(1, rows * cols), rows, cols);
                 Tensor w = d.upload(random(2, n * cols), n, cols);
                 Tensor pre = d.allocate(DType.F32, rows, n);
                 Tensor vals = d.allocate(DType.F32, rows, k);
                 Tensor idx = d.allocate(DType.I32, rows, k);
                 Tensor grad = d.allocate(DType.F32, n, cols);
                 Tensor colSums = d.allocate(DType.F32, n)) {
                ops.gemm(false, true, 1f, x, w, 0f, pre);
                ops.topKRows(pre, k, vals, idx);
                ops.sparseAccumulateRows(vals, idx, x, 1f, grad);
                ops.columnSums(pre, 1f, 0f, colSums);
                float sum = (float) ops.sumSquares(pre);
                float[] a = pre.toFloatArray();
                float[] b = grad.toFloatArray();
                float[] c = colSums.toFloatArray();
                float[] out = new float[a.length + b.length + c.length + 1];
                System.arraycopy(a, 0, out, 0, a.length);
                System.arraycopy(b, 0, out, a.length, b.length);
                System.arraycopy(c, 0, out, a.length + b.length, c.length);
                out[out.length - 1] = sum;
                return out;
            }
        }
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        float[] one = run(1);
        io.github.sae4j.core.backend.BackendConformanceSuite.assertIdentical(run(2), one, "2 threads vs 1");
        io.github.sae4j.core.backend.BackendConformanceSuite.assertIdentical(run(3), one, "3 threads vs 1");
    }
}
