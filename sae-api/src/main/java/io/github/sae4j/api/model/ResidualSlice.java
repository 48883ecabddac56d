package io.github.sae4j.api.model;

/**
 * The residual stream of one sequence at a hook point: {@code positions} rows of {@code dModel} floats,
 * row-major in {@code data} from {@code offset}. A capture hook reads it; a splice hook overwrites it.
 *
 * @param sequence the index of the sequence within the forward call's batch
 * @param tokens   the sequence's tokens (do not modify)
 * @param firstPosition the position of the first row (non-zero during cached generation)
 */
public record ResidualSlice(int sequence, int[] tokens, int firstPosition, float[] data, int offset, int positions,
                            int dModel) {

    /** Index into {@link #data()} of row {@code position - firstPosition}, column 0. */
    public int rowOffset(int row) {
        return offset + row * dModel;
    }
}
