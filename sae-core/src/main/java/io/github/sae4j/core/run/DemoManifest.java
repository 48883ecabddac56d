package io.github.sae4j.core.run;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.github.sae4j.core.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code demo.json}: what {@code sae4j demo} produced in its output directory, for the web UI and other readers.
 * Paths are relative to that directory, except {@code model}, which is the model path as it was given. The demo
 * writes it last, atomically, after every stage succeeded; so a directory with a readable manifest is a finished run.
 *
 * @param model        the language model (a Hugging Face directory or a .gguf file)
 * @param hookPoint    where the activations were captured and the SAE splices, e.g. {@code blocks.4.hook_resid_post}
 * @param sae          the final SAE directory ({@code sae.safetensors} + {@code cfg.json})
 * @param top          the top-activations directory (with {@code labels.jsonl} once labeled)
 * @param sentences    the sentences Parquet
 * @param report       the HTML report
 * @param activations  the capture directory, or null
 * @param eval         reconstruction metrics on held-out activations ({@code sae4j eval --json}), or null
 * @param splicedEval  metrics with the SAE spliced into the model ({@code sae4j eval --sentences --json}), or null
 * @param steering     the steering example as JSON, or null
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DemoManifest(
        @JsonProperty("model") String model,
        @JsonProperty("hook_point") String hookPoint,
        @JsonProperty("sae") String sae,
        @JsonProperty("top") String top,
        @JsonProperty("sentences") String sentences,
        @JsonProperty("report") String report,
        @JsonProperty("activations") String activations,
        @JsonProperty("eval") String eval,
        @JsonProperty("spliced_eval") String splicedEval,
        @JsonProperty("steering") String steering) {

    public static final String FILE = "demo.json";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** The required fields, as they are named in the file, with what each one is (for error messages). */
    private static final Map<String, String> REQUIRED = requiredFields();

    private static Map<String, String> requiredFields() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("model", "the model path");
        m.put("hook_point", "the hook point");
        m.put("sae", "the SAE directory");
        m.put("top", "the top-activations directory");
        m.put("sentences", "the sentences Parquet");
        m.put("report", "the HTML report");
        return m;
    }

    /**
     * Reads {@code dir/demo.json} and checks that it names every required part and that the files it points to
     * exist.
     *
     * @throws NoSuchFileException if there is no manifest or a file it names is missing
     * @throws IOException         if the manifest is not JSON or lacks a field; the message names the file, the
     *                             field and the command that writes it again
     */
    public static DemoManifest read(Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        String rerun = "run ./sae4j demo --out " + dir;
        if (!Files.isRegularFile(file)) {
            String why = Files.isDirectory(dir) ? "no demo manifest: the demo has not finished in " + dir + "; " + rerun
                    : dir + " is not a directory; " + rerun + " (or pass the directory the demo wrote)";
            throw new NoSuchFileException(file.toString(), null, why);
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new IOException(file + " is not valid JSON (" + e.getOriginalMessage() + " at line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + "); " + rerun, e);
        }
        if (root == null || !root.isObject()) {
            throw new IOException(file + " is not a demo manifest: expected a JSON object with "
                    + String.join(", ", REQUIRED.keySet()) + "; " + rerun);
        }
        for (Map.Entry<String, String> field : REQUIRED.entrySet()) {
            JsonNode v = root.get(field.getKey());
            if (v == null || !v.isTextual() || v.asText().isBlank()) {
                throw new IOException(file + " lacks \"" + field.getKey() + "\" (" + field.getValue() + ", a string"
                        + (field.getKey().equals("model") || field.getKey().equals("hook_point") ? ""
                        : " relative to " + dir) + "); " + rerun);
            }
        }
        DemoManifest m = JSON.treeToValue(root, DemoManifest.class);
        requireExists(dir, file, "sae", m.sae(), rerun);
        requireExists(dir, file, "top", m.top(), rerun);
        requireExists(dir, file, "sentences", m.sentences(), rerun);
        requireExists(dir, file, "report", m.report(), rerun);
        return m;
    }

    private static void requireExists(Path dir, Path file, String field, String relative, String rerun)
            throws NoSuchFileException {
        Path p = dir.resolve(relative);
        if (!Files.exists(p)) {
            throw new NoSuchFileException(p.toString(), null, file + " names it as \"" + field + "\" but it does "
                    + "not exist; " + rerun);
        }
    }

    /** Writes {@code dir/demo.json} atomically. */
    public void write(Path dir) throws IOException {
        String[] values = {model, hookPoint, sae, top, sentences, report};
        int i = 0;
        for (Map.Entry<String, String> field : REQUIRED.entrySet()) {
            if (values[i] == null || values[i].isBlank()) {
                throw new IllegalArgumentException("a demo manifest needs \"" + field.getKey() + "\" ("
                        + field.getValue() + ")");
            }
            i++;
        }
        AtomicFiles.writeString(dir.resolve(FILE), JSON.writeValueAsString(this) + "\n");
    }

    /** {@code relative} (a path this manifest holds) resolved against the demo's directory {@code dir}. */
    public static Path resolve(Path dir, String relative) {
        return relative == null ? null : dir.resolve(relative);
    }
}
