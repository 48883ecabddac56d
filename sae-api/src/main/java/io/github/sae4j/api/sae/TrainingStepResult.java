package io.github.sae4j.api.sae;

import java.util.Map;

/**
 * What one training step computed.
 *
 * @param loss   the total loss that the gradients belong to
 * @param terms  its parts and companions by name ({@code fvu}, {@code mse}, {@code auxk}, {@code l1}, ...)
 * @param l0     mean number of active latents per row
 */
public record TrainingStepResult(double loss, Map<String, Double> terms, double l0) {

    public TrainingStepResult {
        terms = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(terms));
    }
}
