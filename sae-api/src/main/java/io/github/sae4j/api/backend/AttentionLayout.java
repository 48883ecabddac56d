package io.github.sae4j.api.backend;

/**
 * Where the sequences of a {@link TransformerOps#causalAttention} call live. Sequence {@code s} has
 * {@code queryCount[s]} query rows starting at row {@code queryRow[s]} of the queries; they are positions
 * {@code firstPosition[s] ..} of the sequence. Its keys and values for positions {@code 0 ..} start at row
 * {@code keyRow[s]} of the key and value tensors (a prefill without cache passes {@code keyRow = queryRow}
 * and {@code firstPosition = 0}). Query {@code i} attends to positions {@code 0 .. firstPosition[s] + i}.
 *
 * @param heads    query heads
 * @param kvHeads  key/value heads; query head {@code h} reads KV head {@code h / (heads / kvHeads)}
 * @param headDim  elements per head
 */
public record AttentionLayout(int heads, int kvHeads, int headDim, int[] queryRow, int[] queryCount, int[] keyRow,
                              int[] firstPosition) {

    public AttentionLayout {
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("attention heads (" + heads + ") must be a positive multiple of KV heads ("
                    + kvHeads + ")");
        }
        if (headDim <= 0) {
            throw new IllegalArgumentException("headDim must be positive, got " + headDim);
        }
        int n = queryRow.length;
        if (queryCount.length != n || keyRow.length != n || firstPosition.length != n) {
            throw new IllegalArgumentException("attention layout arrays differ in length: " + n + ", "
                    + queryCount.length + ", " + keyRow.length + ", " + firstPosition.length);
        }
    }

    public int sequences() {
        return queryRow.length;
    }

    /** A prefill of packed sequences without cache: sequence s is rows {@code starts[s] .. + lengths[s]} everywhere. */
    public static AttentionLayout packed(int heads, int kvHeads, int headDim, int[] starts, int[] lengths) {
        return new AttentionLayout(heads, kvHeads, headDim, starts, lengths, starts, new int[starts.length]);
    }
}
