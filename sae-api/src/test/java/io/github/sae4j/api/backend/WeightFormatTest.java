package io.github.sae4j.api.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** The storage formats, checked on hand-made bytes with values worked out by hand (llama.cpp's block layouts). */
class WeightFormatTest {

    private static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void rowSizesFollowTheBlockLayouts() {
        assertThat(WeightFormat.F32.rowBytes(3)).isEqualTo(12);
        assertThat(WeightFormat.F16.rowBytes(3)).isEqualTo(6);
        assertThat(WeightFormat.BF16.rowBytes(3)).isEqualTo(6);
        assertThat(WeightFormat.Q8_0.rowBytes(64)).isEqualTo(68);
        assertThat(WeightFormat.Q4_0.rowBytes(64)).isEqualTo(36);
        assertThatThrownBy(() -> WeightFormat.Q4_0.rowBytes(48)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("multiple of 32");
    }

    @Test
    void plainFormatsDecodeLittleEndianBits() {
        MemorySegment m = Arena.ofAuto().allocate(8);
        m.set(SHORT_LE, 0, (short) 0x3c00); // f16 1.0; bf16 0.0078125 (2^-7)
        m.set(SHORT_LE, 2, (short) 0xc000); // f16 -2.0, bf16 -2.0
        float[] out = new float[2];
        WeightFormat.F16.dequantize(m, 0, out, 0, 2);
        assertThat(out).containsExactly(1f, -2f);
        WeightFormat.BF16.dequantize(m, 0, out, 0, 2);
        assertThat(out).containsExactly(0.0078125f, -2f);
        m.set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4, 3.5f);
        WeightFormat.F32.dequantize(m, 4, out, 1, 1);
        assertThat(out[1]).isEqualTo(3.5f);
    }

    @Test
    void q8AndQ4BlocksScaleTheirCodes() {
        MemorySegment q8 = Arena.ofAuto().allocate(34);
        q8.set(SHORT_LE, 0, Float.floatToFloat16(0.5f));
        for (int j = 0; j < 32; j++) {
            q8.set(ValueLayout.JAVA_BYTE, 2 + j, (byte) (j - 16));
        }
        float[] out = new float[32];
        WeightFormat.Q8_0.dequantize(q8, 0, out, 0, 32);
        assertThat(out[0]).isEqualTo(-8f);
        assertThat(out[16]).isEqualTo(0f);
        assertThat(out[31]).isEqualTo(7.5f);

        MemorySegment q4 = Arena.ofAuto().allocate(18);
        q4.set(SHORT_LE, 0, Float.floatToFloat16(2f));
        for (int j = 0; j < 16; j++) {
            q4.set(ValueLayout.JAVA_BYTE, 2 + j, (byte) ((15 - j) << 4 | j)); // low nibble j, high nibble 15 - j
        }
        WeightFormat.Q4_0.dequantize(q4, 0, out, 0, 32);
        for (int j = 0; j < 16; j++) {
            assertThat(out[j]).as("element %d (low nibble)", j).isEqualTo(2f * (j - 8));
            assertThat(out[j + 16]).as("element %d (high nibble)", j + 16).isEqualTo(2f * (7 - j));
        }
        assertThatThrownBy(() -> WeightFormat.Q4_0.dequantize(q4, 0, out, 0, 16))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("whole number of blocks");
    }

    @Test
    void aWeightMatrixChecksItsBytesAndReadsRows() {
        MemorySegment m = Arena.ofAuto().allocate(3 * 34);
        for (int r = 0; r < 3; r++) {
            m.set(SHORT_LE, 34L * r, Float.floatToFloat16(r + 1f));
            m.set(ValueLayout.JAVA_BYTE, 34L * r + 2, (byte) 1);
        }
        WeightMatrix w = new WeightMatrix("blk.0.ffn_up.weight", WeightFormat.Q8_0, 3, 32, m);
        assertThat(w.rowBytes()).isEqualTo(34);
        float[] all = w.toFloats();
        assertThat(all[0]).isEqualTo(1f);
        assertThat(all[32]).isEqualTo(2f);
        assertThat(all[64]).isEqualTo(3f);
        assertThatThrownBy(() -> new WeightMatrix("blk.0.ffn_up.weight", WeightFormat.Q8_0, 4, 32, m))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("blk.0.ffn_up.weight")
                .hasMessageContaining("needs 136 bytes, got 102");
    }
}
