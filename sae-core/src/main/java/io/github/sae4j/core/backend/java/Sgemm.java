package io.github.sae4j.core.backend.java;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision dense matrix multiply, {@code C = alpha * op(A) * op(B) + beta * C}, on row-major arrays.
 *
 * <p>Large products use the GotoBLAS/BLIS scheme: A and B are packed into contiguous panels sized for the caches
 * and a register-blocked FMA micro-kernel computes {@value #MR} rows by two vectors of columns of C at a time.
 *
 * <p>Every element of C is one chain of fused multiply-adds over {@code p = 0 .. k-1} in order, started from
 * zero, then {@code C = sum * alpha} (beta == 0) or {@code C = fma(sum, alpha, beta * C)}. Blocking over K only
 * pauses the chain (the running sums wait in a buffer), and the work is split over M and N, so results are
 * bit-for-bit the same for any {@link WorkerPool} size, and the small-product path gives the same bits too.
 */
public final class Sgemm {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int VL = SPECIES.length();
    /** One k-step of a packed A panel: exactly MR = 4 floats. */
    private static final VectorSpecies<Float> PANEL_A = FloatVector.SPECIES_128;

    /**
     * Micro-tile rows. 4 rows x 2 vectors is eight accumulators: enough to hide FMA latency, and few enough that
     * C2 keeps them all in registers (6 x 2 and 4 x 3 spill one accumulator and run at half speed).
     */
    static final int MR = 4;
    /** Micro-tile columns: two vectors. */
    static final int NR = 2 * VL;
    /**
     * Longest K block. A whole 768-long K in one block writes C once, which matters when C is far larger than the
     * caches (the SAE encoder); the KC x NR panel of B (48 KiB) then streams from L2 while A stays in L1.
     */
    static final int KC = 768;
    /** M block: an MC x KC block of packed A (384 KiB) stays in L2. */
    static final int MC = 128;
    /** N block: a KC x NC block of packed B (6 MiB) stays in L3. */
    static final int NC = 2048;
    /** Tasks per thread to aim for, so a thread slowed by other work does not hold up the rest. */
    private static final int TASKS_PER_THREAD = 4;
    /** Tiles are split no smaller than this, so each packed panel feeds many micro-kernel calls. */
    private static final int MIN_TILE = 64;
    /** With several K blocks a task keeps its running sums; this bounds that buffer (floats: 4 MiB). */
    private static final int MAX_SUMS = 1 << 20;
    /** Below this many multiply-adds the packing costs more than it saves. */
    private static final long SMALL = 64L * 64 * 64;

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    private Sgemm() {
    }

    /**
     * C = alpha * op(A) * op(B) + beta * C, row-major; op(A) is m x k, op(B) is k x n. With beta == 0, C's old
     * contents are ignored (NaN in C does not propagate).
     *
     * <p>Element (i, j) of a non-transposed A is {@code a[aOffset + i * lda + j]}; a transposed A is stored k x m,
     * so op(A)(i, p) is {@code a[aOffset + p * lda + i]}. The same holds for B. With alpha == 0 or k == 0, A and B
     * are not read and C becomes beta * C.
     *
     * <p>Each thread that runs a task keeps its packing buffers (up to about 11 MB) for later calls.
     */
    public static void gemm(WorkerPool pool, boolean transA, boolean transB, int m, int n, int k,
                            float alpha, float[] a, int aOffset, int lda,
                            float[] b, int bOffset, int ldb,
                            float beta, float[] c, int cOffset, int ldc) {
        checkArguments(transA, transB, m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc);
        if (m == 0 || n == 0) {
            return;
        }
        if (alpha == 0f || k == 0) {
            scale(m, n, beta, c, cOffset, ldc);
            return;
        }
        if ((long) m * n * k < SMALL) {
            small(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
            return;
        }
        Product p = new Product(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb,
                beta, c, cOffset, ldc, null, 1);
        runTiles(pool, p, m, n, k);
    }

    /** Splits C into tiles and runs them on the pool. */
    private static void runTiles(WorkerPool pool, Product p, int m, int n, int k) {
        // Tiles change only which thread computes an element, never its arithmetic. Each task packs its own
        // panels: B is repacked once per tile row and A once per tile column, so tiles are kept about square
        // and only split until every thread has a few tasks.
        int tilesN = ceilDiv(n, NC);
        int tilesM = k > KC ? ceilDiv(m, MAX_SUMS / roundUp(ceilDiv(n, tilesN), NR)) : 1;
        int tasks = Math.max(8, TASKS_PER_THREAD * pool.threads());
        while (tilesM * tilesN < tasks) {
            int tileM = ceilDiv(m, tilesM);
            int tileN = ceilDiv(n, tilesN);
            if (tileM >= tileN && tileM >= 2 * MIN_TILE) {
                tilesM++;
            } else if (tileN >= 2 * MIN_TILE) {
                tilesN++;
            } else if (tileM >= 2 * MIN_TILE) {
                tilesM++;
            } else {
                break;
            }
        }
        int tileM = roundUp(ceilDiv(m, tilesM), MR);
        int tileN = roundUp(ceilDiv(n, tilesN), NR);
        tilesM = ceilDiv(m, tileM);
        tilesN = ceilDiv(n, tileN);
        int columns = tilesN;
        pool.run(tilesM * tilesN, t -> {
            int i0 = (t / columns) * tileM;
            int j0 = (t % columns) * tileN;
            p.computeTile(i0, Math.min(m, i0 + tileM), j0, Math.min(n, j0 + tileN));
        });
    }

    /**
     * Writes a K-major panel of {@code op(B)} for {@link #gemmPacked}: for {@code p < kc} and {@code j < NR},
     * {@code dst[offset + p * NR + j] = op(B)(k0 + p, col0 + j)} for {@code j < cols}, and zero for the padding
     * columns {@code cols <= j < NR}. {@code k0} and {@code kc} are multiples of the alignment the caller gave
     * (or {@code kc} reaches the end of K).
     */
    @FunctionalInterface
    public interface PanelPacker {
        void pack(int k0, int kc, int col0, int cols, float[] dst, int offset);
    }

    /** Columns per packed panel of B: the width {@link PanelPacker#pack} writes. */
    public static int panelWidth() {
        return NR;
    }

    /**
     * {@code C = A * op(B)} where {@code A} is an {@code m x k} row-major array and {@code op(B)}, {@code k x n},
     * is never read directly: {@code packer} writes its panels, for example by dequantizing rows of a weight
     * matrix. K blocks start at multiples of {@code kAlign} (a quantization block size). Each element of C is the
     * same fused multiply-add chain as in {@link #gemm}, so the result equals {@code gemm} on the materialized B
     * bit for bit, for any pool size.
     */
    public static void gemmPacked(WorkerPool pool, int m, int n, int k, float[] a, int aOffset, int lda,
                                  PanelPacker packer, int kAlign, float[] c, int cOffset, int ldc) {
        if (m < 0 || n < 0 || k <= 0 || kAlign < 1) {
            throw new IllegalArgumentException("gemmPacked sizes must be m, n >= 0, k, kAlign >= 1, got m=" + m
                    + ", n=" + n + ", k=" + k + ", kAlign=" + kAlign);
        }
        checkMatrix("A", a, aOffset, lda, m, k, false);
        checkMatrix("C", c, cOffset, ldc, m, n, false);
        if (m == 0 || n == 0) {
            return;
        }
        Product p = new Product(false, true, m, n, k, 1f, a, aOffset, lda, null, 0, 0, 0f, c, cOffset, ldc,
                packer, kAlign);
        runTiles(pool, p, m, n, k);
    }

    /**
     * The slow, obvious twin of {@link #gemm}: a triple loop that sums in double. Tests compare against it.
     */
    public static void reference(boolean transA, boolean transB, int m, int n, int k,
                                 float alpha, float[] a, int aOffset, int lda,
                                 float[] b, int bOffset, int ldb,
                                 float beta, float[] c, int cOffset, int ldc) {
        checkArguments(transA, transB, m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    float aip = transA ? a[aOffset + p * lda + i] : a[aOffset + i * lda + p];
                    float bpj = transB ? b[bOffset + j * ldb + p] : b[bOffset + p * ldb + j];
                    sum += (double) aip * bpj;
                }
                int ij = cOffset + i * ldc + j;
                double old = beta == 0f ? 0 : (double) beta * c[ij];
                c[ij] = (float) (alpha == 0f || k == 0 ? old : alpha * sum + old);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------

    /** One call's operands, shared read-only by the tasks. */
    private record Product(boolean transA, boolean transB, int m, int n, int k,
                           float alpha, float[] a, int aOffset, int lda,
                           float[] b, int bOffset, int ldb,
                           float beta, float[] c, int cOffset, int ldc,
                           PanelPacker packer, int kAlign) {

        /** Computes rows [i0, i1) by columns [j0, j1) of C, looping over K blocks in a fixed order. */
        void computeTile(int i0, int i1, int j0, int j1) {
            Buffers buf = BUFFERS.get();
            int kBlocks = ceilDiv(k, KC);
            int kcMax = Math.min(k, roundUp(ceilDiv(k, kBlocks), kAlign));
            for (int jc = j0; jc < j1; jc += NC) {
                int nc = Math.min(NC, j1 - jc);
                // With one K block the sums go straight to C; otherwise they wait, in the order the micro-kernel
                // visits them, so reading them back streams through memory instead of missing on rows of C.
                float[] sums = kBlocks == 1 ? buf.tile : buf.sums(roundUp(i1 - i0, MR) * roundUp(nc, NR));
                for (int pc = 0; pc < k; pc += kcMax) {
                    int kc = Math.min(kcMax, k - pc);
                    float[] bp = buf.packedB(kc * roundUp(nc, NR));
                    packB(pc, kc, jc, nc, bp);
                    for (int ic = i0; ic < i1; ic += MC) {
                        int mc = Math.min(MC, i1 - ic);
                        float[] ap = buf.packedA(kc * roundUp(mc, MR));
                        packA(ic, mc, pc, kc, ap);
                        int sumsBase = kBlocks == 1 ? -1 : (ic - i0) * roundUp(nc, NR);
                        macroKernel(ic, mc, jc, nc, kc, ap, bp, sums, sumsBase, pc > 0, pc + kc == k);
                    }
                }
            }
        }

        /**
         * Runs the micro-kernel over an mc x nc block: each NR-column panel of B is reused across all of A's
         * panels. sumsBase < 0 means one K block: sums land in a single scratch tile.
         */
        private void macroKernel(int ic, int mc, int jc, int nc, int kc, float[] ap, float[] bp, float[] sums,
                                 int sumsBase, boolean resume, boolean last) {
            int mcPad = roundUp(mc, MR);
            for (int jr = 0; jr < nc; jr += NR) {
                int nr = Math.min(NR, nc - jr);
                for (int ir = 0; ir < mc; ir += MR) {
                    int mr = Math.min(MR, mc - ir);
                    int s = sumsBase < 0 ? 0 : sumsBase + jr * mcPad + ir * NR;
                    kernel(kc, ap, ir * kc, bp, jr * kc, sums, s, resume);
                    if (last) {
                        int cIdx = cOffset + (ic + ir) * ldc + jc + jr;
                        if (mr == MR && nr == NR) {
                            storeFull(sums, s, c, cIdx, ldc, alpha, beta);
                        } else {
                            storeEdge(sums, s, c, cIdx, ldc, mr, nr, alpha, beta);
                        }
                    }
                }
            }
        }

        /** Packs rows [ic, ic + mc) by K columns [pc, pc + kc) of op(A) as MR-row panels, K-major, zero-padded. */
        private void packA(int ic, int mc, int pc, int kc, float[] ap) {
            int full = mc / MR * MR;
            if (transA) {
                // Stored rows are K: read each once, front to back, and deal its values out to the panels.
                for (int p = 0; p < kc; p++) {
                    int src = aOffset + (pc + p) * lda + ic;
                    int d = p * MR;
                    for (int ir = 0; ir < full; ir += MR, d += kc * MR) {
                        FloatVector.fromArray(PANEL_A, a, src + ir).intoArray(ap, d);
                    }
                    if (full < mc) {
                        for (int r = 0; r < MR; r++) {
                            ap[d + r] = full + r < mc ? a[src + full + r] : 0f;
                        }
                    }
                }
                return;
            }
            for (int ir = 0; ir < mc; ir += MR) {
                int dst = ir * kc;
                for (int r = 0; r < MR; r++) {
                    if (ir + r < mc) {
                        int src = aOffset + (ic + ir + r) * lda + pc;
                        for (int p = 0; p < kc; p++) {
                            ap[dst + p * MR + r] = a[src + p];
                        }
                    } else {
                        for (int p = 0; p < kc; p++) {
                            ap[dst + p * MR + r] = 0f;
                        }
                    }
                }
            }
        }

        /** Packs K rows [pc, pc + kc) by columns [jc, jc + nc) of op(B) as NR-column panels, K-major, zero-padded. */
        private void packB(int pc, int kc, int jc, int nc, float[] bp) {
            for (int jr = 0; jr < nc; jr += NR) {
                int nr = Math.min(NR, nc - jr);
                int dst = jr * kc;
                if (packer != null) {
                    packer.pack(pc, kc, jc + jr, nr, bp, dst);
                } else if (!transB) {
                    if (nr == NR) {
                        for (int p = 0; p < kc; p++) {
                            int src = bOffset + (pc + p) * ldb + jc + jr;
                            FloatVector.fromArray(SPECIES, b, src).intoArray(bp, dst + p * NR);
                            FloatVector.fromArray(SPECIES, b, src + VL).intoArray(bp, dst + p * NR + VL);
                        }
                    } else {
                        for (int p = 0; p < kc; p++) {
                            int src = bOffset + (pc + p) * ldb + jc + jr;
                            int d = dst + p * NR;
                            for (int j = 0; j < nr; j++) {
                                bp[d + j] = b[src + j];
                            }
                            for (int j = nr; j < NR; j++) {
                                bp[d + j] = 0f;
                            }
                        }
                    }
                } else {
                    for (int j = 0; j < nr; j++) {
                        int src = bOffset + (jc + jr + j) * ldb + pc;
                        for (int p = 0; p < kc; p++) {
                            bp[dst + p * NR + j] = b[src + p];
                        }
                    }
                    for (int j = nr; j < NR; j++) {
                        for (int p = 0; p < kc; p++) {
                            bp[dst + p * NR + j] = 0f;
                        }
                    }
                }
            }
        }
    }

    /**
     * The 4 x 2-vector micro-kernel: sums[s ..] (MR rows of NR) += A panel * B panel over kc steps, or = when not
     * resuming. The eight accumulators stay in registers across the K loop.
     */
    private static void kernel(int kc, float[] ap, int aIdx, float[] bp, int bIdx, float[] sums, int s,
                               boolean resume) {
        FloatVector c00;
        FloatVector c01;
        FloatVector c10;
        FloatVector c11;
        FloatVector c20;
        FloatVector c21;
        FloatVector c30;
        FloatVector c31;
        if (resume) {
            c00 = FloatVector.fromArray(SPECIES, sums, s);
            c01 = FloatVector.fromArray(SPECIES, sums, s + VL);
            c10 = FloatVector.fromArray(SPECIES, sums, s + NR);
            c11 = FloatVector.fromArray(SPECIES, sums, s + NR + VL);
            c20 = FloatVector.fromArray(SPECIES, sums, s + 2 * NR);
            c21 = FloatVector.fromArray(SPECIES, sums, s + 2 * NR + VL);
            c30 = FloatVector.fromArray(SPECIES, sums, s + 3 * NR);
            c31 = FloatVector.fromArray(SPECIES, sums, s + 3 * NR + VL);
        } else {
            c00 = FloatVector.zero(SPECIES);
            c01 = c00;
            c10 = c00;
            c11 = c00;
            c20 = c00;
            c21 = c00;
            c30 = c00;
            c31 = c00;
        }
        for (int p = 0; p < kc; p++) {
            int bi = bIdx + p * NR;
            int ai = aIdx + p * MR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, bp, bi);
            FloatVector b1 = FloatVector.fromArray(SPECIES, bp, bi + VL);
            FloatVector av = FloatVector.broadcast(SPECIES, ap[ai]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(SPECIES, ap[ai + 1]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(SPECIES, ap[ai + 2]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(SPECIES, ap[ai + 3]);
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
        }
        c00.intoArray(sums, s);
        c01.intoArray(sums, s + VL);
        c10.intoArray(sums, s + NR);
        c11.intoArray(sums, s + NR + VL);
        c20.intoArray(sums, s + 2 * NR);
        c21.intoArray(sums, s + 2 * NR + VL);
        c30.intoArray(sums, s + 3 * NR);
        c31.intoArray(sums, s + 3 * NR + VL);
    }

    /** C = sum * alpha, or fma(sum, alpha, beta * C), for a full micro-tile. */
    private static void storeFull(float[] sums, int s, float[] c, int cIdx, int ldc, float alpha, float beta) {
        FloatVector av = FloatVector.broadcast(SPECIES, alpha);
        for (int r = 0; r < MR; r++) {
            int row = cIdx + r * ldc;
            for (int j = 0; j < NR; j += VL) {
                FloatVector sum = FloatVector.fromArray(SPECIES, sums, s + r * NR + j);
                FloatVector out = beta == 0f ? sum.mul(av)
                        : sum.fma(av, FloatVector.fromArray(SPECIES, c, row + j).mul(beta));
                out.intoArray(c, row + j);
            }
        }
    }

    /** The same update as {@link #storeFull}, element by element, for the part of an edge tile inside C. */
    private static void storeEdge(float[] sums, int s, float[] c, int cIdx, int ldc, int mr, int nr, float alpha,
                                  float beta) {
        for (int r = 0; r < mr; r++) {
            int row = cIdx + r * ldc;
            for (int j = 0; j < nr; j++) {
                float sum = sums[s + r * NR + j];
                c[row + j] = beta == 0f ? sum * alpha : Math.fma(sum, alpha, beta * c[row + j]);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------

    /** Small products: one pass per row of C with the K loop outermost, no packing. */
    private static void small(boolean transA, boolean transB, int m, int n, int k,
                              float alpha, float[] a, int aOffset, int lda,
                              float[] b, int bOffset, int ldb,
                              float beta, float[] c, int cOffset, int ldc) {
        float[] acc = new float[n];
        for (int i = 0; i < m; i++) {
            java.util.Arrays.fill(acc, 0f);
            for (int p = 0; p < k; p++) {
                float aip = transA ? a[aOffset + p * lda + i] : a[aOffset + i * lda + p];
                if (transB) {
                    for (int j = 0; j < n; j++) {
                        acc[j] = Math.fma(aip, b[bOffset + j * ldb + p], acc[j]);
                    }
                } else {
                    int row = bOffset + p * ldb;
                    for (int j = 0; j < n; j++) {
                        acc[j] = Math.fma(aip, b[row + j], acc[j]);
                    }
                }
            }
            int row = cOffset + i * ldc;
            for (int j = 0; j < n; j++) {
                c[row + j] = beta == 0f ? acc[j] * alpha : Math.fma(acc[j], alpha, beta * c[row + j]);
            }
        }
    }

    private static void scale(int m, int n, float beta, float[] c, int cOffset, int ldc) {
        for (int i = 0; i < m; i++) {
            int row = cOffset + i * ldc;
            for (int j = 0; j < n; j++) {
                c[row + j] = beta == 0f ? 0f : beta * c[row + j];
            }
        }
    }

    private static void checkArguments(boolean transA, boolean transB, int m, int n, int k,
                                       float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
                                       float[] c, int cOffset, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("gemm sizes must be >= 0, got m=" + m + ", n=" + n + ", k=" + k);
        }
        checkMatrix("A", a, aOffset, lda, transA ? k : m, transA ? m : k, transA);
        checkMatrix("B", b, bOffset, ldb, transB ? n : k, transB ? k : n, transB);
        checkMatrix("C", c, cOffset, ldc, m, n, false);
    }

    private static void checkMatrix(String name, float[] x, int offset, int ld, int rows, int cols,
                                    boolean transposed) {
        String what = name + (transposed ? " (stored transposed, " : " (") + rows + " x " + cols + ")";
        if (ld < cols) {
            throw new IllegalArgumentException("ld" + name.toLowerCase() + "=" + ld + " of " + what
                    + " is less than its row length " + cols + "; pass a leading dimension >= the row length");
        }
        if (rows == 0 || cols == 0) {
            return;
        }
        long last = (long) offset + (long) (rows - 1) * ld + cols;
        if (x == null || offset < 0 || last > x.length) {
            throw new IllegalArgumentException(name.toLowerCase() + " of length " + (x == null ? "null" : x.length)
                    + " is too short for " + what + " at offset " + offset + " with ld" + name.toLowerCase() + "="
                    + ld + ": needs " + last + " elements");
        }
    }

    private static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
    }

    private static int roundUp(int x, int multiple) {
        return (x + multiple - 1) / multiple * multiple;
    }

    /** Per-thread packing buffers, grown on demand and reused across calls. */
    private static final class Buffers {
        private float[] a = new float[0];
        private float[] b = new float[0];
        private float[] sums = new float[0];
        final float[] tile = new float[MR * NR];

        float[] packedA(int size) {
            if (a.length < size) {
                a = new float[size];
            }
            return a;
        }

        float[] packedB(int size) {
            if (b.length < size) {
                b = new float[size];
            }
            return b;
        }

        float[] sums(int size) {
            if (sums.length < size) {
                sums = new float[size];
            }
            return sums;
        }
    }
}
