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
        return embedded(EMBEDDED, "config.json", "pass --model DIR|FILE.gguf");
    }

    /**
     * {@code relative} (a path in the repository, such as the embedded model or the demo corpus) under the sae4j home
     * or the first directory above the working directory that holds {@code relative/marker}.
     */
    static Path embedded(String relative, String marker, String fix) throws IOException {
        String home = System.getProperty("sae4j.home");
        if (home != null && Files.exists(Path.of(home, relative, marker))) {
            return Path.of(home, relative);
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.exists(dir.resolve(relative).resolve(marker))) {
                return dir.resolve(relative);
            }
        }
        throw new IOException("cannot find " + relative + " (looked under -Dsae4j.home and above "
                + Path.of("").toAbsolutePath() + "); " + fix);
    }
}
