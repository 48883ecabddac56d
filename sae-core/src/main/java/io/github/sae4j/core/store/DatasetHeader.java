package io.github.sae4j.core.store;

import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What every shard of an activation dataset shares.
 *
 * @param dModel    width of each activation row
 * @param dtype     how values are stored
 * @param model     the model the activations came from, for example {@code meta-llama/Llama-3.2-1B}
 * @param hookPoint where in the model, for example {@code blocks.12.hook_resid_post}
 * @param metadata  further provenance (layer, corpus, capture settings), stored in every shard's schema and sidecar
 */
public record DatasetHeader(int dModel, ActivationDType dtype, String model, String hookPoint, Map<String, String> metadata) {

    /** Schema metadata keys the format itself uses; extra metadata may not reuse them. */
    static final Set<String> RESERVED_KEYS = Set.of(ShardFormat.KEY_FORMAT, ShardFormat.KEY_D_MODEL,
            ShardFormat.KEY_DTYPE, ShardFormat.KEY_MODEL, ShardFormat.KEY_HOOK_POINT);

    public DatasetHeader {
        if (dModel <= 0) {
            throw new IllegalArgumentException("d_model must be positive, got " + dModel);
        }
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(model, "model (use \"\" when unknown)");
        Objects.requireNonNull(hookPoint, "hookPoint (use \"\" when unknown)");
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
        for (String key : metadata.keySet()) {
            if (RESERVED_KEYS.contains(key)) {
                throw new IllegalArgumentException("metadata key '" + key + "' is reserved by the shard format "
                        + RESERVED_KEYS + ": pass it as a DatasetHeader field or rename it");
            }
        }
    }
}
