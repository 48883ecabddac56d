package io.github.sae4j.api.metrics;

import java.util.Map;
import java.util.Objects;

/**
 * Metrics at one point of a run.
 *
 * @param phase  {@code train}, {@code val}, {@code eval}, ...
 * @param step   the optimizer step they belong to
 * @param tokens activation rows seen by then
 * @param values metric name to value, in a stable order
 */
public record MetricsRecord(String phase, long step, long tokens, Map<String, Double> values) {

    public MetricsRecord {
        Objects.requireNonNull(phase, "phase");
        values = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(values));
    }
}
