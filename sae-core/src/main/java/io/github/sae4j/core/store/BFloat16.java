package io.github.sae4j.core.store;

import java.util.Objects;

/**
 * bfloat16: the upper 16 bits of an IEEE float32 (sign, 8 exponent bits, 7 mantissa bits). Encoding rounds to
 * nearest, ties to even, as PyTorch and JAX do; decoding is exact.
 */
public final class BFloat16 {

    /** The largest finite bfloat16, 0x7F7F. */
    public static final float MAX_VALUE = 3.3895314E38f;

    /** float32 magnitudes (raw bits without the sign) at or above this round to infinity in bfloat16. */
    static final int OVERFLOW_BITS = 0x7F7F8000;

    private BFloat16() {
    }

    /** The bfloat16 nearest to {@code value} (ties to even); NaN stays NaN (quiet), infinities stay infinite. */
    public static short fromFloat(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) {
            // Truncation could clear every mantissa bit left and turn a NaN into infinity; set the quiet bit.
            return (short) ((bits >>> 16) | 0x0040);
        }
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    /** The float32 with the same value: exact. */
    public static float toFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    /** {@code value} rounded to the nearest bfloat16, as a float32. */
    public static float round(float value) {
        return toFloat(fromFloat(value));
    }

    /** Whether the bfloat16 is neither infinite nor NaN (its exponent bits are not all ones). */
    public static boolean isFinite(short bits) {
        return (bits & 0x7F80) != 0x7F80;
    }

    /** Encodes {@code count} floats from {@code src[srcOffset]} into {@code dst[dstOffset]}. */
    public static void fromFloat(float[] src, int srcOffset, short[] dst, int dstOffset, int count) {
        Objects.checkFromIndexSize(srcOffset, count, src.length);
        Objects.checkFromIndexSize(dstOffset, count, dst.length);
        for (int i = 0; i < count; i++) {
            dst[dstOffset + i] = fromFloat(src[srcOffset + i]);
        }
    }

    /** Decodes {@code count} bfloat16 values from {@code src[srcOffset]} into {@code dst[dstOffset]}. */
    public static void toFloat(short[] src, int srcOffset, float[] dst, int dstOffset, int count) {
        Objects.checkFromIndexSize(srcOffset, count, src.length);
        Objects.checkFromIndexSize(dstOffset, count, dst.length);
        for (int i = 0; i < count; i++) {
            dst[dstOffset + i] = Float.intBitsToFloat(src[srcOffset + i] << 16);
        }
    }

    /**
     * Rounds finite floats below the bfloat16 overflow threshold: {@code bits} gets the bfloat16 bits and
     * {@code rounded} their float32 values. Callers check the range first, so there is no NaN case and the loop
     * vectorizes.
     */
    static void encodeFinite(float[] src, int srcOffset, short[] bits, float[] rounded, int count) {
        for (int i = 0; i < count; i++) {
            int b = Float.floatToRawIntBits(src[srcOffset + i]);
            int r = (b + 0x7FFF + ((b >>> 16) & 1)) & 0xFFFF0000;
            rounded[i] = Float.intBitsToFloat(r);
            bits[i] = (short) (r >>> 16);
        }
    }

    /** Rounds {@code count} floats in place to their nearest bfloat16 values. */
    public static void round(float[] values, int offset, int count) {
        Objects.checkFromIndexSize(offset, count, values.length);
        for (int i = offset, end = offset + count; i < end; i++) {
            values[i] = round(values[i]);
        }
    }
}
