package io.github.sae4j.core.backend;

import io.github.sae4j.api.backend.WeightFormat;
import io.github.sae4j.api.backend.WeightMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

/** Random weight matrices in every {@link WeightFormat}, laid out as a model file would hold them, for kernel tests. */
public final class WeightMatrices {

    private static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private WeightMatrices() {
    }

    /**
     * A {@code [rows, cols]} matrix of roughly unit-variance values in {@code format}, in memory of the global
     * arena (tests make few and small ones). Quantized blocks get random scales and codes, including the extremes.
     */
    public static WeightMatrix random(WeightFormat format, int rows, int cols, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long rowBytes = format.rowBytes(cols);
        MemorySegment data = Arena.global().allocate(rows * rowBytes, 8);
        for (int o = 0; o < rows; o++) {
            long at = o * rowBytes;
            switch (format) {
                case F32 -> {
                    for (int i = 0; i < cols; i++) {
                        data.set(FLOAT_LE, at + 4L * i, (float) r.nextGaussian());
                    }
                }
                case F16 -> {
                    for (int i = 0; i < cols; i++) {
                        data.set(SHORT_LE, at + 2L * i, Float.floatToFloat16((float) r.nextGaussian()));
                    }
                }
                case BF16 -> {
                    for (int i = 0; i < cols; i++) {
                        data.set(SHORT_LE, at + 2L * i, (short) (Float.floatToRawIntBits((float) r.nextGaussian()) >>> 16));
                    }
                }
                case Q8_0, Q4_0 -> {
                    int blockBytes = format.blockBytes();
                    for (int b = 0; b < cols / 32; b++) {
                        long block = at + (long) blockBytes * b;
                        float scale = (float) (format == WeightFormat.Q8_0 ? 1.0 / 64 : 1.0 / 4) * (0.5f + r.nextFloat());
                        data.set(SHORT_LE, block, Float.floatToFloat16(scale));
                        for (int j = 2; j < blockBytes; j++) {
                            data.set(ValueLayout.JAVA_BYTE, block + j, (byte) r.nextInt(256));
                        }
                    }
                }
            }
        }
        return new WeightMatrix("test." + format + "[" + rows + "x" + cols + "]", format, rows, cols, data);
    }
}
