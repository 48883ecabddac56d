package io.github.sae4j.cli;

import io.github.sae4j.api.model.LanguageModel;
import io.github.sae4j.core.Plugins;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** The options every command that runs a language model shares, and how the model is found and opened. */
final class ModelOptions {

    /** The embedded default model, relative to the sae4j home (the repository root). */
    static final String EMBEDDED = "models/tiny-llama3";

    @Option(names = "--model", paramLabel = "DIR|FILE.gguf",
            description = "model: a Hugging Face directory or a .gguf file (default: the embedded tiny Llama 3, " + EMBEDDED + ")")
    Path model;

    @Option(names = "--backend", defaultValue = "java", description = "compute backend (default ${DEFAULT-VALUE})")
    String backend;

    @Option(names = "--threads", description = "compute threads (default: all processors)")
    Integer threads;

    @Option(names = "--model-option", paramLabel = "KEY=VALUE", description = "model plugin option (repeatable)")
    Map<String, String> modelOptions = new LinkedHashMap<>();

    /** The model's path: --model, or the embedded model. */
    Path path() throws IOException {
        return model != null ? model : embeddedModel();
    }

    LanguageModel open() throws IOException {
        Map<String, String> options = new LinkedHashMap<>(modelOptions);
        options.putIfAbsent("backend", backend);
        if (threads != null) {
            options.putIfAbsent("threads", String.valueOf(threads));
        }
        Path path = path();
        if (!Files.exists(path)) {
            throw new IOException(path + " does not exist; --model takes a Hugging Face model directory or a .gguf file");
        }
        return Plugins.openModel(path, options);
    }

    /** {@code models/tiny-llama3} under the sae4j home (set by the launcher) or above the working directory. */
    static Path embeddedModel() throws IOException {
        String home = System.getProperty("sae4j.home");
        if (home != null && Files.isDirectory(Path.of(home, EMBEDDED))) {
            return Path.of(home, EMBEDDED);
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve(EMBEDDED).resolve("config.json"))) {
                return dir.resolve(EMBEDDED);
            }
        }
        throw new IOException("cannot find the embedded model " + EMBEDDED + " (looked under -Dsae4j.home and above "
                + Path.of("").toAbsolutePath() + "); pass --model DIR|FILE.gguf");
    }
}
