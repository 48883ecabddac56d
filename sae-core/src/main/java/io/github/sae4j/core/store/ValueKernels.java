package io.github.sae4j.core.store;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ShortBuffer;

/**
 * The loops that move stored values out of Arrow buffers, checking that every value is finite on the way.
 * Uses the Vector API ({@link VectorValueKernels}) when the {@code jdk.incubator.vector} module is present, as it is in
 * every sae4j process, and plain loops otherwise; tests check that both give the same result.
 */
final class ValueKernels {

    /** Whether the Vector API path is used; {@code -Dsae4j.store.scalar=true} forces the plain loops. */
    static final boolean VECTORIZED = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
            && !Boolean.getBoolean("sae4j.store.scalar");

    /** Values per bulk copy in the plain path: the scratch stays in the L1 cache. */
    static final int SCRATCH = 8192;

    private ValueKernels() {
    }

    /**
     * Decodes {@code n} values from {@code src} (little-endian bfloat16 from its byte 0) into {@code dst}.
     *
     * @param scratch at least {@link #SCRATCH} shorts, used by the plain path
     * @return whether every value was finite (the values are decoded either way)
     */
    static boolean decode(ByteBuffer src, float[] dst, int dstOffset, int n, short[] scratch) {
        if (VECTORIZED) {
            return VectorValueKernels.decode(MemorySegment.ofBuffer(src), dst, dstOffset, n);
        }
        return decodePlain(src, dst, dstOffset, n, scratch);
    }

    static boolean decodePlain(ByteBuffer src, float[] dst, int dstOffset, int n, short[] scratch) {
        ShortBuffer bits = src.asShortBuffer();
        int exponentAllOnes = 0;
        for (int done = 0; done < n; done += SCRATCH) {
            int m = Math.min(SCRATCH, n - done);
            bits.get(done, scratch, 0, m);
            int base = dstOffset + done;
            for (int i = 0; i < m; i++) {
                int b = scratch[i];
                // (b & 0x7F80) + 0x80 reaches 0x8000 only when the exponent bits are all ones (inf or NaN).
                exponentAllOnes |= (b & 0x7F80) + 0x80;
                dst[base + i] = Float.intBitsToFloat(b << 16);
            }
        }
        return (exponentAllOnes & 0x8000) == 0;
    }

    /**
     * Copies {@code n} stored values from {@code src} into {@code dst} as bits.
     *
     * @return whether every value is finite
     */
    static boolean copyBits(ByteBuffer src, short[] dst, int dstOffset, int n) {
        if (VECTORIZED) {
            return VectorValueKernels.copyBits(MemorySegment.ofBuffer(src), dst, dstOffset, n);
        }
        src.asShortBuffer().get(0, dst, dstOffset, n);
        return VECTORIZED ? VectorValueKernels.allFinite(dst, dstOffset, n) : allFinitePlain(dst, dstOffset, n);
    }

    /** Decodes {@code n} bfloat16 values from an array (already checked when it was loaded). */
    static void decode(short[] src, int srcOffset, float[] dst, int dstOffset, int n) {
        if (VECTORIZED) {
            VectorValueKernels.decode(src, srcOffset, dst, dstOffset, n);
        } else {
            BFloat16.toFloat(src, srcOffset, dst, dstOffset, n);
        }
    }

    static boolean allFinitePlain(short[] bits, int offset, int n) {
        int exponentAllOnes = 0;
        for (int i = offset, end = offset + n; i < end; i++) {
            exponentAllOnes |= (bits[i] & 0x7F80) + 0x80;
        }
        return (exponentAllOnes & 0x8000) == 0;
    }

    /** Whether every float is finite. */
    static boolean allFinite(float[] values, int offset, int n) {
        if (VECTORIZED) {
            return VectorValueKernels.allFinite(values, offset, n);
        }
        int exponentAllOnes = 0;
        for (int i = offset, end = offset + n; i < end; i++) {
            // The sum overflows into the sign bit only when the exponent bits are all ones (inf or NaN).
            exponentAllOnes |= (Float.floatToRawIntBits(values[i]) & 0x7F800000) + 0x00800000;
        }
        return exponentAllOnes >= 0;
    }

    static int firstNonFinite(float[] values, int offset, int n) {
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(values[offset + i])) {
                return i;
            }
        }
        return -1;
    }

    /** The index of the first value that is not finite, or -1: the slow path after a check failed. */
    static int firstNonFinite(short[] bits, int offset, int n) {
        for (int i = 0; i < n; i++) {
            if (!BFloat16.isFinite(bits[offset + i])) {
                return i;
            }
        }
        return -1;
    }

    static int firstNonFinite(ByteBuffer src, int n) {
        ShortBuffer bits = src.asShortBuffer();
        for (int i = 0; i < n; i++) {
            if (!BFloat16.isFinite(bits.get(i))) {
                return i;
            }
        }
        return -1;
    }
}
