package io.github.sae4j.api.activation;

/**
 * Per-dimension mean and variance of a set of activation rows (Welford's algorithm, merged exactly).
 *
 * @param count    rows
 * @param mean     per-dimension mean
 * @param variance per-dimension population variance (divided by count)
 */
public record ActivationStatistics(long count, double[] mean, double[] variance) {

    public ActivationStatistics {
        if (mean.length != variance.length) {
            throw new IllegalArgumentException("mean and variance lengths differ: " + mean.length + " vs " + variance.length);
        }
    }

    public int dModel() {
        return mean.length;
    }

    /** E ||x||^2 = sum_i (variance_i + mean_i^2). */
    public double meanSquaredNorm() {
        double s = 0;
        for (int i = 0; i < mean.length; i++) {
            s += variance[i] + mean[i] * mean[i];
        }
        return s;
    }

    /** E ||x - E x||^2 = sum_i variance_i: the denominator of the fraction of variance unexplained. */
    public double totalVariance() {
        double s = 0;
        for (double v : variance) {
            s += v;
        }
        return s;
    }

    public float[] meanAsFloats() {
        float[] out = new float[mean.length];
        for (int i = 0; i < mean.length; i++) {
            out[i] = (float) mean[i];
        }
        return out;
    }
}
