package io.github.sae4j.core.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.plugin.PluginRegistry;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeArchitecture;
import io.github.sae4j.api.sae.SaeParameter;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.core.Sae4jVersion;
import io.github.sae4j.core.io.AtomicFiles;
import io.github.sae4j.core.io.Safetensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An SAE on disk: a directory with {@code sae.safetensors} (W_enc [d_in, d_sae], W_dec [d_sae, d_in], b_enc,
 * b_dec, F32) and {@code cfg.json} (architecture, sizes, settings, input scale, provenance), SAELens-style names.
 */
public final class SaeCheckpoint {

    public static final String WEIGHTS = "sae.safetensors";
    public static final String CONFIG = "cfg.json";
    public static final String FORMAT = "sae4j.sae.v1";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private SaeCheckpoint() {
    }

    /** Writes the SAE into {@code directory} atomically (a complete new directory replaces any old one). */
    public static void save(Sae sae, Path directory) throws IOException {
        AtomicFiles.writeDirectory(directory, tmp -> writeInto(sae, tmp));
    }

    /** Writes {@code sae.safetensors} and {@code cfg.json} into an existing directory (not atomic by itself). */
    public static void writeInto(Sae sae, Path directory) throws IOException {
        List<Safetensors.Array> arrays = new ArrayList<>();
        for (SaeParameter p : sae.parameters()) {
            float[] values = p.value().toFloatArray();
            int[] shape = p.value().shape();
            if (p.transposed()) {
                values = transpose(values, shape[0], shape[1]);
            }
            arrays.add(Safetensors.Array.f32(p.name(), values, p.checkpointShape()));
        }
        writeInto(sae.spec(), arrays, directory);
    }

