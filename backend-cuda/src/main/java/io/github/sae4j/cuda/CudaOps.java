package io.github.sae4j.cuda;

import static io.github.sae4j.api.backend.TensorArgs.length;
import static io.github.sae4j.api.backend.TensorArgs.sameSize;
import static io.github.sae4j.api.backend.TensorArgs.shape;

import io.github.sae4j.api.backend.AdamWStep;
import io.github.sae4j.api.backend.DType;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.backend.TensorArgs;
import io.github.sae4j.api.backend.TensorOps;
import io.github.sae4j.core.store.BFloat16;
import java.util.Arrays;

/**
 * Every op of {@link TensorOps} on one GPU: gemm on cuBLAS, the rest NVRTC-compiled kernels (the {@code .cu} files
 * under {@code io/github/sae4j/cuda/kernels/}), each the twin of the java backend's loop, with the same argument
 * checks and messages. Ops are queued on the device's stream; only host copies and scalar results wait for them.
 * The transformer ops keep {@link io.github.sae4j.api.backend.TransformerOps}' reference defaults (host round trips).
 */
final class CudaOps implements TensorOps {

    /** Grid-stride kernels launch at most this many 256-thread blocks. */
    static final int MAX_BLOCKS = 1 << 16;
    /** RowTopK compares values as floats up to this k (-0 == +0) and as raw-bit keys above it (+0 above -0). */
    static final int HEAP_MAX_K = 48;
    /** gridDim.y's limit: row-per-y kernels run in chunks of this many rows. */
    static final int MAX_GRID_Y = 65535;

    private static final String ELEMENTWISE = "elementwise.cu";
    private static final String REDUCE = "reduce.cu";
    private static final String TOPK = "topk.cu";
    private static final String SPARSE = "sparse.cu";

    private static final int OP_SUM_SQUARES = 0;
    private static final int OP_SUM_SQUARED_DIFFERENCE = 1;
    private static final int OP_DOT = 2;
    private static final int OP_COUNT_ABOVE = 3;
    private static final int OP_COUNT_NON_FINITE = 4;

    private final CudaDevice device;

    CudaOps(CudaDevice device) {
        this.device = device;
    }

    /** Blocks of 256 threads for a grid-stride loop over n elements. */
    static long elementwiseBlocks(long n) {
        return Math.min(MAX_BLOCKS, (n + 255) / 256);
    }

    /** The smallest power of two at least n (n >= 1). */
    static long nextPowerOfTwo(long n) {
        return n <= 1 ? 1 : Long.highestOneBit(n - 1) << 1;
    }

    // ------------------------------------------------------------------ argument checks (as JavaOps)

    private CudaTensor t(Tensor tensor, String what) {
        CudaTensor x = TensorArgs.on(tensor, device, CudaTensor.class, what);
        x.checkOpen();
        return x;
    }

    private CudaTensor f32(Tensor tensor, String what) {
        CudaTensor x = t(tensor, what);
        TensorArgs.dtype(x, DType.F32, what);
        return x;
    }

    private CudaTensor i32(Tensor tensor, String what) {
        CudaTensor x = t(tensor, what);
        TensorArgs.dtype(x, DType.I32, what);
        return x;
    }

    /** Runs {@code body} holding the device with its context current. */
    private void on(Runnable body) {
        device.enter();
        try {
            body.run();
        } finally {
            device.exit();
        }
    }

    private void launch(String file, String kernel, long gridX, int gridY, KernelArgs args) {
        device.launch(file, kernel, gridX, gridY, args);
    }

    // ------------------------------------------------------------------ data movement

    @Override
    public void fill(Tensor tensor, float value) {
        CudaTensor x = t(tensor, "fill target");
        if (x.size() == 0) {
            return;
        }
        on(() -> {
            switch (x.dtype()) {
                case F32 -> device.driver().memsetD32(x.pointer(), Float.floatToRawIntBits(value), x.size(),
                        device.stream());
                case I32 -> device.driver().memsetD32(x.pointer(), (int) value, x.size(), device.stream());
                case BF16 -> device.driver().memsetD16(x.pointer(), BFloat16.fromFloat(value), x.size(),
                        device.stream());
            }
        });
    }

