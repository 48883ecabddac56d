package io.github.sae4j.api.model;

import io.github.sae4j.api.plugin.Plugin;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** Loads language models of one family and file layout (for example Llama 3 in Hugging Face or GGUF form). */
public interface LanguageModelProvider extends Plugin {

    /** Whether this provider recognizes {@code path} (a model directory or file). */
    boolean canOpen(Path path);

    /**
     * Describes the model at {@code path} without loading its weights (for {@code sae4j info}).
     */
    String describe(Path path) throws IOException;

    /**
     * @param options provider-specific settings (threads, dtype, ...); unknown keys are an error
     */
    LanguageModel open(Path path, Map<String, String> options) throws IOException;
}
