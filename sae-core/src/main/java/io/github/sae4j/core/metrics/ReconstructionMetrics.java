package io.github.sae4j.core.metrics;

import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.backend.TensorOps;
import io.github.sae4j.api.sae.LatentCodes;
import io.github.sae4j.core.sae.TensorCache;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Accumulates reconstruction metrics over batches, with the definitions of DESIGN.md:
 * <ul>
 *   <li>FVU = sum ||x - x_hat||^2 / sum ||x - mean(x)||^2 over all rows seen (mean over those rows); FVE = 1 - FVU</li>
 *   <li>normalized MSE = sum ||x - x_hat||^2 / sum ||x||^2</li>
 *   <li>MSE = sum ||x - x_hat||^2 / (rows * d_in), in the activations' own units</li>
 *   <li>L0 = mean over rows of the number of latents with activation &gt; 0</li>
 *   <li>L2 ratio = mean over rows of ||x_hat|| / ||x|| (rows with x = 0 skipped)</li>
 *   <li>cosine = mean over rows of cos(x, x_hat) (rows with x = 0 skipped; 0 when x_hat = 0)</li>
 *   <li>dead fraction = latents that fired on none of the rows seen</li>
 * </ul>
 * Inputs may be in the SAE's scaled units: every metric but MSE is scale-free, and MSE is converted back.
 */
public final class ReconstructionMetrics implements AutoCloseable {

    private final int dIn;
    private final int dSae;
    private final double inputScale;
    private final Tensor shift;
    private final Tensor firing;
    private final TensorCache scratch;
    private final TensorOps ops;
    private long rows;
    private long normRows;
    private double sse;
    private double sumSquaresX;
    private double sumSquaresShifted;
    private final double[] sumShifted;
    private double sumRatio;
    private double sumCosine;
    private long active;

    /**
     * @param shift a point near the data mean (for example the dataset mean or b_dec) that x is centred on before
     *              summing squares, so the variance is not lost to cancellation; null for zero
     */
    public ReconstructionMetrics(TensorOps ops, io.github.sae4j.api.backend.Device device, int dIn, int dSae,
                                 double inputScale, float[] shift) {
        this.ops = ops;
        this.dIn = dIn;
        this.dSae = dSae;
        this.inputScale = inputScale;
        this.scratch = new TensorCache(device);
        this.shift = device.upload(shift != null ? shift : new float[dIn], dIn);
        this.firing = device.allocate(io.github.sae4j.api.backend.DType.F32, dSae);
        this.sumShifted = new double[dIn];
    }

    /** Adds a batch: inputs {@code x}, reconstructions {@code xHat} (both {@code [rows, d_in]}) and their codes. */
    public void add(Tensor x, Tensor xHat, LatentCodes codes) {
        int n = x.rows();
        sse += ops.sumSquaredDifference(x, xHat);
        sumSquaresX += ops.sumSquares(x);
        Tensor centered = scratch.f32("centered", n, dIn);
        ops.copy(x, centered);
        ops.addRowVector(centered, -1f, shift);
        sumSquaresShifted += ops.sumSquares(centered);
        Tensor colSums = scratch.f32("colSums", dIn);
        ops.columnSums(centered, 1f, 0f, colSums);
        float[] cs = colSums.toFloatArray();
        for (int i = 0; i < dIn; i++) {
            sumShifted[i] += cs[i];
        }
        Tensor rowStats = scratch.f32("rowStats", n, 3);
        ops.rowNormsAndDots(x, xHat, rowStats);
        float[] st = rowStats.toFloatArray();
        for (int r = 0; r < n; r++) {
            double xx = st[3 * r];
            double hh = st[3 * r + 1];
            double xh = st[3 * r + 2];
            if (xx > 0) {
                normRows++;
                sumRatio += Math.sqrt(hh / xx);
                sumCosine += hh > 0 ? xh / Math.sqrt(xx * hh) : 0;
            }
        }
        switch (codes) {
            case LatentCodes.Sparse sparse -> {
                active += ops.countAbove(sparse.values(), 0f);
                ops.sparseColumnCountPositive(sparse.values(), sparse.indices(), firing);
            }
            case LatentCodes.Dense dense -> {
                active += ops.countAbove(dense.activations(), 0f);
                ops.columnCountAbove(dense.activations(), 0f, firing);
            }
        }
        rows += n;
    }

    public long rows() {
        return rows;
    }

    /** The metrics of everything added so far. */
    public Result result() {
        double meanSq = 0;
        for (double s : sumShifted) {
            double m = s / Math.max(1, rows);
            meanSq += m * m;
        }
        double variance = sumSquaresShifted - rows * meanSq;
        double fvu = variance > 0 ? sse / variance : Double.NaN;
        float[] counts = firing.toFloatArray();
        int dead = 0;
        double[] density = new double[dSae];
        for (int i = 0; i < dSae; i++) {
            if (counts[i] == 0f) {
                dead++;
            }
            density[i] = rows == 0 ? 0 : counts[i] / (double) rows;
        }
        double scale2 = inputScale * inputScale;
        return new Result(rows, fvu, 1 - fvu, sumSquaresX > 0 ? sse / sumSquaresX : Double.NaN,
                rows == 0 ? Double.NaN : sse / scale2 / ((double) rows * dIn),
                rows == 0 ? Double.NaN : active / (double) rows,
                normRows == 0 ? Double.NaN : sumRatio / normRows,
                normRows == 0 ? Double.NaN : sumCosine / normRows,
                (double) dead / dSae, density);
    }

    @Override
    public void close() {
        scratch.close();
        shift.close();
        firing.close();
    }

    /**
     * @param firingDensity per latent, the fraction of rows it fired on
     */
    public record Result(long tokens, double fvu, double fve, double normalizedMse, double mse, double l0,
                         double l2Ratio, double cosine, double deadFraction, double[] firingDensity) {

        /** The scalar metrics by their names in JSONL and plots. */
        public Map<String, Double> asMap() {
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("fvu", fvu);
            m.put("fve", fve);
            m.put("nmse", normalizedMse);
            m.put("mse", mse);
            m.put("l0", l0);
            m.put("l2_ratio", l2Ratio);
            m.put("cosine", cosine);
            m.put("dead_fraction", deadFraction);
            m.put("eval_tokens", (double) tokens);
            return m;
        }
    }
}
