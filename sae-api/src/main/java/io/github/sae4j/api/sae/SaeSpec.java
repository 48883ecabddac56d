package io.github.sae4j.api.sae;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What an SAE is: its architecture, sizes and settings. Saved as {@code cfg.json} beside the weights.
 *
 * @param architecture   the {@link SaeArchitecture#name()} that builds it
 * @param dIn            width of the activations it reads (the model's d_model)
 * @param dSae           number of latents
 * @param settings       the architecture's hyperparameters, typed (Integer, Double, Boolean, String)
 * @param inputScale     activations are multiplied by this before encoding and reconstructions divided
 *                       by it after decoding (1 = no normalization); the SAE's weights live in scaled units
 * @param metadata       provenance: model, hook point, dataset, ... (free text, saved as is)
 */
public record SaeSpec(String architecture, int dIn, int dSae, Map<String, Object> settings, double inputScale,
                      Map<String, String> metadata) {

    public SaeSpec {
        Objects.requireNonNull(architecture, "architecture");
        if (dIn <= 0) {
            throw new IllegalArgumentException("d_in must be positive, got " + dIn);
        }
        if (dSae <= 0) {
            throw new IllegalArgumentException("the number of latents (d_sae) must be positive, got " + dSae);
        }
        if (!(inputScale > 0) || !Double.isFinite(inputScale)) {
            throw new IllegalArgumentException("input_scale must be a positive finite number, got " + inputScale);
        }
        settings = Collections.unmodifiableMap(new LinkedHashMap<>(settings));
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    public int intSetting(String name) {
        return ((Number) setting(name)).intValue();
    }

    public double doubleSetting(String name) {
        return ((Number) setting(name)).doubleValue();
    }

    public boolean booleanSetting(String name) {
        return (Boolean) setting(name);
    }

    public String stringSetting(String name) {
        return String.valueOf(setting(name));
    }

    public Object setting(String name) {
        Object v = settings.get(name);
        if (v == null) {
            throw new IllegalArgumentException("SAE '" + architecture + "' has no setting '" + name + "'; it has "
                    + settings.keySet());
        }
        return v;
    }

    /**
     * Resolves raw settings against an architecture's declared hyperparameters: applies defaults, parses
     * and type-checks values, and rejects unknown or missing settings with a message that lists the valid ones.
     *
     * @param raw values as text or JSON primitives, by name
     */
    public static Map<String, Object> resolveSettings(String architecture, List<HyperParameter> declared,
                                                      Map<String, ?> raw) {
        Map<String, HyperParameter> byName = new LinkedHashMap<>();
        declared.forEach(h -> byName.put(h.name(), h));
        List<String> unknown = new ArrayList<>();
        for (String key : raw.keySet()) {
            if (!byName.containsKey(key)) {
                unknown.add(key);
            }
        }
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("SAE architecture '" + architecture + "' has no setting(s) " + unknown
                    + ". Its settings: " + describe(declared));
        }
        Map<String, Object> resolved = new LinkedHashMap<>();
        for (HyperParameter h : declared) {
            Object value = raw.get(h.name());
            if (value == null) {
                if (h.isRequired()) {
                    throw new IllegalArgumentException("SAE architecture '" + architecture + "' needs setting '"
                            + h.name() + "' (" + h.description() + ")");
                }
                resolved.put(h.name(), h.defaultValue());
            } else {
                resolved.put(h.name(), value instanceof String s ? h.parse(s) : h.coerce(value));
            }
        }
        return resolved;
    }

    private static String describe(List<HyperParameter> declared) {
        if (declared.isEmpty()) {
            return "none";
        }
        StringBuilder sb = new StringBuilder();
        for (HyperParameter h : declared) {
            if (!sb.isEmpty()) {
                sb.append(", ");
            }
            sb.append(h.name()).append(h.isRequired() ? " (required)" : "=" + h.defaultValue());
        }
        return sb.toString();
    }
}
