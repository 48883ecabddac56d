package io.github.sae4j.core.capture;

/**
 * Where a capture stands, cumulative over resumed runs.
 *
 * @param sentencesRead      sentences taken from the source (empty ones included)
 * @param sentencesEmpty     skipped: no tokens
 * @param sentencesTruncated cut to the token limit
 * @param tokensFed          tokens the model read
 * @param rowsStored         activation rows written per hook point (committed or staged)
 * @param lastSentenceId     the last sentence read, or -1
 */
public record CaptureProgress(long sentencesRead, long sentencesEmpty, long sentencesTruncated, long tokensFed,
                              long rowsStored, long lastSentenceId) {

    public static final CaptureProgress NONE = new CaptureProgress(0, 0, 0, 0, 0, -1);
}
