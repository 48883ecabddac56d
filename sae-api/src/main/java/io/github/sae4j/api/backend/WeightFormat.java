package io.github.sae4j.api.backend;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * How a read-only weight matrix is stored, row by row (each row on its own, little-endian):
 * plain floats, or llama.cpp's block quantizations where {@link #blockSize()} consecutive elements of a row
 * share one fp16 scale. The dequantization here is the slow, obvious reference every backend kernel is
 * tested against.
 */
public enum WeightFormat {
    /** IEEE binary32. */
    F32(1, 4),
    /** IEEE binary16. */
    F16(1, 2),
    /** bfloat16: the upper half of a binary32. */
    BF16(1, 2),
    /** llama.cpp Q8_0: per 32 elements an fp16 scale d and 32 int8 q; x = d * q. */
    Q8_0(32, 34),
    /** llama.cpp Q4_0: per 32 elements an fp16 scale d and 16 bytes; element j &lt; 16 is the low nibble of
     * byte j, element j + 16 its high nibble; x = d * (nibble - 8). */
    Q4_0(32, 18);

    private static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int blockSize;
    private final int blockBytes;

    WeightFormat(int blockSize, int blockBytes) {
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** Elements per block (1 for plain floats). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int blockBytes() {
        return blockBytes;
    }

    public boolean isQuantized() {
        return blockSize > 1;
    }

    /**
     * Bytes of one row of {@code cols} elements.
     *
     * @throws IllegalArgumentException if {@code cols} is not a multiple of the block size
     */
    public long rowBytes(int cols) {
        if (cols <= 0 || cols % blockSize != 0) {
            throw new IllegalArgumentException(this + " rows must hold a positive multiple of " + blockSize
                    + " elements, got " + cols);
        }
        return (long) cols / blockSize * blockBytes;
    }

    /**
     * Reference dequantization of {@code n} elements (a multiple of the block size) that start at byte
     * {@code byteOffset} of {@code data}, into {@code dst[dstOffset..]}.
     */
    public void dequantize(MemorySegment data, long byteOffset, float[] dst, int dstOffset, int n) {
        if (n % blockSize != 0) {
            throw new IllegalArgumentException(this + ": " + n + " elements is not a whole number of blocks of "
                    + blockSize);
        }
        switch (this) {
            case F32 -> {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = data.get(FLOAT_LE, byteOffset + 4L * i);
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = Float.float16ToFloat(data.get(SHORT_LE, byteOffset + 2L * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = Float.intBitsToFloat((data.get(SHORT_LE, byteOffset + 2L * i) & 0xffff) << 16);
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    long at = byteOffset + 34L * b;
                    float d = Float.float16ToFloat(data.get(SHORT_LE, at));
                    for (int j = 0; j < 32; j++) {
                        dst[dstOffset + 32 * b + j] = d * data.get(ValueLayout.JAVA_BYTE, at + 2 + j);
                    }
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    long at = byteOffset + 18L * b;
                    float d = Float.float16ToFloat(data.get(SHORT_LE, at));
                    for (int j = 0; j < 16; j++) {
                        int q = data.get(ValueLayout.JAVA_BYTE, at + 2 + j) & 0xff;
                        dst[dstOffset + 32 * b + j] = d * ((q & 0x0f) - 8);
                        dst[dstOffset + 32 * b + j + 16] = d * ((q >>> 4) - 8);
                    }
                }
            }
        }
    }
}