    @Override
    public void copy(Tensor source, Tensor destination) {
        CudaTensor src = t(source, "copy source");
        CudaTensor dst = t(destination, "copy destination");
        sameSize(src, dst, "copy");
        DType from = src.dtype();
        DType to = dst.dtype();
        long n = src.size();
        if (from == to) {
            on(() -> {
                if (n > 0 && src.pointer() != dst.pointer()) {
                    device.driver().copyDeviceToDevice(dst.pointer(), src.pointer(), src.bytes(), device.stream());
                }
            });
        } else if (from == DType.BF16 && to == DType.F32) {
            on(() -> launch(ELEMENTWISE, "bf16_to_f32", elementwiseBlocks(n), 1,
                    new KernelArgs().ptr(src.pointer()).ptr(dst.pointer()).i64(n)));
        } else if (from == DType.F32 && to == DType.BF16) {
            on(() -> launch(ELEMENTWISE, "f32_to_bf16", elementwiseBlocks(n), 1,
                    new KernelArgs().ptr(src.pointer()).ptr(dst.pointer()).i64(n)));
        } else {
            throw new IllegalArgumentException("copy cannot convert " + from + " to " + to);
        }
    }

    // ------------------------------------------------------------------ dense linear algebra

    @Override
    public void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        CudaTensor ca = f32(a, "gemm A");
        CudaTensor cb = f32(b, "gemm B");
        CudaTensor cc = f32(c, "gemm C");
        GemmLayout layout = GemmLayout.of(transA, transB, ca.rows(), ca.cols(), cb.rows(), cb.cols(), cc.rows(),
                cc.cols());
        if (layout.empty()) {
            return;
        }
        on(() -> {
            if (layout.k() == 0) {
                // No products: C = beta C, and 0 when beta is 0 (NaN in C does not propagate), as BLAS does.
                if (beta == 0f) {
                    device.driver().memsetD32(cc.pointer(), 0, cc.size(), device.stream());
                } else {
                    launch(ELEMENTWISE, "axpby", elementwiseBlocks(cc.size()), 1, new KernelArgs().f32(beta)
                            .ptr(cc.pointer()).f32(0f).ptr(cc.pointer()).i64(cc.size()));
                }
            } else {
                device.gemm(layout, alpha, ca.pointer(), cb.pointer(), beta, cc.pointer());
            }
        });
    }

    // ------------------------------------------------------------------ elementwise

    @Override
    public void axpby(float alpha, Tensor x, float beta, Tensor y) {
        CudaTensor cx = f32(x, "axpby x");
        CudaTensor cy = f32(y, "axpby y");
        sameSize(cx, cy, "axpby");
        on(() -> launch(ELEMENTWISE, "axpby", elementwiseBlocks(cx.size()), 1, new KernelArgs().f32(alpha)
                .ptr(cx.pointer()).f32(beta).ptr(cy.pointer()).i64(cx.size())));
    }

    @Override
    public void addRowVector(Tensor m, float alpha, Tensor v) {
        CudaTensor cm = f32(m, "addRowVector matrix");
        CudaTensor cv = f32(v, "addRowVector vector");
        length(cv, cm.cols(), "addRowVector vector");
        if (cm.cols() == 0) {
            return;
        }
        on(() -> launch(ELEMENTWISE, "add_row_vector", elementwiseBlocks(cm.size()), 1, new KernelArgs()
                .ptr(cm.pointer()).f32(alpha).ptr(cv.pointer()).i32(cm.cols()).i64(cm.size())));
    }

    @Override
    public void relu(Tensor in, float threshold, Tensor out) {
        CudaTensor ci = f32(in, "relu input");
        CudaTensor co = f32(out, "relu output");
        sameSize(ci, co, "relu");
        on(() -> launch(ELEMENTWISE, "relu", elementwiseBlocks(ci.size()), 1, new KernelArgs().ptr(ci.pointer())
                .f32(threshold).ptr(co.pointer()).i64(ci.size())));
    }

    @Override
    public void reluBackward(Tensor activation, Tensor grad, Tensor out) {
        CudaTensor ca = f32(activation, "reluBackward activation");
        CudaTensor cg = f32(grad, "reluBackward grad");
        CudaTensor co = f32(out, "reluBackward output");
        sameSize(ca, cg, "reluBackward");
        sameSize(ca, co, "reluBackward");
        on(() -> launch(ELEMENTWISE, "relu_backward", elementwiseBlocks(ca.size()), 1, new KernelArgs()
                .ptr(ca.pointer()).ptr(cg.pointer()).ptr(co.pointer()).i64(ca.size())));
    }

    // ------------------------------------------------------------------ reductions

    @Override
    public void columnSums(Tensor m, float alpha, float beta, Tensor out) {
        CudaTensor cm = f32(m, "columnSums matrix");
        CudaTensor co = f32(out, "columnSums output");
        int cols = cm.cols();
        length(co, cols, "columnSums output");
        on(() -> launch(REDUCE, "column_sums", (cols + 255) / 256, 1, new KernelArgs().ptr(cm.pointer())
                .i32(cm.rows()).i32(cols).f32(alpha).f32(beta).ptr(co.pointer())));
    }

    @Override
    public void columnCountAbove(Tensor m, float threshold, Tensor out) {
        CudaTensor cm = f32(m, "columnCountAbove matrix");
        CudaTensor co = f32(out, "columnCountAbove output");
        int cols = cm.cols();
        length(co, cols, "columnCountAbove output");
        on(() -> launch(REDUCE, "column_count_above", (cols + 255) / 256, 1, new KernelArgs().ptr(cm.pointer())
                .i32(cm.rows()).i32(cols).f32(threshold).ptr(co.pointer())));
    }

    @Override
    public void rowNorms(Tensor m, Tensor out) {
        CudaTensor cm = f32(m, "rowNorms matrix");
        CudaTensor co = f32(out, "rowNorms output");
        length(co, cm.rows(), "rowNorms output");
        on(() -> launch(REDUCE, "row_norms", cm.rows(), 1, new KernelArgs().ptr(cm.pointer()).i32(cm.cols())
                .ptr(co.pointer())));
    }

    /** A whole-tensor reduction: fixed-grid partials in double, added in block order on the host. */
    private double reduce(int op, CudaTensor a, CudaTensor b, float threshold) {
        device.enter();
        try {
            long partials = device.partials();
            device.launch(REDUCE, "reduce_partials", CudaDevice.REDUCE_BLOCKS, 1, new KernelArgs().i32(op)
                    .ptr(a.pointer()).ptr(b == null ? 0L : b.pointer()).f32(threshold).i64(a.size()).ptr(partials));
            return device.sumPartials();
        } finally {
            device.exit();
        }
    }

    @Override
    public double sumSquares(Tensor x) {
        return reduce(OP_SUM_SQUARES, f32(x, "sumSquares input"), null, 0f);
    }

    @Override
    public double sumSquaredDifference(Tensor a, Tensor b) {
        CudaTensor ca = f32(a, "sumSquaredDifference a");
        CudaTensor cb = f32(b, "sumSquaredDifference b");
        sameSize(ca, cb, "sumSquaredDifference");
        return reduce(OP_SUM_SQUARED_DIFFERENCE, ca, cb, 0f);
    }

    @Override
    public double dot(Tensor a, Tensor b) {
        CudaTensor ca = f32(a, "dot a");
        CudaTensor cb = f32(b, "dot b");
        sameSize(ca, cb, "dot");
        return reduce(OP_DOT, ca, cb, 0f);
    }

    @Override
    public long countAbove(Tensor x, float threshold) {
        return (long) reduce(OP_COUNT_ABOVE, f32(x, "countAbove input"), null, threshold);
    }

    @Override
    public long countNonFinite(Tensor x) {
        return (long) reduce(OP_COUNT_NON_FINITE, f32(x, "countNonFinite input"), null, 0f);
    }

    @Override
    public void rowNormsAndDots(Tensor x, Tensor xHat, Tensor out) {
        CudaTensor cx = f32(x, "rowNormsAndDots x");
        CudaTensor ch = f32(xHat, "rowNormsAndDots xHat");
        CudaTensor co = f32(out, "rowNormsAndDots output");
        int rows = cx.rows();
        shape(ch, rows, cx.cols(), "rowNormsAndDots xHat");
        shape(co, rows, 3, "rowNormsAndDots output");
        on(() -> launch(REDUCE, "row_norms_and_dots", rows, 1, new KernelArgs().ptr(cx.pointer()).ptr(ch.pointer())
                .i32(cx.cols()).ptr(co.pointer())));
    }

    // ------------------------------------------------------------------ top-k

    @Override
    public void topKRows(Tensor m, int k, Tensor values, Tensor indices) {
        topK(m, null, k, values, indices, "topKRows");
    }

    @Override
    public void topKRowsMasked(Tensor m, Tensor columnMask, int k, Tensor values, Tensor indices) {
        CudaTensor mask = f32(columnMask, "topKRowsMasked mask");
        length(mask, t(m, "topKRowsMasked matrix").cols(), "topKRowsMasked mask");
        topK(m, mask, k, values, indices, "topKRowsMasked");
    }

    private void topK(Tensor m, CudaTensor mask, int k, Tensor values, Tensor indices, String op) {
        CudaTensor cm = f32(m, op + " matrix");
        CudaTensor cv = f32(values, op + " values");
        CudaTensor ci = i32(indices, op + " indices");
        int rows = cm.rows();
        int cols = cm.cols();
        if (k < 1 || k > cols) {
            throw new IllegalArgumentException(op + ": k must be in [1, " + cols + "], got " + k);
        }
        shape(cv, rows, k, op + " values");
        shape(ci, rows, k, op + " indices");
        on(() -> {
            long slots = (long) rows * k;
            long scratch = device.scratch(8 * slots);
            launch(TOPK, "topk_rows", rows, 1, new KernelArgs().ptr(cm.pointer()).i32(cols)
                    .ptr(mask == null ? 0L : mask.pointer()).i32(k).i32(k <= HEAP_MAX_K ? 1 : 0).ptr(cv.pointer())
                    .ptr(ci.pointer()).ptr(scratch).ptr(scratch + 4 * slots));
        });
    }

    // ------------------------------------------------------------------ sparse products

    private record Sparse(CudaTensor values, CudaTensor indices, int rows, int k) {
        long entries() {
            return (long) rows * k;
        }
    }

    private Sparse sparse(Tensor values, Tensor indices, String op) {
        CudaTensor cv = f32(values, op + " values");
        CudaTensor ci = i32(indices, op + " indices");
        shape(ci, cv.rows(), cv.cols(), op + " indices");
        return new Sparse(cv, ci, cv.rows(), cv.cols());
    }

    @Override
    public void sparseDecode(Tensor values, Tensor indices, Tensor weights, Tensor bias, Tensor out) {
        Sparse sp = sparse(values, indices, "sparseDecode");
        CudaTensor cw = f32(weights, "sparseDecode weights");
        CudaTensor co = f32(out, "sparseDecode output");
        int n = cw.rows();
        int d = cw.cols();
        shape(co, sp.rows, d, "sparseDecode output");
        CudaTensor cb = null;
        if (bias != null) {
            cb = f32(bias, "sparseDecode bias");
            length(cb, d, "sparseDecode bias");
        }
        CudaTensor biasTensor = cb;
        on(() -> {
            long error = device.errorFlag();
            for (int r0 = 0; r0 < sp.rows; r0 += MAX_GRID_Y) {
                int chunk = Math.min(MAX_GRID_Y, sp.rows - r0);
                long entryOffset = 4L * r0 * sp.k;
                launch(SPARSE, "sparse_decode", (d + 255) / 256, chunk, new KernelArgs()
                        .ptr(sp.values.pointer() + entryOffset).ptr(sp.indices.pointer() + entryOffset).i32(sp.k)
                        .ptr(cw.pointer()).i32(n).i32(d).ptr(biasTensor == null ? 0L : biasTensor.pointer())
                        .ptr(co.pointer() + 4L * r0 * d).ptr(error));
            }
        });
    }

    @Override
    public void sparseRowDots(Tensor indices, Tensor dense, Tensor weights, Tensor out) {
        CudaTensor ci = i32(indices, "sparseRowDots indices");
        CudaTensor cd = f32(dense, "sparseRowDots dense");
        CudaTensor cw = f32(weights, "sparseRowDots weights");
        CudaTensor co = f32(out, "sparseRowDots output");
        int rows = ci.rows();
        int k = ci.cols();
        int d = cw.cols();
        shape(cd, rows, d, "sparseRowDots dense");
        shape(co, rows, k, "sparseRowDots output");
        long entries = (long) rows * k;
        on(() -> launch(SPARSE, "sparse_row_dots", (entries + 7) / 8, 1, new KernelArgs().ptr(ci.pointer()).i32(k)
                .ptr(cd.pointer()).ptr(cw.pointer()).i32(cw.rows()).i32(d).ptr(co.pointer()).i64(entries)
                .ptr(device.errorFlag())));
    }

    /**
     * Sorts the live entries of a sparse code by (latent, entry) into the scratch buffer: 64-bit keys
     * {@code latent << 32 | entry}, dead entries and padding last. Returns the padded length; the keys are at
     * {@link CudaDevice#scratch}.
     */
    private long sortByLatent(Sparse sp, int n, boolean skipZero, int opCode) {
        long entries = sp.entries();
        if (entries > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("sparse code of " + entries + " entries: the cuda backend takes at most "
                    + Integer.MAX_VALUE);
        }
        long padded = nextPowerOfTwo(entries);
        long keys = device.scratch(8 * padded);
        long blocks = elementwiseBlocks(padded);
        launch(SPARSE, "sparse_sort_keys", blocks, 1, new KernelArgs().ptr(sp.values.pointer())
                .ptr(sp.indices.pointer()).i64(entries).i64(padded).i32(n).i32(skipZero ? 1 : 0).i32(opCode).ptr(keys)
                .ptr(device.errorFlag()));
        for (long size = 2; size <= padded; size <<= 1) {
            for (long j = size >> 1; j > 0; j >>= 1) {
                launch(SPARSE, "bitonic_step", blocks, 1, new KernelArgs().ptr(keys).i64(padded).i64(j).i64(size));
            }
        }
        return padded;
    }

    @Override
    public void sparseAccumulateRows(Tensor values, Tensor indices, Tensor dense, float alpha, Tensor grad) {
        Sparse sp = sparse(values, indices, "sparseAccumulateRows");
        CudaTensor cd = f32(dense, "sparseAccumulateRows dense");
        CudaTensor cg = f32(grad, "sparseAccumulateRows grad");
        int n = cg.rows();
        int d = cg.cols();
        shape(cd, sp.rows, d, "sparseAccumulateRows dense");
        if (sp.entries() == 0 || d == 0) {
            return;
        }
        on(() -> {
            long padded = sortByLatent(sp, n, true, 3);
            launch(SPARSE, "sparse_accumulate_rows", Math.min(padded, 4096), (d + 255) / 256, new KernelArgs()
                    .ptr(device.scratch(8 * padded)).i64(padded).ptr(sp.values.pointer()).i32(sp.k).ptr(cd.pointer())
                    .i32(d).f32(alpha).ptr(cg.pointer()));
        });
    }

    @Override
    public void sparseColumnSums(Tensor values, Tensor indices, float alpha, Tensor out) {
        Sparse sp = sparse(values, indices, "sparseColumnSums");
        CudaTensor co = f32(out, "sparseColumnSums output");
        int n = Math.toIntExact(co.size());
        if (sp.entries() == 0) {
            return;
        }
        on(() -> {
            long padded = sortByLatent(sp, n, false, 4);
            launch(SPARSE, "sparse_column_sums", elementwiseBlocks(padded), 1, new KernelArgs()
                    .ptr(device.scratch(8 * padded)).i64(padded).ptr(sp.values.pointer()).f32(alpha)
                    .ptr(co.pointer()));
        });
    }

    @Override
    public void sparseColumnCountPositive(Tensor values, Tensor indices, Tensor out) {
        Sparse sp = sparse(values, indices, "sparseColumnCountPositive");
        CudaTensor co = f32(out, "sparseColumnCountPositive output");
        int n = Math.toIntExact(co.size());
        on(() -> launch(SPARSE, "sparse_column_count_positive", elementwiseBlocks(sp.entries()), 1, new KernelArgs()
                .ptr(sp.values.pointer()).ptr(sp.indices.pointer()).i64(sp.entries()).i32(n).ptr(co.pointer())
                .ptr(device.errorFlag())));
    }

    // ------------------------------------------------------------------ optimizer and constraints

    @Override
    public void adamW(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep step) {
        CudaTensor cp = f32(param, "adamW param");
        CudaTensor cg = f32(grad, "adamW grad");
        CudaTensor cm = f32(m, "adamW m");
        CudaTensor cv = f32(v, "adamW v");
        sameSize(cp, cg, "adamW grad");
        sameSize(cp, cm, "adamW m");
        sameSize(cp, cv, "adamW v");
        // The scalars exactly as JavaOps.adamW computes them.
        float decay = 1f - step.learningRate() * step.weightDecay();
        float oneMinusB1 = 1f - step.beta1();
        float b2 = step.beta2();
        float oneMinusB2 = 1f - b2;
        float stepSize = (float) (step.learningRate() / step.biasCorrection1());
        float bc2Sqrt = (float) Math.sqrt(step.biasCorrection2());
        on(() -> launch(ELEMENTWISE, "adamw", elementwiseBlocks(cp.size()), 1, new KernelArgs().ptr(cp.pointer())
                .ptr(cg.pointer()).ptr(cm.pointer()).ptr(cv.pointer()).f32(decay).f32(oneMinusB1).f32(b2)
                .f32(oneMinusB2).f32(stepSize).f32(bc2Sqrt).f32(step.eps()).i64(cp.size())));
    }

    @Override
    public void projectOutRowComponents(Tensor weights, Tensor grad) {
        CudaTensor cw = f32(weights, "projectOutRowComponents weights");
        CudaTensor cg = f32(grad, "projectOutRowComponents grad");
        shape(cg, cw.rows(), cw.cols(), "projectOutRowComponents grad");
        on(() -> launch(REDUCE, "project_out_row_components", cw.rows(), 1, new KernelArgs().ptr(cw.pointer())
                .ptr(cg.pointer()).i32(cw.cols())));
    }

    @Override
    public void normalizeRows(Tensor weights) {
        CudaTensor cw = f32(weights, "normalizeRows weights");
        on(() -> launch(REDUCE, "normalize_rows", cw.rows(), 1, new KernelArgs().ptr(cw.pointer()).i32(cw.cols())));
    }

    @Override
    public void addScaledRows(Tensor src, Tensor scales, float alpha, Tensor dst) {
        CudaTensor cs = f32(src, "addScaledRows source");
        CudaTensor cc = f32(scales, "addScaledRows scales");
        CudaTensor cd = f32(dst, "addScaledRows destination");
        int rows = cs.rows();
        int cols = cs.cols();
        length(cc, rows, "addScaledRows scales");
        shape(cd, rows, cols, "addScaledRows destination");
        if (cols == 0) {
            return;
        }
        on(() -> launch(ELEMENTWISE, "add_scaled_rows", elementwiseBlocks(cs.size()), 1, new KernelArgs()
                .ptr(cs.pointer()).ptr(cc.pointer()).f32(alpha).ptr(cd.pointer()).i32(cols).i64(cs.size())));
    }
}