    /**
     * Writes an SAE given as arrays in checkpoint layout (for example gathered from the devices its latents are
     * split over) into an existing directory: the same files as {@link #writeInto(Sae, Path)}.
     */
    public static void writeInto(SaeSpec spec, List<Safetensors.Array> arrays, Path directory) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("architecture", spec.architecture());
        Safetensors.write(directory.resolve(WEIGHTS), arrays, meta);
        Files.writeString(directory.resolve(CONFIG), JSON.writeValueAsString(configJson(spec)));
    }

    /** Row-major transpose of a rows x cols matrix. */
    public static float[] transpose(float[] m, int rows, int cols) {
        float[] t = new float[m.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = m[r * cols + c];
            }
        }
        return t;
    }

    /** cfg.json: sae4j's fields plus the SAELens names readers of that ecosystem look for. */
    public static ObjectNode configJson(SaeSpec spec) {
        ObjectNode cfg = JSON.createObjectNode();
        cfg.put("format", FORMAT);
        cfg.put("architecture", spec.architecture());
        cfg.put("d_in", spec.dIn());
        cfg.put("d_sae", spec.dSae());
        cfg.set("settings", JSON.valueToTree(spec.settings()));
        cfg.put("input_scale", spec.inputScale());
        cfg.put("dtype", "float32");
        cfg.put("apply_b_dec_to_input", true);
        cfg.put("normalize_activations", spec.normalization());
        if (spec.inputShift() != null) {
            // Raw activations minus this, times input_scale, are the SAE's input; reconstructions go back the same way.
            cfg.set("input_shift", JSON.valueToTree(spec.inputShift()));
        }
        cfg.put("model_name", spec.metadata().getOrDefault("model", ""));
        cfg.put("hook_name", spec.metadata().getOrDefault("hook_point", ""));
        cfg.set("metadata", JSON.valueToTree(spec.metadata()));
        cfg.put("sae4j_version", Sae4jVersion.VERSION);
        return cfg;
    }

    /** Reads the spec from {@code directory/cfg.json}. */
    public static SaeSpec readSpec(Path directory) throws IOException {
        Path cfgFile = directory.resolve(CONFIG);
        JsonNode cfg;
        try {
            cfg = JSON.readTree(cfgFile.toFile());
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            throw new IOException(directory + " is not an SAE checkpoint: it has no " + CONFIG
                    + " (an SAE directory holds sae.safetensors and cfg.json)", e);
        } catch (IOException e) {
            throw new IOException(cfgFile + " is not valid JSON: " + e.getMessage(), e);
        }
        String architecture = text(cfg, "architecture", cfgFile);
        int dIn = integer(cfg, "d_in", cfgFile);
        int dSae = integer(cfg, "d_sae", cfgFile);
        Map<String, Object> settings = new LinkedHashMap<>();
        JsonNode s = cfg.get("settings");
        if (s != null && s.isObject()) {
            for (Map.Entry<String, JsonNode> e : s.properties()) {
                JsonNode v = e.getValue();
                settings.put(e.getKey(), v.isIntegralNumber() ? (Object) v.asInt() : v.isNumber() ? v.asDouble()
                        : v.isBoolean() ? v.asBoolean() : v.asText());
            }
        }
        double scale = cfg.has("input_scale") ? cfg.get("input_scale").asDouble() : 1.0;
        Map<String, String> metadata = new LinkedHashMap<>();
        JsonNode m = cfg.get("metadata");
        if (m != null && m.isObject()) {
            m.properties().forEach(e -> metadata.put(e.getKey(), e.getValue().asText()));
        }
        try {
            float[] shift = null;
            JsonNode sh = cfg.get("input_shift");
            if (sh != null && sh.isArray()) {
                shift = new float[sh.size()];
                for (int i = 0; i < shift.length; i++) {
                    shift[i] = (float) sh.get(i).asDouble();
                }
            }
            return new SaeSpec(architecture, dIn, dSae, settings, scale, metadata, shift);
        } catch (IllegalArgumentException e) {
            throw new IOException(cfgFile + ": " + e.getMessage(), e);
        }
    }

    private static String text(JsonNode cfg, String field, Path file) throws IOException {
        JsonNode v = cfg.get(field);
        if (v == null || !v.isTextual()) {
            throw new IOException(file + " lacks the text field '" + field + "'");
        }
        return v.asText();
    }

    private static int integer(JsonNode cfg, String field, Path file) throws IOException {
        JsonNode v = cfg.get(field);
        if (v == null || !v.canConvertToInt()) {
            throw new IOException(file + " lacks the integer field '" + field + "'");
        }
        return v.asInt();
    }

    /**
     * Loads the SAE in {@code directory} onto {@code device}, building it with the architecture its cfg.json names.
     *
     * @throws IOException naming the file and the tensor or field that is missing or has the wrong shape
     */
    public static Sae load(Path directory, Device device, PluginRegistry<SaeArchitecture> architectures) throws IOException {
        SaeSpec spec = readSpec(directory);
        SaeArchitecture architecture = architectures.get(spec.architecture());
        if (architecture instanceof CompositeArchitecture composite) {
            return composite.load(directory, spec, device, architectures);
        }
        Sae sae;
        try {
            sae = architecture.create(spec, device);
        } catch (IllegalArgumentException e) {
            throw new IOException(directory.resolve(CONFIG) + ": " + e.getMessage(), e);
        }
        try (Safetensors.Reader reader = Safetensors.open(directory.resolve(WEIGHTS))) {
            loadParameters(sae, reader);
        } catch (IOException | RuntimeException e) {
            sae.close();
            if (e instanceof NoSuchFileException) {
                throw new IOException(directory + " has " + CONFIG + " but no " + WEIGHTS, e);
            }
            throw e;
        }
        return sae;
    }

    /**
     * An architecture whose checkpoint is not one weights file but other checkpoints (a stack of SAEs in
     * subdirectories): {@link #load} hands it the directory and it loads itself.
     */
    public interface CompositeArchitecture {
        /** Loads the SAE whose cfg.json in {@code directory} describes {@code spec}. */
        Sae load(Path directory, SaeSpec spec, Device device, PluginRegistry<SaeArchitecture> architectures)
                throws IOException;
    }

    /** Copies every parameter of {@code sae} from the reader (checkpoint layout), checking shapes. */
    public static void loadParameters(Sae sae, Safetensors.Reader reader) throws IOException {
        for (SaeParameter p : sae.parameters()) {
            int[] expected = p.checkpointShape();
            Safetensors.Info info = reader.info(p.name());
            if (!Arrays.equals(info.shape(), expected)) {
                throw new IOException(reader.file() + ": tensor '" + p.name() + "' has shape "
                        + Arrays.toString(info.shape()) + " but cfg.json describes an SAE whose " + p.name() + " is "
                        + Arrays.toString(expected) + " (d_in=" + sae.spec().dIn() + ", d_sae=" + sae.spec().dSae() + ")");
            }
            float[] values = reader.readF32(p.name(), expected);
            if (p.transposed()) {
                values = transpose(values, expected[0], expected[1]);
            }
            p.value().copyFrom(values);
        }
    }
}
