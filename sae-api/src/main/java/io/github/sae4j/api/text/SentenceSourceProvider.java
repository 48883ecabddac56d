package io.github.sae4j.api.text;

import io.github.sae4j.api.plugin.Plugin;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** Opens corpora of one kind (OpenWebText parquet, plain text, a sentences parquet) as sentence sources. */
public interface SentenceSourceProvider extends Plugin {

    boolean canOpen(Path path);

    /**
     * @param options provider-specific settings (for example {@code column=text}); unknown keys are an error
     */
    SentenceSource open(Path path, Map<String, String> options) throws IOException;

    /**
     * Splits the corpus at {@code corpus} into sentences and writes them to a sentences file at {@code out}
     * (written whole or not at all: never a half-written file under that name).
     *
     * @param options  as for {@link #open}
     * @param progress told how far the work is, now and then
     * @throws UnsupportedOperationException if this provider only reads
     */
    default SentenceWriteSummary writeSentences(Path corpus, Map<String, String> options, Path out,
            Progress progress) throws IOException {
        throw new UnsupportedOperationException("the sentence source '" + name() + "' cannot write sentence files");
    }

    /** Progress of {@link #writeSentences}. */
    @FunctionalInterface
    interface Progress {

        Progress NONE = (done, total, sentences) -> {
        };

        /**
         * @param documentsDone documents read so far
         * @param documentsTotal documents in the corpus, or -1 if not known before reading it all
         * @param sentences     sentences written so far
         */
        void update(long documentsDone, long documentsTotal, long sentences);
    }
}
