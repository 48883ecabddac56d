package io.github.sae4j.core.synth;

/**
 * A synthetic activation distribution with a known dictionary: each row is
 * {@code offset + sum_{i active} a_i d_i + noise}, with unit feature directions {@code d_i}, feature i active with
 * probability proportional to {@code (i + 1)^-frequencyExponent} (about {@code meanActive} features per row), and
 * magnitudes {@code a_i} uniform in {@code [magnitudeMin, magnitudeMax]}.
 *
 * @param dModel            row width
 * @param features          ground-truth features
 * @param meanActive        average active features per row (Poisson)
 * @param frequencyExponent power-law exponent of feature frequencies (0: all equally frequent)
 * @param magnitudeMin      smallest activation of an active feature
 * @param magnitudeMax      largest activation of an active feature
 * @param noiseStd          standard deviation of the isotropic Gaussian noise per dimension
 * @param offsetNorm        norm of the constant offset added to every row (the data mean the SAE must learn)
 * @param rows              rows to generate
 * @param tokensPerSentence rows per pseudo-sentence in the provenance columns
 * @param seed              seeds the dictionary and every row
 */
public record SyntheticConfig(int dModel, int features, double meanActive, double frequencyExponent,
                              double magnitudeMin, double magnitudeMax, double noiseStd, double offsetNorm, long rows,
                              int tokensPerSentence, long seed) {

    public SyntheticConfig {
        check(dModel >= 1, "d_model", dModel, ">= 1");
        check(features >= 1, "features", features, ">= 1");
        check(meanActive > 0 && meanActive <= features, "mean_active", meanActive, "in (0, features]");
        check(frequencyExponent >= 0, "frequency_exponent", frequencyExponent, ">= 0");
        check(magnitudeMin > 0 && magnitudeMax >= magnitudeMin, "magnitudes", magnitudeMin + ".." + magnitudeMax,
                "0 < min <= max");
        check(noiseStd >= 0, "noise", noiseStd, ">= 0");
        check(offsetNorm >= 0, "offset_norm", offsetNorm, ">= 0");
        check(rows >= 1, "rows", rows, ">= 1");
        check(tokensPerSentence >= 1, "tokens_per_sentence", tokensPerSentence, ">= 1");
    }

    private static void check(boolean ok, String name, Object value, String valid) {
        if (!ok) {
            throw new IllegalArgumentException("synthetic setting " + name + "=" + value + " is impossible: it must be "
                    + valid);
        }
    }

    /** A small default: 64 dimensions, 256 features, 4 active per row. */
    public static SyntheticConfig small(long rows, long seed) {
        return new SyntheticConfig(64, 256, 4, 0.5, 0.5, 1.5, 0.02, 1.0, rows, 64, seed);
    }
}
