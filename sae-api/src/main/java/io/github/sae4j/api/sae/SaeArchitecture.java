package io.github.sae4j.api.sae;

import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.plugin.Plugin;
import java.util.List;
import java.util.Map;

/**
 * A kind of SAE (TopK, ReLU+L1, BatchTopK, ...): its settings and how to build one. Registered in
 * {@code META-INF/services/io.github.sae4j.api.sae.SaeArchitecture}; adding one touches no other file.
 */
public interface SaeArchitecture extends Plugin {

    /** The settings this architecture takes, with defaults. */
    List<HyperParameter> hyperParameters();

    /**
     * A spec for this architecture from raw settings (text or JSON values); applies defaults and validates.
     *
     * @throws IllegalArgumentException naming the bad setting, its value and what would be valid
     */
    default SaeSpec spec(int dIn, int dSae, Map<String, ?> rawSettings, double inputScale, Map<String, String> metadata) {
        SaeSpec spec = new SaeSpec(name(), dIn, dSae, SaeSpec.resolveSettings(name(), hyperParameters(), rawSettings),
                inputScale, metadata);
        validate(spec);
        return spec;
    }

    /**
     * Checks settings that depend on each other or on the sizes (for example {@code k <= d_sae}).
     *
     * @throws IllegalArgumentException naming the setting, its value and the fix
     */
    void validate(SaeSpec spec);

    /** A new SAE with all parameters zero, on {@code device}; call {@link Sae#initialize} or load weights next. */
    Sae create(SaeSpec spec, Device device);
}
