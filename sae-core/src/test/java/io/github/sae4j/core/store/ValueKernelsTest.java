package io.github.sae4j.core.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The Vector API loops against the plain ones, on every tail length and with NaN and infinity planted. */
class ValueKernelsTest {

    @Test
    void float32FinitenessChecksAgree() {
        SplittableRandom random = new SplittableRandom(8);
        for (int n : new int[] {0, 1, 7, 8, 9, 16, 17, 100, 1001}) {
            for (float plant : new float[] {1f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                float[] v = new float[n + 4];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) random.nextDouble(-Float.MAX_VALUE, Float.MAX_VALUE);
                }
                v[0] = Float.NaN;
                int at = n == 0 ? -1 : random.nextInt(n);
                if (at >= 0) {
                    v[2 + at] = plant;
                }
                boolean finite = at < 0 || Float.isFinite(plant);
                assertThat(VectorValueKernels.allFinite(v, 2, n)).as("n=%d plant %s", n, plant).isEqualTo(finite);
                assertThat(ValueKernels.allFinite(v, 2, n)).isEqualTo(finite);
                assertThat(ValueKernels.firstNonFinite(v, 2, n)).isEqualTo(finite ? -1 : at);
            }
        }
    }

    @Test
    void vectorPathIsInUseInTests() {
        assertThat(ValueKernels.VECTORIZED).as("surefire adds jdk.incubator.vector, so the fast path is tested").isTrue();
    }

    @Test
    void vectorAndPlainDecodeAgree() {
        SplittableRandom random = new SplittableRandom(5);
        short[] scratch = new short[ValueKernels.SCRATCH];
        for (int n : new int[] {0, 1, 7, 8, 15, 16, 17, 33, 1000, 8191, 8192, 8193, 20_000}) {
            for (int plant : new int[] {-1, 0x7F80, 0xFFC0, 0x7FC1}) {
                short[] bits = new short[n];
                for (int i = 0; i < n; i++) {
                    bits[i] = (short) (random.nextInt(0x7F00) | (random.nextBoolean() ? 0x8000 : 0));
                }
                int at = n == 0 || plant < 0 ? -1 : random.nextInt(n);
                if (at >= 0) {
                    bits[at] = (short) plant;
                }
                ByteBuffer buf = ByteBuffer.allocateDirect(Math.max(1, 2 * n)).order(ByteOrder.LITTLE_ENDIAN);
                buf.asShortBuffer().put(bits);
                float[] fast = new float[n + 3];
                float[] plain = new float[n + 3];
                boolean fastFinite = ValueKernels.VECTORIZED
                        ? VectorValueKernels.decode(java.lang.foreign.MemorySegment.ofBuffer(buf), fast, 3, n)
                        : ValueKernels.decode(buf, fast, 3, n, scratch);
                boolean plainFinite = ValueKernels.decodePlain(buf, plain, 3, n, scratch);
                assertThat(fastFinite).as("n=%d planted at %d", n, at).isEqualTo(plainFinite).isEqualTo(at < 0);
                for (int i = 0; i < n + 3; i++) {
                    assertThat(Float.floatToRawIntBits(fast[i])).isEqualTo(Float.floatToRawIntBits(plain[i]));
                }
                if (at >= 0) {
                    assertThat(ValueKernels.firstNonFinite(buf, n)).isEqualTo(at);
                }
                short[] copy = new short[n + 2];
                assertThat(ValueKernels.copyBits(buf, copy, 2, n)).isEqualTo(at < 0);
                assertThat(ValueKernels.allFinitePlain(copy, 2, n)).isEqualTo(at < 0);
                float[] fromArray = new float[n];
                ValueKernels.decode(copy, 2, fromArray, 0, n);
                for (int i = 0; i < n; i++) {
                    assertThat(Float.floatToRawIntBits(fromArray[i])).isEqualTo(Float.floatToRawIntBits(plain[3 + i]));
                }
            }
        }
    }
}
