package io.github.sae4j.core.backend.java;

/** bfloat16 conversions used by the java backend's BF16 tensors. */
final class Bf16 {

    private Bf16() {
    }

    /** Round to nearest even; NaN stays a (quiet) NaN. */
    static short fromFloat(float v) {
        int bits = Float.floatToRawIntBits(v);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    static float toFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }
}
