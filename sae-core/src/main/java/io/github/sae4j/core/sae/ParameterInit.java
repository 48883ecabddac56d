package io.github.sae4j.core.sae;

import java.util.SplittableRandom;

/** Seeded initial values, drawn on the host so every backend starts from the same weights. */
public final class ParameterInit {

    private ParameterInit() {
    }

    /** {@code rows} random directions of length {@code norm} in {@code cols} dimensions, row-major. */
    public static float[] randomRows(long seed, int rows, int cols, double norm) {
        return randomRows(new SplittableRandom(seed), rows, cols, norm);
    }

    /** The same, drawing from {@code random} (which advances). */
    public static float[] randomRows(SplittableRandom random, int rows, int cols, double norm) {
        float[] w = new float[Math.multiplyExact(rows, cols)];
        for (int r = 0; r < rows; r++) {
            double sq = 0;
            for (int c = 0; c < cols; c++) {
                double g = random.nextGaussian();
                w[r * cols + c] = (float) g;
                sq += g * g;
            }
            double scale = sq > 0 ? norm / Math.sqrt(sq) : 0;
            for (int c = 0; c < cols; c++) {
                w[r * cols + c] = (float) (w[r * cols + c] * scale);
            }
        }
        return w;
    }
}
