package io.github.sae4j.api.backend;

import io.github.sae4j.api.plugin.Plugin;
import java.util.Map;

/**
 * Opens a compute {@link Backend}. Registered in
 * {@code META-INF/services/io.github.sae4j.api.backend.BackendProvider}.
 */
public interface BackendProvider extends Plugin {

    /**
     * Whether this backend can run on this machine (a GPU backend without a GPU cannot).
     * The message says why not; {@code null} when available.
     */
    default String unavailableReason() {
        return null;
    }

    /**
     * Opens the backend.
     *
     * @param options backend-specific settings such as {@code threads=4}; unknown keys are an error
     * @throws IllegalArgumentException for unknown or invalid options
     * @throws IllegalStateException if the backend cannot run here, saying why
     */
    Backend open(Map<String, String> options);
}
