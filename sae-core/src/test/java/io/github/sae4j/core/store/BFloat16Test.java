package io.github.sae4j.core.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BFloat16Test {

    private static short encode(int floatBits) {
        return BFloat16.fromFloat(Float.intBitsToFloat(floatBits));
    }

    @Test
    void exactValuesRoundTrip() {
        for (float v : new float[] {0f, 1f, -1f, 0.5f, 3f, -2.75f, 256f, BFloat16.MAX_VALUE, -BFloat16.MAX_VALUE}) {
            assertThat(BFloat16.toFloat(BFloat16.fromFloat(v))).as("%s", v).isEqualTo(v);
        }
        assertThat(BFloat16.fromFloat(-0f)).as("negative zero keeps its sign").isEqualTo((short) 0x8000);
    }

    @Test
    void tiesRoundToEven() {
        // 1.0 is 0x3F800000; the bfloat16 ulp there is 0x10000 in float bits, half an ulp is 0x8000.
        assertThat(encode(0x3F808000)).as("tie, lower neighbour even: down").isEqualTo((short) 0x3F80);
        assertThat(encode(0x3F818000)).as("tie, lower neighbour odd: up").isEqualTo((short) 0x3F82);
        assertThat(encode(0x3F807FFF)).as("just below a tie: down").isEqualTo((short) 0x3F80);
        assertThat(encode(0x3F808001)).as("just above a tie: up").isEqualTo((short) 0x3F81);
        assertThat(encode(0xBF818000)).as("negative tie, odd: away from zero").isEqualTo((short) 0xBF82);
        assertThat(encode(0x3FFF8000)).as("a tie that carries into the exponent").isEqualTo((short) 0x4000);
    }

    @Test
    void subnormalsRoundLikeNormals() {
        assertThat(encode(0x00000001)).as("smallest float subnormal rounds to zero").isEqualTo((short) 0x0000);
        assertThat(encode(0x00008000)).as("tie at zero stays even").isEqualTo((short) 0x0000);
        assertThat(encode(0x00018000)).as("tie above an odd subnormal").isEqualTo((short) 0x0002);
        assertThat(encode(0x00010000)).as("a bfloat16 subnormal is exact").isEqualTo((short) 0x0001);
        assertThat(BFloat16.toFloat((short) 0x0001)).isEqualTo(Float.intBitsToFloat(0x00010000));
        assertThat(encode(0x007FFFFF)).as("largest float subnormal rounds up to the smallest normal")
                .isEqualTo((short) 0x0080);
    }

    @Test
    void infinitiesAndOverflow() {
        assertThat(BFloat16.fromFloat(Float.POSITIVE_INFINITY)).isEqualTo((short) 0x7F80);
        assertThat(BFloat16.fromFloat(Float.NEGATIVE_INFINITY)).isEqualTo((short) 0xFF80);
        assertThat(BFloat16.toFloat((short) 0x7F80)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(BFloat16.toFloat((short) 0xFF80)).isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(BFloat16.toFloat((short) 0x7F7F)).isEqualTo(BFloat16.MAX_VALUE);
        assertThat(encode(0x7F7F7FFF)).as("below the overflow tie: the largest finite").isEqualTo((short) 0x7F7F);
        assertThat(encode(BFloat16.OVERFLOW_BITS)).as("the overflow tie rounds to even, which is infinity")
                .isEqualTo((short) 0x7F80);
        assertThat(BFloat16.fromFloat(Float.MAX_VALUE)).isEqualTo((short) 0x7F80);
        assertThat(BFloat16.fromFloat(-Float.MAX_VALUE)).isEqualTo((short) 0xFF80);
        assertThat(BFloat16.isFinite((short) 0x7F7F)).isTrue();
        assertThat(BFloat16.isFinite((short) 0x7F80)).isFalse();
    }

    @Test
    void nanStaysNan() {
        assertThat(BFloat16.toFloat(BFloat16.fromFloat(Float.NaN))).isNaN();
        assertThat(encode(0x7F800001)).as("a NaN whose payload is all in the dropped bits").isEqualTo((short) 0x7FC0);
        assertThat(BFloat16.toFloat(encode(0xFF800001))).isNaN();
        assertThat(encode(0xFFC00000)).isEqualTo((short) 0xFFC0);
        assertThat(BFloat16.isFinite(encode(0x7FFFFFFF))).isFalse();
    }

    @Test
    void matchesNearestNeighbourReferenceOnRandomFloats() {
        SplittableRandom random = new SplittableRandom(11);
        for (int n = 0; n < 500_000; n++) {
            int bits = random.nextInt();
            if ((bits & 0x7FFFFFFF) > 0x7F800000) {
                continue;
            }
            assertThat(encode(bits)).as("float bits %08x", bits).isEqualTo(reference(bits));
        }
    }

    /** The slow twin: compare the distances to the two bfloat16 neighbours exactly, in double. */
    private static short reference(int bits) {
        if ((bits & 0x7FFFFFFF) == 0x7F800000) {
            return (short) (bits >>> 16);
        }
        int low = bits & 0xFFFF0000;
        int high = low + 0x10000;
        double x = Float.intBitsToFloat(bits);
        double dLow = Math.abs(x - Float.intBitsToFloat(low));
        double dHigh = Math.abs(x - magnitudeAsIfFinite(high));
        if (dLow < dHigh || (dLow == dHigh && ((low >>> 16) & 1) == 0)) {
            return (short) (low >>> 16);
        }
        return (short) (high >>> 16);
    }

    /** Infinity as a neighbour counts as 2^128, the next power of two, as IEEE rounding does. */
    private static double magnitudeAsIfFinite(int bits) {
        if ((bits & 0x7FFFFFFF) == 0x7F800000) {
            return Math.copySign(0x1p128, Float.intBitsToFloat(bits));
        }
        return Float.intBitsToFloat(bits);
    }

    @Test
    void arrayVersionsMatchScalar() {
        SplittableRandom random = new SplittableRandom(3);
        float[] src = new float[1000];
        for (int i = 0; i < src.length; i++) {
            src[i] = (float) random.nextDouble(-1e4, 1e4);
        }
        short[] bits = new short[1010];
        BFloat16.fromFloat(src, 0, bits, 10, src.length);
        float[] back = new float[src.length];
        BFloat16.toFloat(bits, 10, back, 0, src.length);
        float[] rounded = src.clone();
        BFloat16.round(rounded, 0, rounded.length);
        short[] fastBits = new short[src.length];
        float[] fastRounded = new float[src.length];
        BFloat16.encodeFinite(src, 0, fastBits, fastRounded, src.length);
        for (int i = 0; i < src.length; i++) {
            assertThat(bits[10 + i]).isEqualTo(BFloat16.fromFloat(src[i]));
            assertThat(back[i]).isEqualTo(BFloat16.round(src[i])).isEqualTo(rounded[i]).isEqualTo(fastRounded[i]);
            assertThat(fastBits[i]).isEqualTo(bits[10 + i]);
        }
    }
}
