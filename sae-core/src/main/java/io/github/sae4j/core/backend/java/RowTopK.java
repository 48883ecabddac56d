package io.github.sae4j.core.backend.java;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Top-k of one row. Order: larger value first, ties to the lower column; NaN never enters; unfilled slots are
 * index -1, value 0.
 *
 * <p>Small k (the TopK activation, k around 32): a size-k min-heap; once it is full, whole vectors of the row are
 * compared against its minimum and skipped when no lane beats it, so most of a wide row costs one compare. Large k
 * (AuxK's k_aux, hundreds): every candidate becomes a sortable 64-bit key, a quickselect moves the best k to the
 * front in linear time, and only those are sorted; a heap would spend its time on thousands of insertions.
 *
 * <p>Public for the steering screen (core.steer.ScreenedTopK), which selects among a row's candidates exactly as
 * {@code topKRows} selects among all of its columns.
 */
public final class RowTopK {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Above this k the selection uses keys and quickselect instead of a heap. */
    static final int HEAP_MAX_K = 48;

    private final int k;
    private final float[] heapV;
    private final int[] heapI;
    private int size;
    private long[] keys = new long[0];

    public RowTopK(int k) {
        this.k = k;
        this.heapV = new float[k];
        this.heapI = new int[k];
    }

    /**
     * Selects the top k of {@code row[off .. off + n)} and writes them, best first, to {@code outV/outI} at
     * {@code outOff}. With {@code columns} non-null the row is a compacted selection: position p stands for column
     * {@code columns[p]} (ascending, so ties still go to the lower column).
     */
    public void select(float[] row, int off, int n, int[] columns, float[] outV, int[] outI, int outOff) {
        if (k > HEAP_MAX_K) {
            selectByKeys(row, off, n, columns, outV, outI, outOff);
        } else {
            selectByHeap(row, off, n, columns, outV, outI, outOff);
        }
    }

    // ------------------------------------------------------------------ large k: keys and quickselect

    /** A key whose ascending order is descending value, then ascending position. */
    private static long key(float value, int position) {
        int bits = Float.floatToRawIntBits(value);
        int ordered = bits ^ ((bits >> 31) & 0x7fffffff);
        return ((long) ~ordered << 32) | position;
    }

    private void selectByKeys(float[] row, int off, int n, int[] columns, float[] outV, int[] outI, int outOff) {
        if (keys.length < n) {
            keys = new long[n];
        }
        int m = -1;
        int stride = n / (8 * k);
        if (stride >= 4) {
            m = candidatesAboveSampledThreshold(row, off, n, stride);
        }
        if (m < 0) {
            m = 0;
            for (int p = 0; p < n; p++) {
                float v = row[off + p];
                if (v == v) {
                    keys[m++] = key(v, p);
                }
            }
        }
        int take = Math.min(k, m);
        if (take < m) {
            quickselect(keys, 0, m - 1, take);
        }
        Arrays.sort(keys, 0, take);
        for (int slot = 0; slot < k; slot++) {
            if (slot < take) {
                int p = (int) keys[slot];
                outV[outOff + slot] = row[off + p];
                outI[outOff + slot] = columns == null ? p : columns[p];
            } else {
                outV[outOff + slot] = 0f;
                outI[outOff + slot] = -1;
            }
        }
    }

    /**
     * Estimates from every {@code stride}-th element a threshold a little below the k-th largest value, then keys
     * only the elements at or above it (about 1.5 k of them). Returns how many keys it wrote, or -1 when fewer than k
     * elements reach the threshold (rare; the caller then keys the whole row). Deterministic: a fixed stride.
     */
    private int candidatesAboveSampledThreshold(float[] row, int off, int n, int stride) {
        int samples = 0;
        for (int p = 0; p < n; p += stride) {
            float v = row[off + p];
            if (v == v) {
                keys[samples++] = key(v, p);
            }
        }
        double expected = (double) k * samples / n;
        int rank = (int) Math.min(samples, Math.ceil(expected + 3 * Math.sqrt(expected) + 8));
        if (rank >= samples) {
            return -1;
        }
        quickselect(keys, 0, samples - 1, rank);
        long worst = keys[0];
        for (int i = 1; i < rank; i++) {
            worst = Math.max(worst, keys[i]);
        }
        float threshold = row[off + (int) worst];
        int m = 0;
        int p = 0;
        int upper = S.loopBound(n);
        for (; p < upper; p += L) {
            VectorMask<Float> ge = FloatVector.fromArray(S, row, off + p).compare(VectorOperators.GE, threshold);
            long lanes = ge.toLong();
            while (lanes != 0) {
                int lane = Long.numberOfTrailingZeros(lanes);
                lanes &= lanes - 1;
                keys[m++] = key(row[off + p + lane], p + lane);
            }
        }
        for (; p < n; p++) {
            float v = row[off + p];
            if (v >= threshold) {
                keys[m++] = key(v, p);
            }
        }
        return m >= k ? m : -1;
    }

    /** Rearranges {@code a[lo..hi]} so that its {@code count} smallest keys come first (in any order). */
    private static void quickselect(long[] a, int lo, int hi, int count) {
        int target = lo + count - 1;
        while (lo < hi) {
            // Median of three: deterministic, and safe on sorted or reverse-sorted rows.
            int mid = (lo + hi) >>> 1;
            long x = a[lo];
            long y = a[mid];
            long z = a[hi];
            long pivot = x < y ? (y < z ? y : Math.max(x, z)) : (x < z ? x : Math.max(y, z));
            int i = lo;
            int j = hi;
            while (i <= j) {
                while (a[i] < pivot) {
                    i++;
                }
                while (a[j] > pivot) {
                    j--;
                }
                if (i <= j) {
                    long t = a[i];
                    a[i] = a[j];
                    a[j] = t;
                    i++;
                    j--;
                }
            }
            if (target <= j) {
                hi = j;
            } else if (target >= i) {
                lo = i;
            } else {
                return;
            }
        }
    }

    // ------------------------------------------------------------------ small k: heap with a vector prefilter

    private void selectByHeap(float[] row, int off, int n, int[] columns, float[] outV, int[] outI, int outOff) {
        size = 0;
        int c = 0;
        // Fill the heap element by element: until it is full there is no threshold to filter with.
        for (; c < n && size < k; c++) {
            float x = row[off + c];
            if (x == x) {
                push(x, c);
            }
        }
        if (size == k) {
            int upper = S.loopBound(n - c) + c;
            for (; c < upper; c += L) {
                FloatVector v = FloatVector.fromArray(S, row, off + c);
                VectorMask<Float> gt = v.compare(VectorOperators.GT, heapV[0]);
                if (gt.anyTrue()) {
                    offerLanes(row, off, c, gt.toLong());
                }
            }
            for (; c < n; c++) {
                float x = row[off + c];
                if (x > heapV[0]) {
                    replaceMin(x, c);
                }
            }
        }
        // Pop the minimum into the last free output slot until the heap is empty: best ends first.
        for (int slot = k - 1; slot >= size; slot--) {
            outV[outOff + slot] = 0f;
            outI[outOff + slot] = -1;
        }
        while (size > 0) {
            int slot = size - 1;
            outV[outOff + slot] = heapV[0];
            outI[outOff + slot] = columns == null ? heapI[0] : columns[heapI[0]];
            size--;
            if (size > 0) {
                heapV[0] = heapV[size];
                heapI[0] = heapI[size];
                siftDown(0);
            }
        }
    }

    private void offerLanes(float[] row, int off, int c, long lanes) {
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
