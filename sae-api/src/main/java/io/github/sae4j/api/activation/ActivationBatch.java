package io.github.sae4j.api.activation;

/**
 * A reusable host buffer of up to {@link #capacity()} activation rows with their provenance. Streams fill it;
 * {@link #rows()} says how many rows are valid.
 */
public final class ActivationBatch {

    private final int capacity;
    private final int dModel;
    private final float[] values;
    private final long[] sentenceIds;
    private final int[] positions;
    private final int[] tokenIds;
    private int rows;

    public ActivationBatch(int capacity, int dModel) {
        if (capacity <= 0 || dModel <= 0) {
            throw new IllegalArgumentException("batch capacity and d_model must be positive, got " + capacity + ", " + dModel);
        }
        long n = (long) capacity * dModel;
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a batch of " + capacity + " x " + dModel + " activations is too large");
        }
        this.capacity = capacity;
        this.dModel = dModel;
        this.values = new float[(int) n];
        this.sentenceIds = new long[capacity];
        this.positions = new int[capacity];
        this.tokenIds = new int[capacity];
    }

    public int capacity() {
        return capacity;
    }

    public int dModel() {
        return dModel;
    }

    /** Valid rows. */
    public int rows() {
        return rows;
    }

    public void setRows(int rows) {
        if (rows < 0 || rows > capacity) {
            throw new IllegalArgumentException("rows " + rows + " outside [0, " + capacity + "]");
        }
        this.rows = rows;
    }

    /** Row-major {@code [capacity, dModel]} activations; the first {@link #rows()} rows are valid. */
    public float[] values() {
        return values;
    }

    /** The sentence each row came from. */
    public long[] sentenceIds() {
        return sentenceIds;
    }

    /** The token position of each row within its sentence. */
    public int[] positions() {
        return positions;
    }

    /** The token id at each row's position. */
    public int[] tokenIds() {
        return tokenIds;
    }
}
