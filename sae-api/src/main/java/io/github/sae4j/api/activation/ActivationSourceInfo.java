package io.github.sae4j.api.activation;

import java.util.Map;

/**
 * What an activation source holds.
 *
 * @param dModel     width of each activation row
 * @param tokens     rows in the source, or -1 when unknown (a live model stream)
 * @param model      the model the activations came from
 * @param hookPoint  where in the model, for example {@code blocks.23.hook_resid_post}
 * @param statistics per-dimension mean and variance, or null when not known in advance
 * @param metadata   further provenance
 */
public record ActivationSourceInfo(int dModel, long tokens, String model, String hookPoint,
                                   ActivationStatistics statistics, Map<String, String> metadata) {

    public ActivationSourceInfo {
        metadata = Map.copyOf(metadata);
    }
}
