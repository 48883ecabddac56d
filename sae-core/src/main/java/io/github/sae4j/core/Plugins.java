package io.github.sae4j.core;

import io.github.sae4j.api.activation.ActivationSource;
import io.github.sae4j.api.activation.ActivationSourceProvider;
import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.backend.BackendProvider;
import io.github.sae4j.api.metrics.MetricsSinkProvider;
import io.github.sae4j.api.model.LanguageModelProvider;
import io.github.sae4j.api.text.SentenceSource;
import io.github.sae4j.api.text.SentenceSourceProvider;
import io.github.sae4j.api.plugin.PluginRegistry;
import io.github.sae4j.api.sae.SaeArchitecture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;

/** The plugin registries sae4j uses, loaded from the class path, and the lookups built on them. */
public final class Plugins {

    private Plugins() {
    }

    public static PluginRegistry<BackendProvider> backends() {
        return PluginRegistry.load(BackendProvider.class, "backend");
    }

    public static PluginRegistry<SaeArchitecture> architectures() {
        return PluginRegistry.load(SaeArchitecture.class, "SAE architecture");
    }

    public static PluginRegistry<ActivationSourceProvider> activationSources() {
        return PluginRegistry.load(ActivationSourceProvider.class, "activation source");
    }

    public static PluginRegistry<MetricsSinkProvider> metricsSinks() {
        return PluginRegistry.load(MetricsSinkProvider.class, "metrics sink");
    }

    /** A capture directory (with capture.json) of one hook point stands for that hook point's dataset. */
    public static Path captureDataset(Path path) throws IOException {
        if (!Files.isRegularFile(path.resolve("capture.json"))) {
            return path;
        }
        java.util.List<Path> datasets;
        try (var entries = Files.list(path)) {
            datasets = entries.filter(Files::isDirectory).filter(d -> d.getFileName().toString().startsWith("blocks."))
                    .sorted().toList();
        }
        if (datasets.size() == 1) {
            return datasets.getFirst();
        }
        throw new IOException(path + " is a capture of " + datasets.size() + " hook points; pass one of its datasets: "
                + datasets.stream().map(Path::toString).toList());
    }

    public static PluginRegistry<io.github.sae4j.api.label.LabelerProvider> labelers() {
        return PluginRegistry.load(io.github.sae4j.api.label.LabelerProvider.class, "labeler");
    }

    public static PluginRegistry<SentenceSourceProvider> sentenceSources() {
        return PluginRegistry.load(SentenceSourceProvider.class, "sentence source");
    }

    /** Opens the corpus or sentence dataset at {@code path} with the first installed provider that recognizes it. */
    public static SentenceSource openSentences(Path path, Map<String, String> options) throws IOException {
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null, "no corpus or sentences there");
        }
        PluginRegistry<SentenceSourceProvider> registry = sentenceSources();
        for (SentenceSourceProvider p : registry.installed()) {
            if (p.canOpen(path)) {
                return p.open(path, options);
            }
        }
        throw new IOException(path + " is not a corpus any installed sentence source reads (installed: "
                + String.join(", ", registry.names()) + "); data-openwebtext reads .parquet, .txt and .jsonl");
    }

    /** Opens the model at {@code path} (a directory or a file) with the first installed plugin that recognizes it. */
    public static io.github.sae4j.api.model.LanguageModel openModel(Path path, Map<String, String> options)
            throws IOException {
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null,
                    "no model there; pass a Hugging Face model directory or a .gguf file");
        }
        for (LanguageModelProvider p : languageModels().installed()) {
            if (p.canOpen(path)) {
                return p.open(path, options);
            }
        }
        throw new IOException(path + ": no installed model plugin recognizes it (installed: " + languageModels().names()
                + "); model-llama3 reads Llama directories with config.json and .gguf files");
    }

    public static PluginRegistry<LanguageModelProvider> languageModels() {
        return PluginRegistry.load(LanguageModelProvider.class, "language model format");
    }

    /**
     * Opens a backend by name, failing with the reason when it cannot run on this machine.
     */
    public static Backend openBackend(String name, Map<String, String> options) {
        BackendProvider provider = backends().get(name);
        String reason = provider.unavailableReason();
        if (reason != null) {
            throw new IllegalStateException("backend '" + name + "' cannot run here: " + reason);
        }
        return provider.open(options);
    }

    /** Opens the activations at {@code path} with the first installed provider that recognizes it. */
    public static ActivationSource openActivations(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null,
                    "no activations there; write some with 'sae4j synth' or 'sae4j capture'");
        }
        path = captureDataset(path);
        PluginRegistry<ActivationSourceProvider> registry = activationSources();
        for (ActivationSourceProvider p : registry.installed()) {
            if (p.canOpen(path)) {
                return p.open(path);
            }
        }
        throw new IOException(path + " is not in a known activation format (installed readers: "
                + String.join(", ", registry.names()) + "); expected a directory of shard-*.arrow files");
    }
}
