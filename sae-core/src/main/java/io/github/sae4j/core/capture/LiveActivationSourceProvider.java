package io.github.sae4j.core.capture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.sae4j.api.activation.ActivationSource;
import io.github.sae4j.api.activation.ActivationSourceProvider;
import io.github.sae4j.api.model.HookPoint;
import io.github.sae4j.api.model.LanguageModel;
import io.github.sae4j.api.text.SentenceSource;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.store.ActivationDType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Opens a live activation spec, a small JSON file that names a model, a corpus and a hook point, as a
 * {@link LiveActivationSource}: {@code sae4j train --data live.json} then trains on activations computed as it
 * goes. Paths in the file are relative to the file. The format is in docs/formats.md ("Live activations").
 */
public final class LiveActivationSourceProvider implements ActivationSourceProvider {

    static final String FORMAT = "sae4j.live.v1";
    private static final Set<String> KEYS = Set.of("format", "model", "model_options", "sentences", "sentence_options",
            "hook_point", "max_tokens", "add_bos", "drop_first_token", "exclude_special_tokens", "forward_tokens");

    @Override
    public String name() {
        return "live-model";
    }

    @Override
    public String description() {
        return "activations computed on the fly: a JSON spec naming a model, a corpus and a hook point";
    }

    @Override
    public boolean canOpen(Path path) {
        if (!Files.isRegularFile(path) || !path.getFileName().toString().endsWith(".json")) {
            return false;
        }
        try (InputStream in = Files.newInputStream(path)) {
            return new String(in.readNBytes(4096), StandardCharsets.UTF_8).contains(FORMAT);
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public ActivationSource open(Path path) throws IOException {
        JsonNode spec;
        try {
            spec = new ObjectMapper().readTree(path.toFile());
        } catch (IOException e) {
            throw new IOException(path + " is not valid JSON: " + e.getMessage(), e);
        }
        for (var it = spec.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!KEYS.contains(k)) {
                throw new IOException(path + ": unknown field '" + k + "'; the fields are " + KEYS);
            }
        }
        Path base = path.toAbsolutePath().getParent();
        Path modelPath = base.resolve(required(spec, "model", path));
        Path sentencesPath = base.resolve(required(spec, "sentences", path));
        HookPoint hook;
        try {
            hook = HookPoint.parse(required(spec, "hook_point", path));
        } catch (IllegalArgumentException e) {
            throw new IOException(path + ": field 'hook_point': " + e.getMessage(), e);
        }
        CaptureOptions defaults = CaptureOptions.defaults();
        int maxTokens = spec.path("max_tokens").asInt(defaults.maxTokens());
        CaptureOptions options = new CaptureOptions(maxTokens, spec.path("add_bos").asBoolean(false),
                spec.path("drop_first_token").asBoolean(false), spec.path("exclude_special_tokens").asBoolean(false),
                ActivationDType.F32, defaults.shardBytes(), defaults.rowsPerBatch(),
                Math.max(maxTokens, spec.path("forward_tokens").asInt(defaults.forwardTokens())), Long.MAX_VALUE, 1);
        LanguageModel model = openModel(modelPath, strings(spec.get("model_options")), path);
        SentenceSource sentences;
        try {
            sentences = Plugins.openSentences(sentencesPath, strings(spec.get("sentence_options")));
        } catch (IOException | RuntimeException e) {
            model.close();
            throw e;
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("live_spec", path.toString());
        metadata.put("sentences", sentencesPath.toString());
        metadata.put("model_path", modelPath.toString());
        metadata.put("max_tokens", String.valueOf(maxTokens));
        try {
            return new LiveActivationSource(model, sentences, hook, options, metadata, sentences, model);
        } catch (IllegalArgumentException e) {
            sentences.close();
            model.close();
            throw new IOException(path + ": " + e.getMessage(), e);
        }
    }

    private static LanguageModel openModel(Path modelPath, Map<String, String> options, Path spec) throws IOException {
        try {
            return Plugins.openModel(modelPath, options);
        } catch (IOException e) {
            throw new IOException(spec + ": field 'model': " + e.getMessage(), e);
        }
    }

    private static String required(JsonNode spec, String field, Path path) throws IOException {
        JsonNode v = spec.get(field);
        if (v == null || !v.isTextual() || v.asText().isBlank()) {
            throw new IOException(path + ": field '" + field + "' is missing or not a string");
        }
        return v.asText();
    }

    private static Map<String, String> strings(JsonNode node) {
        Map<String, String> out = new LinkedHashMap<>();
        if (node != null) {
            node.properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
        }
        return out;
    }
}
