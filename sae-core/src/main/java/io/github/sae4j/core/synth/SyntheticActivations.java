package io.github.sae4j.core.synth;

import io.github.sae4j.core.sae.ParameterInit;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Generates rows of a {@link SyntheticConfig}. Rows come in blocks of {@value #BLOCK} with one seeded random
 * stream per block, so any block can be regenerated on its own and the data does not depend on how it is chunked.
 */
public final class SyntheticActivations {

    public static final int BLOCK = 4096;

    private final SyntheticConfig config;
    private final float[] dictionary;
    private final float[] offset;
    private final double[] cumulative;
    private final double[] frequencies;

    public SyntheticActivations(SyntheticConfig config) {
        this.config = config;
        int d = config.dModel();
        int f = config.features();
        SplittableRandom random = new SplittableRandom(config.seed());
        this.dictionary = ParameterInit.randomRows(random, f, d, 1.0);
        this.offset = ParameterInit.randomRows(random, 1, d, 1.0);
        for (int i = 0; i < d; i++) {
            offset[i] = (float) (offset[i] * config.offsetNorm());
        }
        double[] weights = new double[f];
        double total = 0;
        for (int i = 0; i < f; i++) {
            weights[i] = Math.pow(i + 1, -config.frequencyExponent());
            total += weights[i];
        }
        this.cumulative = new double[f];
        this.frequencies = new double[f];
        double acc = 0;
        for (int i = 0; i < f; i++) {
            acc += weights[i] / total;
            cumulative[i] = acc;
            frequencies[i] = Math.min(1.0, config.meanActive() * weights[i] / total);
        }
    }

    public SyntheticConfig config() {
        return config;
    }

    /** The ground-truth feature directions, {@code [features, d_model]} row-major. */
    public float[] dictionary() {
        return dictionary.clone();
    }

    /** The constant offset (the data mean up to the mean feature contribution). */
    public float[] offset() {
        return offset.clone();
    }

    /** Approximate firing probability of each feature. */
    public double[] frequencies() {
        return frequencies.clone();
    }

    /** Number of blocks needed for all rows. */
    public long blocks() {
        return (config.rows() + BLOCK - 1) / BLOCK;
    }

    /** Rows in block {@code block}. */
    public int blockRows(long block) {
        return (int) Math.min(BLOCK, config.rows() - block * BLOCK);
    }

    /**
     * Writes block {@code block} into the arrays: {@code values} {@code [rows, d_model]}, and per row the
     * pseudo-sentence id, position and the id of its strongest feature (-1 if none) as the token id.
     */
    public void generateBlock(long block, float[] values, long[] sentenceIds, int[] positions, int[] tokenIds) {
        int d = config.dModel();
        int rows = blockRows(block);
        SplittableRandom random = new SplittableRandom(config.seed() * 0x9E3779B97F4A7C15L + block + 1);
        int[] chosen = new int[Math.max(8, (int) Math.ceil(config.meanActive() * 4))];
        double noise = config.noiseStd();
        for (int r = 0; r < rows; r++) {
            long row = block * BLOCK + r;
            int base = r * d;
            System.arraycopy(offset, 0, values, base, d);
            int active = poisson(random, config.meanActive());
            if (active > chosen.length) {
                chosen = Arrays.copyOf(chosen, active * 2);
            }
            int count = 0;
            int strongest = -1;
            double strongestMagnitude = 0;
            for (int attempt = 0; count < Math.min(active, config.features()) && attempt < active * 8; attempt++) {
                int feature = sample(random.nextDouble());
                if (contains(chosen, count, feature)) {
                    continue;
                }
                chosen[count++] = feature;
                double a = config.magnitudeMin() + random.nextDouble() * (config.magnitudeMax() - config.magnitudeMin());
                if (a > strongestMagnitude) {
                    strongestMagnitude = a;
                    strongest = feature;
                }
                int f = feature * d;
                for (int c = 0; c < d; c++) {
                    values[base + c] += (float) (a * dictionary[f + c]);
                }
            }
            if (noise > 0) {
                for (int c = 0; c < d; c++) {
                    values[base + c] += (float) (noise * random.nextGaussian());
                }
            }
            sentenceIds[r] = row / config.tokensPerSentence();
            positions[r] = (int) (row % config.tokensPerSentence());
            tokenIds[r] = strongest;
        }
    }

    private int sample(double u) {
        int i = Arrays.binarySearch(cumulative, u);
        i = i >= 0 ? i : -i - 1;
        return Math.min(i, cumulative.length - 1);
    }

    private static boolean contains(int[] a, int n, int v) {
        for (int i = 0; i < n; i++) {
            if (a[i] == v) {
                return true;
            }
        }
        return false;
    }

    /** Knuth's method: fine for the small means used here. */
    private static int poisson(SplittableRandom random, double mean) {
        if (mean > 30) {
            return Math.max(0, (int) Math.round(mean + Math.sqrt(mean) * random.nextGaussian()));
        }
        double limit = Math.exp(-mean);
        double p = 1;
        int k = 0;
        do {
            k++;
            p *= random.nextDouble();
        } while (p > limit);
        return k - 1;
    }
}
