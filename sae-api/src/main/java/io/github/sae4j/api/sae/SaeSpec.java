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
 * @param inputShift     subtracted from raw activations before scaling and added back to reconstructions (the
 *                       data mean, for mean-centering), or null for none: {@code x_sae = (x - shift) * scale}
 */
public record SaeSpec(String architecture, int dIn, int dSae, Map<String, Object> settings, double inputScale,
                      Map<String, String> metadata, float[] inputShift) {

    /** A spec without mean-centering. */
    public SaeSpec(String architecture, int dIn, int dSae, Map<String, Object> settings, double inputScale,
                   Map<String, String> metadata) {
        this(architecture, dIn, dSae, settings, inputScale, metadata, null);
    }

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
        if (inputShift != null) {
            if (inputShift.length != dIn) {
                throw new IllegalArgumentException("input_shift has " + inputShift.length + " values but d_in is " + dIn);
            }
            for (float v : inputShift) {
                if (!Float.isFinite(v)) {
                    throw new IllegalArgumentException("input_shift holds a non-finite value " + v);
                }
            }
            inputShift = inputShift.clone();
        }
    }

    /** The same spec, mean-centred on {@code shift} (raw units), or not centred with null. */
    public SaeSpec withInputShift(float[] shift) {
        return new SaeSpec(architecture, dIn, dSae, settings, inputScale, metadata, shift);
    }

    /** A copy of the shift, or null. */
    @Override
    public float[] inputShift() {
        return inputShift == null ? null : inputShift.clone();
    }

    /**
     * How raw activations become the SAE's input, in SAELens' vocabulary where it has a word:
     * {@code none}, {@code constant_scale}, {@code center} or {@code center_constant_scale}.
     */
    public String normalization() {
        boolean scaled = inputScale != 1.0;
        if (inputShift == null) {
            return scaled ? "constant_scale" : "none";
        }
        return scaled ? "center_constant_scale" : "center";
    }

    /** Raw rows to SAE units in place: {@code x = (x - shift) * scale} for {@code rows} rows from {@code offset}. */
    public void normalize(float[] x, int offset, int rows) {
        for (int r = 0; r < rows; r++) {
            int base = offset + r * dIn;
            for (int i = 0; i < dIn; i++) {
                float v = inputShift == null ? x[base + i] : x[base + i] - inputShift[i];
                x[base + i] = (float) (v * inputScale);
            }
        }
    }

    /** SAE units back to raw in place: {@code x = x / scale + shift}. */
    public void denormalize(float[] x, int offset, int rows) {
        for (int r = 0; r < rows; r++) {
            int base = offset + r * dIn;
            for (int i = 0; i < dIn; i++) {
                float v = (float) (x[base + i] / inputScale);
                x[base + i] = inputShift == null ? v : v + inputShift[i];
            }
        }
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
