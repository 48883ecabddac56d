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
}
