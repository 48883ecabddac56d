package io.github.sae4j.core.backend.java;

import io.github.sae4j.api.backend.WeightFormat;
import io.github.sae4j.api.backend.WeightMatrix;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code out = x * W^T} against a weight matrix kept in its file's format ({@link WeightFormat}), usually a slice
 * of a memory-mapped model file.
 *
 * <p>Weights are dequantized block by block into small buffers that stay in the caches, never into a full float
 * copy of the matrix. Many rows of {@code x} (prefill) go through {@link Sgemm#gemmPacked}: the weights are
 * dequantized straight into the packed panels of the GEMM, so the result equals {@link Sgemm#gemm} on the
 * dequantized matrix bit for bit. A few rows (decode) go through a matrix-vector loop that dequantizes one
 * weight row at a time into a buffer (bfloat16: converts it in registers) and dots it with every row of
 * {@code x}; it reads each weight byte once, which is what bounds decoding.
 *
 * <p>The dequantized values are exactly those of {@link WeightFormat#dequantize}; work is split over weight rows
 * in fixed chunks, so results do not depend on the thread count.
 */
public final class WeightKernels {

    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final int FL = FS.length();
    /** Shorts that widen to one float vector (bf16 conversion). */
    private static final VectorSpecies<Short> SS = FL >= 4
            ? VectorSpecies.of(short.class, VectorShape.forBitSize(Math.max(64, FS.vectorBitSize() / 2))) : null;
    private static final VectorSpecies<Integer> IS = IntVector.SPECIES_PREFERRED;
    /** Bytes that widen to one float vector (Q8_0); null where no such species exists. */
    private static final VectorSpecies<Byte> BS = FL >= 8
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(FS.vectorBitSize() / 4)) : null;
    private static final boolean VECTOR_BF16 = SS != null && SS.length() == FL;
    private static final boolean VECTOR_Q8 = BS != null && BS.length() == FL && 32 % FL == 0;
    private static final boolean VECTOR_Q4 = FL >= 4 && 16 % FL == 0;

    private static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT_LE =
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * At most this many rows of x take the matrix-vector path (set with {@code -Dsae4j.java.matvecMaxRows}).
     * Above it the GEMM's packing pays for itself.
     */
    static final int MATVEC_MAX_ROWS = Integer.getInteger("sae4j.java.matvecMaxRows", 8);
    /** Weight rows per matrix-vector task: fixed, so the split does not follow the thread count. */
    private static final int MATVEC_CHUNK = 64;

    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[2][0]);

    private WeightKernels() {
    }

    /**
     * {@code out[r * w.rows() + o] = sum_i x[r * w.cols() + i] * w[o, i]} for {@code r < n}.
     */
    public static void linear(WorkerPool pool, float[] x, int n, WeightMatrix w, float[] out) {
        int k = w.cols();
        int rows = w.rows();
        if ((long) n * k > x.length || (long) n * rows > out.length) {
            throw new IllegalArgumentException("linear: " + n + " rows of " + k + " inputs and " + rows
                    + " outputs do not fit arrays of " + x.length + " and " + out.length + " floats");
        }
        if (n == 0) {
            return;
        }
        if (n <= MATVEC_MAX_ROWS) {
            matvec(pool, x, n, w, out);
        } else {
            Sgemm.gemmPacked(pool, n, rows, k, x, 0, k, packer(w), w.format().blockSize(), out, 0, rows);
        }
    }

    /** A packer that dequantizes rows of {@code w} (the columns of {@code op(B) = W^T}) into GEMM panels. */
    public static Sgemm.PanelPacker packer(WeightMatrix w) {
        int nr = Sgemm.panelWidth();
        return (k0, kc, col0, cols, dst, offset) -> {
            float[] row = scratch(0, kc);
            for (int j = 0; j < cols; j++) {
                dequantize(w, col0 + j, k0, kc, row, 0);
                int d = offset + j;
                for (int p = 0; p < kc; p++) {
                    dst[d + p * nr] = row[p];
                }
            }
            for (int j = cols; j < nr; j++) {
                for (int p = 0; p < kc; p++) {
                    dst[offset + p * nr + j] = 0f;
                }
            }
        };
    }

    private static void matvec(WorkerPool pool, float[] x, int n, WeightMatrix w, float[] out) {
        int k = w.cols();
        int rows = w.rows();
        int tasks = (rows + MATVEC_CHUNK - 1) / MATVEC_CHUNK;
        WeightFormat format = w.format();
        boolean pairs = format == WeightFormat.BF16 && IS.length() == FL && k % 2 == 0;
        float[] split = pairs ? splitEvenOdd(x, n, k) : null;
        pool.run(tasks, t -> {
            int end = Math.min(rows, (t + 1) * MATVEC_CHUNK);
            if (pairs) {
                // bfloat16 converts in registers: one pass over the bytes, no buffer in between. The first row
                // of x pulls the weight row into the cache; the others find it there.
                MemorySegment data = w.data();
                long rowBytes = w.rowBytes();
                for (int o = t * MATVEC_CHUNK; o < end; o++) {
                    for (int r = 0; r < n; r++) {
                        out[r * rows + o] = dotBf16Pairs(split, r * k, data, o * rowBytes, k);
                    }
                }
                return;
            }
            float[] row = scratch(1, k);
            for (int o = t * MATVEC_CHUNK; o < end; o++) {
                dequantize(w, o, 0, k, row, 0);
                for (int r = 0; r < n; r++) {
                    out[r * rows + o] = dot(x, r * k, row, k);
                }
            }
        });
    }

    /** Dot product with four vector accumulators whose lanes are then added in lane order (see {@link Kernels#sumLanes}). */
    static float dot(float[] x, int xOffset, float[] y, int n) {
        FloatVector a0 = FloatVector.zero(FS);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int i = 0;
        for (; i <= n - 4 * FL; i += 4 * FL) {
            a0 = FloatVector.fromArray(FS, x, xOffset + i).fma(FloatVector.fromArray(FS, y, i), a0);
            a1 = FloatVector.fromArray(FS, x, xOffset + i + FL).fma(FloatVector.fromArray(FS, y, i + FL), a1);
            a2 = FloatVector.fromArray(FS, x, xOffset + i + 2 * FL).fma(FloatVector.fromArray(FS, y, i + 2 * FL), a2);
            a3 = FloatVector.fromArray(FS, x, xOffset + i + 3 * FL).fma(FloatVector.fromArray(FS, y, i + 3 * FL), a3);
        }
        for (; i <= n - FL; i += FL) {
            a0 = FloatVector.fromArray(FS, x, xOffset + i).fma(FloatVector.fromArray(FS, y, i), a0);
        }
        double s = Kernels.sumLanes(a0.add(a1).add(a2.add(a3)));
        for (; i < n; i++) {
            s += (double) x[xOffset + i] * y[i];
        }
        return (float) s;
    }

    /** Each row of x as its even elements followed by its odd ones (see {@link #dotBf16Pairs}). */
    private static float[] splitEvenOdd(float[] x, int n, int k) {
        float[] s = new float[n * k];
        int half = k / 2;
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < half; i++) {
                s[r * k + i] = x[r * k + 2 * i];
                s[r * k + half + i] = x[r * k + 2 * i + 1];
            }
        }
        return s;
    }

    /**
     * The dot product of a row of x, split into its even and odd elements ({@code xs[xOffset..]} holds the
     * {@code n / 2} even ones, then the odd ones), with a bfloat16 row in memory. Two bfloat16 values share an
     * int: the low one becomes a float by shifting left, the high one by clearing the low half, so each vector
     * load feeds two fused multiply-adds without any widening shuffle.
     */
    static float dotBf16Pairs(float[] xs, int xOffset, MemorySegment w, long at, int n) {
        int half = n / 2;
        FloatVector e0 = FloatVector.zero(FS);
        FloatVector o0 = e0;
        FloatVector e1 = e0;
        FloatVector o1 = e0;
        int i = 0;
        for (; i <= half - 2 * FL; i += 2 * FL) {
            IntVector v = IntVector.fromMemorySegment(IS, w, at + 4L * i, ByteOrder.LITTLE_ENDIAN);
            IntVector u = IntVector.fromMemorySegment(IS, w, at + 4L * (i + FL), ByteOrder.LITTLE_ENDIAN);
            e0 = FloatVector.fromArray(FS, xs, xOffset + i).fma(low(v), e0);
            o0 = FloatVector.fromArray(FS, xs, xOffset + half + i).fma(high(v), o0);
            e1 = FloatVector.fromArray(FS, xs, xOffset + i + FL).fma(low(u), e1);
            o1 = FloatVector.fromArray(FS, xs, xOffset + half + i + FL).fma(high(u), o1);
        }
        for (; i <= half - FL; i += FL) {
            IntVector v = IntVector.fromMemorySegment(IS, w, at + 4L * i, ByteOrder.LITTLE_ENDIAN);
            e0 = FloatVector.fromArray(FS, xs, xOffset + i).fma(low(v), e0);
            o0 = FloatVector.fromArray(FS, xs, xOffset + half + i).fma(high(v), o0);
        }
        return finishPairs(e0.add(e1), o0.add(o1), xs, xOffset, w, at, i, half);
    }

    private static FloatVector low(IntVector pairs) {
        return pairs.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static FloatVector high(IntVector pairs) {
        return pairs.lanewise(VectorOperators.AND, 0xffff0000).reinterpretAsFloats();
    }

    /** Adds the accumulators' lanes in order, then the pairs past the last full vector. */
    private static float finishPairs(FloatVector e, FloatVector o, float[] xs, int xOffset, MemorySegment w, long at,
                                     int from, int half) {
        double s = Kernels.sumLanes(e.add(o));
        for (int i = from; i < half; i++) {
            int pair = w.get(INT_LE, at + 4L * i);
            s += (double) xs[xOffset + i] * Float.intBitsToFloat(pair << 16)
                    + (double) xs[xOffset + half + i] * Float.intBitsToFloat(pair & 0xffff0000);
        }
        return (float) s;
    }

    /**
     * Dequantizes elements {@code [col0, col0 + count)} of row {@code row} into {@code dst[offset..]}: the same
     * values as {@link WeightFormat#dequantize}. For block formats {@code col0} is a multiple of the block size
     * and {@code count} is too, or reaches the end of the row.
     */
    public static void dequantize(WeightMatrix w, int row, int col0, int count, float[] dst, int offset) {
        WeightFormat f = w.format();
        MemorySegment data = w.data();
        long rowStart = row * w.rowBytes();
        switch (f) {
            case F32 -> MemorySegment.copy(data, FLOAT_LE, rowStart + 4L * col0, dst, offset, count);
            case BF16 -> bf16(data, rowStart + 2L * col0, dst, offset, count);
            case F16 -> {
                long at = rowStart + 2L * col0;
                for (int i = 0; i < count; i++) {
                    dst[offset + i] = Float.float16ToFloat(data.get(SHORT_LE, at + 2L * i));
                }
            }
            case Q8_0 -> q8(data, rowStart + 34L * (col0 / 32), dst, offset, count);
            case Q4_0 -> q4(data, rowStart + 18L * (col0 / 32), dst, offset, count);
        }
    }

    private static void bf16(MemorySegment data, long at, float[] dst, int offset, int count) {
        int i = 0;
        if (VECTOR_BF16) {
            for (; i <= count - FL; i += FL) {
                ShortVector h = ShortVector.fromMemorySegment(SS, data, at + 2L * i, ByteOrder.LITTLE_ENDIAN);
                ((IntVector) h.convertShape(VectorOperators.S2I, IS, 0)).lanewise(VectorOperators.LSHL, 16)
                        .reinterpretAsFloats().intoArray(dst, offset + i);
            }
        }
        for (; i < count; i++) {
            dst[offset + i] = Float.intBitsToFloat((data.get(SHORT_LE, at + 2L * i) & 0xffff) << 16);
        }
    }

    private static void q8(MemorySegment data, long at, float[] dst, int offset, int count) {
        for (int b = 0; b < count / 32; b++, at += 34) {
            float d = Float.float16ToFloat(data.get(SHORT_LE, at));
            int o = offset + 32 * b;
            if (VECTOR_Q8) {
                for (int j = 0; j < 32; j += FL) {
                    ((FloatVector) ByteVector.fromMemorySegment(BS, data, at + 2 + j, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.B2F, FS, 0)).mul(d).intoArray(dst, o + j);
                }
            } else {
                for (int j = 0; j < 32; j++) {
                    dst[o + j] = d * data.get(ValueLayout.JAVA_BYTE, at + 2 + j);
                }
            }
        }
    }

    private static void q4(MemorySegment data, long at, float[] dst, int offset, int count) {
        for (int b = 0; b < count / 32; b++, at += 18) {
            float d = Float.float16ToFloat(data.get(SHORT_LE, at));
            int o = offset + 32 * b;
            if (VECTOR_Q4) {
                ByteVector q = ByteVector.fromMemorySegment(ByteVector.SPECIES_128, data, at + 2,
                        ByteOrder.LITTLE_ENDIAN);
                ByteVector lo = q.and((byte) 0x0f).sub((byte) 8);
                ByteVector hi = q.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0f).sub((byte) 8);
                for (int part = 0; part < 16 / FL; part++) {
                    ((FloatVector) lo.convertShape(VectorOperators.B2F, FS, part)).mul(d).intoArray(dst, o + part * FL);
                    ((FloatVector) hi.convertShape(VectorOperators.B2F, FS, part)).mul(d)
                            .intoArray(dst, o + 16 + part * FL);
                }
            } else {
                for (int j = 0; j < 16; j++) {
                    int q = data.get(ValueLayout.JAVA_BYTE, at + 2 + j) & 0xff;
                    dst[o + j] = d * ((q & 0x0f) - 8);
                    dst[o + j + 16] = d * ((q >>> 4) - 8);
                }
            }
        }
    }

    private static float[] scratch(int which, int size) {
        float[][] s = SCRATCH.get();
        if (s[which].length < size) {
            s[which] = new float[size];
        }
        return s[which];
    }
}
