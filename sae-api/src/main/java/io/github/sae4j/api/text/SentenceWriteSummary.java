package io.github.sae4j.api.text;

import java.util.Map;
import java.util.Objects;

/**
 * What writing a sentences file did.
 *
 * @param documents documents read from the corpus, skipped ones included
 * @param skipped   documents that gave no sentences, by reason (for example {@code null}, {@code empty}), in the
 *                  order the reasons were first met
 * @param sentences sentences written
 * @param textBytes UTF-8 bytes of the sentences written
 * @param fileBytes size of the file written
 * @param seconds   wall-clock time of the whole write
 */
public record SentenceWriteSummary(long documents, Map<String, Long> skipped, long sentences, long textBytes,
        long fileBytes, double seconds) {

    public SentenceWriteSummary {
        skipped = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(Objects.requireNonNull(skipped, "skipped")));
    }

    /** All skipped documents, whatever the reason. */
    public long skippedDocuments() {
        return skipped.values().stream().mapToLong(Long::longValue).sum();
    }
}
