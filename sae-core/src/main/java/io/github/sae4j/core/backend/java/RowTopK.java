package io.github.sae4j.core.backend.java;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Top-k of one row with a size-k min-heap. Once the heap is full, whole vectors of the row are compared
 * against the heap's minimum and skipped when no lane beats it, so most of a wide row costs one compare.
 * Order: larger value first, ties to the lower column; NaN never enters; unfilled slots are index -1, value 0.
 */
final class RowTopK {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private final int k;
    private final float[] heapV;
    private final int[] heapI;
    private int size;

    RowTopK(int k) {
        this.k = k;
        this.heapV = new float[k];
        this.heapI = new int[k];
    }

    /**
     * Selects the top k of {@code row[off .. off + n)} (only columns with {@code mask[c] != 0} when mask is not
     * null) and writes them, best first, to {@code outV/outI} at {@code outOff}.
     */
    void select(float[] row, int off, int n, float[] mask, float[] outV, int[] outI, int outOff) {
        size = 0;
        int c = 0;
        // Fill the heap element by element: until it is full there is no threshold to filter with.
        for (; c < n && size < k; c++) {
            float x = row[off + c];
            if (x == x && (mask == null || mask[c] != 0f)) {
                push(x, c);
            }
        }
        if (size == k) {
            int upper = S.loopBound(n - c) + c;
            if (mask == null) {
                for (; c < upper; c += L) {
                    FloatVector v = FloatVector.fromArray(S, row, off + c);
                    VectorMask<Float> gt = v.compare(VectorOperators.GT, heapV[0]);
                    if (gt.anyTrue()) {
                        offerLanes(row, off, c, gt.toLong(), null);
                    }
                }
            } else {
                for (; c < upper; c += L) {
                    FloatVector v = FloatVector.fromArray(S, row, off + c);
                    VectorMask<Float> gt = v.compare(VectorOperators.GT, heapV[0])
                            .and(FloatVector.fromArray(S, mask, c).compare(VectorOperators.NE, 0f));
                    if (gt.anyTrue()) {
                        offerLanes(row, off, c, gt.toLong(), mask);
                    }
                }
            }
            for (; c < n; c++) {
                float x = row[off + c];
                if (x > heapV[0] && (mask == null || mask[c] != 0f)) {
                    replaceMin(x, c);
                }
            }
        }
        // Pop the minimum into the last free output slot until the heap is empty: best ends first.
        for (int slot = k - 1; slot >= 0; slot--) {
            if (slot >= size) {
                outV[outOff + slot] = 0f;
                outI[outOff + slot] = -1;
            }
        }
        while (size > 0) {
            int slot = size - 1;
            outV[outOff + slot] = heapV[0];
            outI[outOff + slot] = heapI[0];
            size--;
            if (size > 0) {
                heapV[0] = heapV[size];
                heapI[0] = heapI[size];
                siftDown(0);
            }
        }
    }

    private void offerLanes(float[] row, int off, int c, long lanes, float[] mask) {
        while (lanes != 0) {
            int lane = Long.numberOfTrailingZeros(lanes);
            lanes &= lanes - 1;
            float x = row[off + c + lane];
            // Re-check: the threshold rises as earlier lanes enter.
            if (x > heapV[0]) {
                replaceMin(x, c + lane);
            }
        }
    }

    private void push(float x, int index) {
        int pos = size++;
        heapV[pos] = x;
        heapI[pos] = index;
        while (pos > 0) {
            int parent = (pos - 1) >>> 1;
            if (worse(pos, parent)) {
                swap(pos, parent);
                pos = parent;
            } else {
                break;
            }
        }
    }

    private void replaceMin(float x, int index) {
        heapV[0] = x;
        heapI[0] = index;
        siftDown(0);
    }

    private void siftDown(int pos) {
        while (true) {
            int left = 2 * pos + 1;
            if (left >= size) {
                return;
            }
            int right = left + 1;
            int worst = right < size && worse(right, left) ? right : left;
            if (worse(worst, pos)) {
                swap(worst, pos);
                pos = worst;
            } else {
                return;
            }
        }
    }

    /** Heap slot a ranks below slot b: smaller value, or equal value and higher column. */
    private boolean worse(int a, int b) {
        float va = heapV[a];
        float vb = heapV[b];
        if (va != vb) {
            return va < vb;
        }
        return heapI[a] > heapI[b];
    }

    private void swap(int a, int b) {
        float tv = heapV[a];
        heapV[a] = heapV[b];
        heapV[b] = tv;
        int ti = heapI[a];
        heapI[a] = heapI[b];
        heapI[b] = ti;
    }
}
