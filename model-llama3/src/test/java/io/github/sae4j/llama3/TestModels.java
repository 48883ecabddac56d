package io.github.sae4j.llama3;

import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.backend.BackendProvider;
import io.github.sae4j.api.plugin.PluginRegistry;
import io.github.sae4j.llama3.model.Llama3Model;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Where the embedded model and the golden files are, and how tests open the model. */
public final class TestModels {

    private TestModels() {
    }

    /** The repository root: the first directory above the working directory that has models/tiny-llama3. */
    public static Path repoRoot() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("models/tiny-llama3/config.json"))) {
                return dir;
            }
        }
        throw new IllegalStateException("models/tiny-llama3 not found above " + Path.of("").toAbsolutePath());
    }

    public static Path tinyModel() {
        return repoRoot().resolve("models/tiny-llama3");
    }

    public static Path golden() {
        return repoRoot().resolve("model-llama3/src/test/resources/golden/tiny-llama3/golden.safetensors");
    }

    /** Opens {@code path} (directory or .gguf) on a fresh java backend with {@code threads} threads. */
    public static Llama3Model open(Path path, int threads, int chunkRows) {
        Backend backend = PluginRegistry.load(BackendProvider.class, "backend").get("java")
                .open(Map.of("threads", String.valueOf(threads)));
        try {
            return Llama3Models.open(path, backend.device(0), chunkRows, List.of(backend));
        } catch (IOException e) {
            backend.close();
            throw new UncheckedIOException(e);
        }
    }

    public static Llama3Model openTiny() {
        return open(tinyModel(), 2, Llama3Model.DEFAULT_CHUNK_ROWS);
    }
}
