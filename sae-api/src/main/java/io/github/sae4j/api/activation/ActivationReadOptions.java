package io.github.sae4j.api.activation;

/**
 * How to read an activation source.
 *
 * @param split              which rows
 * @param validationFraction the fraction held out for validation (the same for every reader of a source)
 * @param shuffle            shuffle rows (reproducibly, from {@code seed}) or read them in stored order
 * @param seed               seeds the shuffle
 * @param shuffleWindowRows  the bounded buffer: rows are shuffled within windows of about this many rows drawn
 *                           from across the source
 * @param repeat             start over (a new epoch, a new shuffle) at the end instead of stopping
 * @param resumeCursor       a {@link ActivationStream#cursor()} to continue from, or null to start at the beginning
 */
public record ActivationReadOptions(ActivationSplit split, double validationFraction, boolean shuffle, long seed,
                                    int shuffleWindowRows, boolean repeat, String resumeCursor) {

    public ActivationReadOptions {
        if (!(validationFraction >= 0 && validationFraction < 1)) {
            throw new IllegalArgumentException("the validation fraction must be in [0, 1), got " + validationFraction);
        }
        if (shuffleWindowRows <= 0) {
            throw new IllegalArgumentException("the shuffle window must hold at least one row, got " + shuffleWindowRows);
        }
    }

    /** Every row, in stored order, once. */
    public static ActivationReadOptions sequential() {
        return new ActivationReadOptions(ActivationSplit.ALL, 0, false, 0, 1 << 16, false, null);
    }

    public ActivationReadOptions withSplit(ActivationSplit s) {
        return new ActivationReadOptions(s, validationFraction, shuffle, seed, shuffleWindowRows, repeat, resumeCursor);
    }

    public ActivationReadOptions withResumeCursor(String cursor) {
        return new ActivationReadOptions(split, validationFraction, shuffle, seed, shuffleWindowRows, repeat, cursor);
    }
}
