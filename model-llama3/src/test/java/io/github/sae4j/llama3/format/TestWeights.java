package io.github.sae4j.llama3.format;

import io.github.sae4j.api.backend.WeightFormat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Encodes floats the way the converters do (llama.cpp's reference quantizers), for the test file writers. */
final class TestWeights {

    private TestWeights() {
    }

    static byte[] encode(WeightFormat format, float[] x) {
        if (x.length % format.blockSize() != 0) {
            throw new IllegalArgumentException(x.length + " values is not a whole number of " + format + " blocks");
        }
        ByteBuffer out = ByteBuffer.allocate(x.length / format.blockSize() * format.blockBytes())
                .order(ByteOrder.LITTLE_ENDIAN);
        switch (format) {
            case F32 -> {
                for (float v : x) {
                    out.putFloat(v);
                }
            }
            case F16 -> {
                for (float v : x) {
                    out.putShort(Float.floatToFloat16(v));
                }
            }
            case BF16 -> {
                for (float v : x) {
                    out.putShort(toBf16(v));
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < x.length / 32; b++) {
                    float amax = 0;
                    for (int j = 0; j < 32; j++) {
                        amax = Math.max(amax, Math.abs(x[32 * b + j]));
                    }
                    float d = amax / 127;
                    float id = d != 0 ? 1 / d : 0;
                    out.putShort(Float.floatToFloat16(d));
                    for (int j = 0; j < 32; j++) {
                        out.put((byte) roundHalfAway(x[32 * b + j] * id));
                    }
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < x.length / 32; b++) {
                    float amax = 0;
                    float max = 0;
                    for (int j = 0; j < 32; j++) {
                        float v = x[32 * b + j];
                        if (amax < Math.abs(v)) {
                            amax = Math.abs(v);
                            max = v;
                        }
                    }
                    float d = max / -8;
                    float id = d != 0 ? 1 / d : 0;
                    out.putShort(Float.floatToFloat16(d));
                    for (int j = 0; j < 16; j++) {
                        // (int8_t)(x * id + 8.5f) truncates, as in quantize_row_q4_0_ref
                        int lo = Math.min(15, (int) (x[32 * b + j] * id + 8.5f));
                        int hi = Math.min(15, (int) (x[32 * b + 16 + j] * id + 8.5f));
                        out.put((byte) (lo | hi << 4));
                    }
                }
            }
        }
        return out.array();
    }

    /** Round to nearest even, as PyTorch converts to bfloat16. */
    static short toBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    static float bf16(float v) {
        return Float.intBitsToFloat((toBf16(v) & 0xffff) << 16);
    }

    static float f16(float v) {
        return Float.float16ToFloat(Float.floatToFloat16(v));
    }

    private static int roundHalfAway(float v) {
        return (int) Math.signum(v) * (int) Math.floor(Math.abs(v) + 0.5f);
    }

    /** Deterministic values in [-scale, scale) with a spread of magnitudes. */
    static float[] values(int n, float scale, long seed) {
        java.util.Random random = new java.util.Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (random.nextFloat() * 2 - 1) * scale;
        }
        return x;
    }
}
