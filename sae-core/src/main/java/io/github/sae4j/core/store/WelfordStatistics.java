package io.github.sae4j.core.store;

import io.github.sae4j.api.activation.ActivationStatistics;
import java.util.Arrays;
import java.util.Objects;

/**
 * Running per-dimension count, mean and sum of squared deviations (m2) of activation rows. Each {@link #add} call
 * computes the block's mean and m2 in two passes and folds them in with Chan et al.'s parallel update, which is
 * Welford's update when the block is one row; {@link #merge} uses the same update, so shards merge exactly.
 */
public final class WelfordStatistics {

    private final int dModel;
    private long count;
    private final double[] mean;
    private final double[] m2;
    // Per-call scratch, kept to avoid allocating on every append.
    private double[] blockMean;
    private double[] blockM2;

    public WelfordStatistics(int dModel) {
        if (dModel <= 0) {
            throw new IllegalArgumentException("d_model must be positive, got " + dModel);
        }
        this.dModel = dModel;
        this.mean = new double[dModel];
        this.m2 = new double[dModel];
    }

    /**
     * Restores a state written by {@link #count()}, {@link #mean()} and {@link #m2()} (a shard sidecar).
     *
     * @throws IllegalArgumentException if the lengths differ, the count is negative or a value is not finite
     */
    public static WelfordStatistics of(long count, double[] mean, double[] m2) {
        Objects.requireNonNull(mean, "mean");
        Objects.requireNonNull(m2, "m2");
        if (mean.length != m2.length) {
            throw new IllegalArgumentException("mean has " + mean.length + " values but m2 has " + m2.length);
        }
        if (count < 0) {
            throw new IllegalArgumentException("count must be >= 0, got " + count);
        }
        WelfordStatistics s = new WelfordStatistics(mean.length);
        for (int i = 0; i < mean.length; i++) {
            if (!Double.isFinite(mean[i]) || !Double.isFinite(m2[i]) || m2[i] < 0) {
                throw new IllegalArgumentException("dimension " + i + " has mean " + mean[i] + " and m2 " + m2[i]
                        + "; both must be finite and m2 >= 0");
            }
        }
        s.count = count;
        System.arraycopy(mean, 0, s.mean, 0, mean.length);
        System.arraycopy(m2, 0, s.m2, 0, m2.length);
        return s;
    }

    public int dModel() {
        return dModel;
    }

    /** Rows seen. */
    public long count() {
        return count;
    }

    /** Per-dimension mean (a copy). */
    public double[] mean() {
        return mean.clone();
    }

    /** Per-dimension sum of squared deviations from the mean (a copy). */
    public double[] m2() {
        return m2.clone();
    }

    /** Per-dimension population variance, m2 / count (a copy; zeros when empty). */
    public double[] variance() {
        double[] v = new double[dModel];
        if (count > 0) {
            for (int i = 0; i < dModel; i++) {
                v[i] = m2[i] / count;
            }
        }
        return v;
    }

    /** Adds {@code rows} rows of {@code values}, row-major {@code [rows, dModel]} from {@code offset}. */
    public void add(float[] values, int offset, int rows) {
        if (rows < 0) {
            throw new IllegalArgumentException("rows must be >= 0, got " + rows);
        }
        if (offset < 0 || offset + (long) rows * dModel > values.length) {
            throw new IndexOutOfBoundsException(rows + " rows of " + dModel + " values from offset " + offset
                    + " do not fit in an array of " + values.length);
        }
        if (rows == 0) {
            return;
        }
        if (blockMean == null) {
            blockMean = new double[dModel];
            blockM2 = new double[dModel];
        }
        double[] bm = blockMean;
        double[] bq = blockM2;
        Arrays.fill(bm, 0);
        Arrays.fill(bq, 0);
        for (int r = 0, p = offset; r < rows; r++, p += dModel) {
            for (int i = 0; i < dModel; i++) {
                bm[i] += values[p + i];
            }
        }
        double inv = 1.0 / rows;
        for (int i = 0; i < dModel; i++) {
            bm[i] *= inv;
        }
        for (int r = 0, p = offset; r < rows; r++, p += dModel) {
            for (int i = 0; i < dModel; i++) {
                double d = values[p + i] - bm[i];
                bq[i] += d * d;
            }
        }
        combine(rows, bm, bq);
    }

    /** Adds everything {@code other} has seen, as if its rows had been added here. */
    public void merge(WelfordStatistics other) {
        if (other.dModel != dModel) {
            throw new IllegalArgumentException("cannot merge statistics of d_model " + other.dModel + " into " + dModel);
        }
        if (other.count == 0) {
            return;
        }
        combine(other.count, other.mean, other.m2);
    }

    // Chan, Golub & LeVeque: mean += delta * nb / n; m2 += m2b + delta^2 * na * nb / n.
    private void combine(long nb, double[] meanB, double[] m2B) {
        if (count == 0) {
            count = nb;
            System.arraycopy(meanB, 0, mean, 0, dModel);
            System.arraycopy(m2B, 0, m2, 0, dModel);
            return;
        }
        long n = count + nb;
        double wb = (double) nb / n;
        double cross = (double) count * nb / n;
        for (int i = 0; i < dModel; i++) {
            double delta = meanB[i] - mean[i];
            mean[i] += delta * wb;
            m2[i] += m2B[i] + delta * delta * cross;
        }
        count = n;
    }

    /** The mean and population variance as the API's value type. */
    public ActivationStatistics toStatistics() {
        return new ActivationStatistics(count, mean.clone(), variance());
    }

    public WelfordStatistics copy() {
        return of(count, mean, m2);
    }
}
