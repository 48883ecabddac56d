package io.github.sae4j.core.backend.java;

import java.util.Arrays;
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
        if (m < MR) {
            skinny(pool, transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
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

    /**
     * Fewer rows than a micro-tile (an SAE encoding one token while steering generation): packing all of B for one
     * row of A costs more than the product, and the micro-kernel would compute MR rows. Instead each thread takes
     * blocks of VL columns of C and runs their chains side by side in one vector over K in order, reading op(B)
     * in place. The arithmetic is the same FMA chain per element.
     *
     * <p>When B is transposed (the SAE's encoder rows), op(B)'s columns are stored rows: for one row of A with 16
     * lanes, 16 x 16 blocks are loaded row by row and transposed in registers ({@link #transposedBlock}), about
     * 55 us instead of 90 us for [1, 256] x [2048, 256]^T; other widths, 2-3 rows and the last {@code k % 16}
     * steps gather op(B)'s column from the stored rows instead.
     */
    private static void skinny(WorkerPool pool, boolean transA, boolean transB, int m, int n, int k,
                               float alpha, float[] a, int aOffset, int lda,
                               float[] b, int bOffset, int ldb,
                               float beta, float[] c, int cOffset, int ldc) {
        float[] rowsA = new float[m * k];
        for (int i = 0; i < m; i++) {
            for (int p = 0; p < k; p++) {
                rowsA[i * k + p] = transA ? a[aOffset + p * lda + i] : a[aOffset + i * lda + p];
            }
        }
        int[] stride = new int[VL];
        for (int r = 0; r < VL; r++) {
            stride[r] = r * ldb;
        }
        // Steps of K taken as transposed 16 x 16 blocks; the rest are gathered.
        int blockedK = transB && VL == 16 && m == 1 ? k - k % 16 : 0;
        int blocks = ceilDiv(n, VL);
        // Chunks of at least 64K multiply-adds, so the pool's hand-off stays small against the work.
        int grain = Math.max(1, (int) (65_536L / ((long) VL * k * m)));
        pool.forRange(blocks, grain, (b0, b1) -> {
            int j1 = Math.min(n, b1 * VL);
            float[] sums = new float[m * VL];
            int j = b0 * VL;
            for (; j + VL <= j1; j += VL) {
                Arrays.fill(sums, 0f);
                int base = bOffset + j * ldb;
                for (int p0 = 0; p0 < blockedK; p0 += 16) {
                    transposedBlock(b, base + p0, ldb, rowsA, p0, sums);
                }
                for (int i = 0; i < m; i++) {
                    int ai = i * k;
                    FloatVector acc = FloatVector.fromArray(SPECIES, sums, i * VL);
                    if (transB) {
                        for (int p = blockedK; p < k; p++) {
                            acc = FloatVector.fromArray(SPECIES, b, base + p, stride, 0)
                                    .fma(FloatVector.broadcast(SPECIES, rowsA[ai + p]), acc);
                        }
                    } else {
                        for (int p = 0; p < k; p++) {
                            acc = FloatVector.fromArray(SPECIES, b, bOffset + p * ldb + j)
                                    .fma(FloatVector.broadcast(SPECIES, rowsA[ai + p]), acc);
                        }
                    }
                    int row = cOffset + i * ldc;
                    if (beta == 0f) {
                        acc.mul(alpha).intoArray(c, row + j);
                    } else {
                        acc.fma(FloatVector.broadcast(SPECIES, alpha),
                                FloatVector.fromArray(SPECIES, c, row + j).mul(beta)).intoArray(c, row + j);
                    }
                }
            }
            for (; j < j1; j++) {
                for (int i = 0; i < m; i++) {
                    int ai = i * k;
                    float sum = 0f;
                    for (int p = 0; p < k; p++) {
                        sum = Math.fma(rowsA[ai + p], transB ? b[bOffset + j * ldb + p] : b[bOffset + p * ldb + j], sum);
                    }
                    int at = cOffset + i * ldc + j;
                    c[at] = beta == 0f ? sum * alpha : Math.fma(sum, alpha, beta * c[at]);
                }
            }
        });
    }

    /**
     * Indexes for {@code selectFrom(u, v)}: LO gives {@code u0 v0 u1 v1 ...} from the lower halves of u and v, HI
     * the same from the upper halves.
     */
    private static final FloatVector INTERLEAVE_LO;
    private static final FloatVector INTERLEAVE_HI;

    static {
        float[] lo = new float[VL];
        float[] hi = new float[VL];
        for (int l = 0; l < VL / 2; l++) {
            lo[2 * l] = l;
            lo[2 * l + 1] = VL + l;
            hi[2 * l] = VL / 2 + l;
            hi[2 * l + 1] = VL + VL / 2 + l;
        }
        INTERLEAVE_LO = FloatVector.fromArray(SPECIES, lo, 0);
        INTERLEAVE_HI = FloatVector.fromArray(SPECIES, hi, 0);
    }

    /**
     * Sixteen steps {@code p0 .. p0+15} of the chains of one row {@code a} of A with 16 columns whose B rows
     * start at {@code b[at]}, {@code b[at + ldb]}, ... (16 lanes only): loads the 16 x 16 block row by row and
     * transposes it with four rounds of interleaving rows r and r + 8 (each round rotates the 8-bit (row, lane)
     * index by one bit, so four rounds swap row and lane), then continues the chains in {@code sums} over op(B)'s
     * rows in order. Written out, with no loop, so that C2 keeps the 16 vectors in registers (vectors live across
     * a loop's back edge get boxed: with the rows of A as a loop it ran five times slower than the gather).
     */
    private static void transposedBlock(float[] b, int at, int ldb, float[] a, int p0, float[] sums) {
        FloatVector r0 = FloatVector.fromArray(SPECIES, b, at);
        FloatVector r1 = FloatVector.fromArray(SPECIES, b, at + 1 * ldb);
        FloatVector r2 = FloatVector.fromArray(SPECIES, b, at + 2 * ldb);
        FloatVector r3 = FloatVector.fromArray(SPECIES, b, at + 3 * ldb);
        FloatVector r4 = FloatVector.fromArray(SPECIES, b, at + 4 * ldb);
        FloatVector r5 = FloatVector.fromArray(SPECIES, b, at + 5 * ldb);
        FloatVector r6 = FloatVector.fromArray(SPECIES, b, at + 6 * ldb);
        FloatVector r7 = FloatVector.fromArray(SPECIES, b, at + 7 * ldb);
        FloatVector r8 = FloatVector.fromArray(SPECIES, b, at + 8 * ldb);
        FloatVector r9 = FloatVector.fromArray(SPECIES, b, at + 9 * ldb);
        FloatVector r10 = FloatVector.fromArray(SPECIES, b, at + 10 * ldb);
        FloatVector r11 = FloatVector.fromArray(SPECIES, b, at + 11 * ldb);
        FloatVector r12 = FloatVector.fromArray(SPECIES, b, at + 12 * ldb);
        FloatVector r13 = FloatVector.fromArray(SPECIES, b, at + 13 * ldb);
        FloatVector r14 = FloatVector.fromArray(SPECIES, b, at + 14 * ldb);
        FloatVector r15 = FloatVector.fromArray(SPECIES, b, at + 15 * ldb);
        FloatVector s0 = INTERLEAVE_LO.selectFrom(r0, r8);
        FloatVector s1 = INTERLEAVE_HI.selectFrom(r0, r8);
        FloatVector s2 = INTERLEAVE_LO.selectFrom(r1, r9);
        FloatVector s3 = INTERLEAVE_HI.selectFrom(r1, r9);
        FloatVector s4 = INTERLEAVE_LO.selectFrom(r2, r10);
        FloatVector s5 = INTERLEAVE_HI.selectFrom(r2, r10);
        FloatVector s6 = INTERLEAVE_LO.selectFrom(r3, r11);
        FloatVector s7 = INTERLEAVE_HI.selectFrom(r3, r11);
        FloatVector s8 = INTERLEAVE_LO.selectFrom(r4, r12);
        FloatVector s9 = INTERLEAVE_HI.selectFrom(r4, r12);
        FloatVector s10 = INTERLEAVE_LO.selectFrom(r5, r13);
        FloatVector s11 = INTERLEAVE_HI.selectFrom(r5, r13);
        FloatVector s12 = INTERLEAVE_LO.selectFrom(r6, r14);
        FloatVector s13 = INTERLEAVE_HI.selectFrom(r6, r14);
        FloatVector s14 = INTERLEAVE_LO.selectFrom(r7, r15);
        FloatVector s15 = INTERLEAVE_HI.selectFrom(r7, r15);
        FloatVector t0 = INTERLEAVE_LO.selectFrom(s0, s8);
        FloatVector t1 = INTERLEAVE_HI.selectFrom(s0, s8);
        FloatVector t2 = INTERLEAVE_LO.selectFrom(s1, s9);
        FloatVector t3 = INTERLEAVE_HI.selectFrom(s1, s9);
        FloatVector t4 = INTERLEAVE_LO.selectFrom(s2, s10);
        FloatVector t5 = INTERLEAVE_HI.selectFrom(s2, s10);
        FloatVector t6 = INTERLEAVE_LO.selectFrom(s3, s11);
        FloatVector t7 = INTERLEAVE_HI.selectFrom(s3, s11);
        FloatVector t8 = INTERLEAVE_LO.selectFrom(s4, s12);
        FloatVector t9 = INTERLEAVE_HI.selectFrom(s4, s12);
        FloatVector t10 = INTERLEAVE_LO.selectFrom(s5, s13);
        FloatVector t11 = INTERLEAVE_HI.selectFrom(s5, s13);
        FloatVector t12 = INTERLEAVE_LO.selectFrom(s6, s14);
        FloatVector t13 = INTERLEAVE_HI.selectFrom(s6, s14);
        FloatVector t14 = INTERLEAVE_LO.selectFrom(s7, s15);
        FloatVector t15 = INTERLEAVE_HI.selectFrom(s7, s15);
        FloatVector u0 = INTERLEAVE_LO.selectFrom(t0, t8);
        FloatVector u1 = INTERLEAVE_HI.selectFrom(t0, t8);
        FloatVector u2 = INTERLEAVE_LO.selectFrom(t1, t9);
        FloatVector u3 = INTERLEAVE_HI.selectFrom(t1, t9);
        FloatVector u4 = INTERLEAVE_LO.selectFrom(t2, t10);
        FloatVector u5 = INTERLEAVE_HI.selectFrom(t2, t10);
        FloatVector u6 = INTERLEAVE_LO.selectFrom(t3, t11);
        FloatVector u7 = INTERLEAVE_HI.selectFrom(t3, t11);
        FloatVector u8 = INTERLEAVE_LO.selectFrom(t4, t12);
        FloatVector u9 = INTERLEAVE_HI.selectFrom(t4, t12);
        FloatVector u10 = INTERLEAVE_LO.selectFrom(t5, t13);
        FloatVector u11 = INTERLEAVE_HI.selectFrom(t5, t13);
        FloatVector u12 = INTERLEAVE_LO.selectFrom(t6, t14);
        FloatVector u13 = INTERLEAVE_HI.selectFrom(t6, t14);
        FloatVector u14 = INTERLEAVE_LO.selectFrom(t7, t15);
        FloatVector u15 = INTERLEAVE_HI.selectFrom(t7, t15);
        FloatVector c0 = INTERLEAVE_LO.selectFrom(u0, u8);
        FloatVector c1 = INTERLEAVE_HI.selectFrom(u0, u8);
        FloatVector c2 = INTERLEAVE_LO.selectFrom(u1, u9);
        FloatVector c3 = INTERLEAVE_HI.selectFrom(u1, u9);
        FloatVector c4 = INTERLEAVE_LO.selectFrom(u2, u10);
        FloatVector c5 = INTERLEAVE_HI.selectFrom(u2, u10);
        FloatVector c6 = INTERLEAVE_LO.selectFrom(u3, u11);
        FloatVector c7 = INTERLEAVE_HI.selectFrom(u3, u11);
        FloatVector c8 = INTERLEAVE_LO.selectFrom(u4, u12);
        FloatVector c9 = INTERLEAVE_HI.selectFrom(u4, u12);
        FloatVector c10 = INTERLEAVE_LO.selectFrom(u5, u13);
        FloatVector c11 = INTERLEAVE_HI.selectFrom(u5, u13);
        FloatVector c12 = INTERLEAVE_LO.selectFrom(u6, u14);
        FloatVector c13 = INTERLEAVE_HI.selectFrom(u6, u14);
        FloatVector c14 = INTERLEAVE_LO.selectFrom(u7, u15);
        FloatVector c15 = INTERLEAVE_HI.selectFrom(u7, u15);
        // c0 .. c15 are op(B)'s rows p0 .. p0+15 over the 16 columns.
        FloatVector acc = FloatVector.fromArray(SPECIES, sums, 0);
        acc = c0.fma(FloatVector.broadcast(SPECIES, a[p0]), acc);
        acc = c1.fma(FloatVector.broadcast(SPECIES, a[p0 + 1]), acc);
        acc = c2.fma(FloatVector.broadcast(SPECIES, a[p0 + 2]), acc);
        acc = c3.fma(FloatVector.broadcast(SPECIES, a[p0 + 3]), acc);
        acc = c4.fma(FloatVector.broadcast(SPECIES, a[p0 + 4]), acc);
        acc = c5.fma(FloatVector.broadcast(SPECIES, a[p0 + 5]), acc);
        acc = c6.fma(FloatVector.broadcast(SPECIES, a[p0 + 6]), acc);
        acc = c7.fma(FloatVector.broadcast(SPECIES, a[p0 + 7]), acc);
        acc = c8.fma(FloatVector.broadcast(SPECIES, a[p0 + 8]), acc);
        acc = c9.fma(FloatVector.broadcast(SPECIES, a[p0 + 9]), acc);
        acc = c10.fma(FloatVector.broadcast(SPECIES, a[p0 + 10]), acc);
        acc = c11.fma(FloatVector.broadcast(SPECIES, a[p0 + 11]), acc);
        acc = c12.fma(FloatVector.broadcast(SPECIES, a[p0 + 12]), acc);
        acc = c13.fma(FloatVector.broadcast(SPECIES, a[p0 + 13]), acc);
        acc = c14.fma(FloatVector.broadcast(SPECIES, a[p0 + 14]), acc);
        acc = c15.fma(FloatVector.broadcast(SPECIES, a[p0 + 15]), acc);
        acc.intoArray(sums, 0);
    }

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
