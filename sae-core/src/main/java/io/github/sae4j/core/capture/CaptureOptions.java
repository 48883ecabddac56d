package io.github.sae4j.core.capture;

import io.github.sae4j.core.store.ActivationDType;

/**
 * How sentences become stored activation rows. The defaults are the original work's: no BOS, at most 192 tokens
 * per sentence, empty sentences skipped, bfloat16 values.
 *
 * @param maxTokens            tokens per sentence at most (longer ones are cut, and counted)
 * @param addBos               start every sentence with the beginning-of-text token
 * @param dropFirstToken       feed the first token to the model but store no row for it (its residual is an
 *                             outlier in many models)
 * @param excludeSpecialTokens store no row for control tokens (BOS, end of turn, chat headers)
 * @param dtype                how values are stored
 * @param shardBytes           about this many bytes of values per shard (a shard ends at a sentence boundary)
 * @param rowsPerBatch         rows per Arrow record batch: the unit of shuffling and of the validation split
 * @param forwardTokens        tokens per model forward: sentences are packed end to end up to this many
 * @param maxSentences         stop after this many sentences have been read (resumed runs count from the start)
 * @param queuedForwards       finished forwards the shard writer may lag behind; bounds memory
 */
public record CaptureOptions(int maxTokens, boolean addBos, boolean dropFirstToken, boolean excludeSpecialTokens,
                             ActivationDType dtype, long shardBytes, int rowsPerBatch, int forwardTokens,
                             long maxSentences, int queuedForwards) {

    public static final int DEFAULT_MAX_TOKENS = 192;

    public CaptureOptions {
        require(maxTokens >= 1, "max tokens per sentence must be >= 1, got " + maxTokens);
        require(forwardTokens >= maxTokens, "tokens per forward (" + forwardTokens + ") must be at least the longest "
                + "sentence (" + maxTokens + ")");
        require(shardBytes > 0 && rowsPerBatch >= 1, "shard size and rows per record batch must be positive");
        require(maxSentences >= 0, "the sentence limit must be >= 0, got " + maxSentences);
        require(queuedForwards >= 1, "queued forwards must be >= 1, got " + queuedForwards);
        java.util.Objects.requireNonNull(dtype, "dtype");
    }

    /** The original pipeline's settings, 256 MiB shards. */
    public static CaptureOptions defaults() {
        return new CaptureOptions(DEFAULT_MAX_TOKENS, false, false, false, ActivationDType.BF16, 256L << 20, 4096, 4096,
                Long.MAX_VALUE, 2);
    }

    public CaptureOptions withShardBytes(long bytes) {
        return new CaptureOptions(maxTokens, addBos, dropFirstToken, excludeSpecialTokens, dtype, bytes, rowsPerBatch,
                forwardTokens, maxSentences, queuedForwards);
    }

    public CaptureOptions withMaxSentences(long n) {
        return new CaptureOptions(maxTokens, addBos, dropFirstToken, excludeSpecialTokens, dtype, shardBytes,
                rowsPerBatch, forwardTokens, n, queuedForwards);
    }

    /** Rows per shard for {@code dModel}-wide rows: at least one whole sentence. */
    public int rowsPerShard(int dModel) {
        long rows = shardBytes / ((long) dModel * dtype.bytesPerValue());
        return (int) Math.max(maxTokens, Math.min(Integer.MAX_VALUE, rows));
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
