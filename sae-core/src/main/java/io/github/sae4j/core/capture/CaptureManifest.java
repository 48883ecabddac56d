package io.github.sae4j.core.capture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.sae4j.api.activation.ActivationStatistics;
import io.github.sae4j.api.model.HookPoint;
import io.github.sae4j.api.model.ModelInfo;
import io.github.sae4j.core.Sae4jVersion;
import io.github.sae4j.core.io.AtomicFiles;
import io.github.sae4j.core.store.ActivationDataset;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;

/**
 * {@code capture.json}: a capture's settings (what must not change when it is continued), its progress as of the
 * last committed shards, and, once complete, its datasets. Written atomically.
 */
final class CaptureManifest {

    static final String FILE = "capture.json";
    static final String FORMAT = "sae4j.capture.v1";
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** The settings part, compared field by field when a capture is continued. */
    private final ObjectNode settings;

    private CaptureManifest(ObjectNode settings) {
        this.settings = settings;
    }

    static CaptureManifest of(ActivationCapture.Request r) {
        ObjectNode s = MAPPER.createObjectNode();
        ModelInfo info = r.model().info();
        ObjectNode model = s.putObject("model");
        model.put("name", info.name());
        model.put("path", r.modelPath());
        model.put("sha256", r.fingerprint().sha256());
        ArrayNode files = model.putArray("files");
        for (ModelFingerprint.FileHash f : r.fingerprint().files()) {
            files.addObject().put("file", f.file()).put("bytes", f.bytes()).put("sha256", f.sha256());
        }
        model.put("d_model", info.dModel());
        model.put("layers", info.layers());
        s.put("sentences", r.sentencesOrigin());
        ArrayNode hooks = s.putArray("hook_points");
        r.hooks().forEach(h -> hooks.add(h.toString()));
        CaptureOptions o = r.options();
        ObjectNode opts = s.putObject("options");
        opts.put("max_tokens", o.maxTokens());
        opts.put("add_bos", o.addBos());
        opts.put("drop_first_token", o.dropFirstToken());
        opts.put("exclude_special_tokens", o.excludeSpecialTokens());
        opts.put("dtype", o.dtype().wireName());
        opts.put("rows_per_shard", o.rowsPerShard(info.dModel()));
        opts.put("rows_per_batch", o.rowsPerBatch());
        return new CaptureManifest(s);
    }

    /** What a manifest on disk says. */
    record Stored(ObjectNode settings, CaptureProgress progress, boolean complete) {
    }

    static Stored read(Path file) throws IOException {
        JsonNode root;
        try {
            root = MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException(file + " is not readable JSON (" + e.getMessage() + "); capture into another "
                    + "directory", e);
        }
        if (!(root instanceof ObjectNode o) || !FORMAT.equals(o.path("format").asText())
                || !(o.get("settings") instanceof ObjectNode settings)) {
            throw new IOException(file + " is not a " + FORMAT + " capture manifest; capture into another directory");
        }
        JsonNode p = o.path("progress");
        CaptureProgress progress = new CaptureProgress(p.path("sentences_read").asLong(), p.path("sentences_empty").asLong(),
                p.path("sentences_truncated").asLong(), p.path("tokens_fed").asLong(), p.path("rows_stored").asLong(),
                p.path("last_sentence_id").asLong(-1));
        return new Stored(settings, progress, o.path("complete").asBoolean(false));
    }

    /** The first setting that differs from {@code old}, as "name: old -> new", or null when they match. */
    String differenceFrom(ObjectNode old) {
        return difference("", old, settings);
    }

    private static String difference(String prefix, JsonNode a, JsonNode b) {
        if (a instanceof ObjectNode oa && b instanceof ObjectNode ob) {
            for (Iterator<Map.Entry<String, JsonNode>> it = ob.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                // The model's path may move; its bytes may not.
                if (prefix.equals("model.") && (e.getKey().equals("path") || e.getKey().equals("files"))) {
                    continue;
                }
                String d = difference(prefix + e.getKey() + ".", oa.get(e.getKey()), e.getValue());
                if (d != null) {
                    return d;
                }
            }
            return null;
        }
        if (a == null || !a.equals(b)) {
            return prefix.substring(0, prefix.length() - 1) + ": " + a + " before, " + b + " now";
        }
        return null;
    }

    void writeProgress(Path out, CaptureProgress progress) throws IOException {
        write(out, progress, false, null);
    }

    void complete(CaptureProgress progress, Map<HookPoint, Path> datasets, Path out) throws IOException {
        write(out, progress, true, datasets);
    }

    private void write(Path out, CaptureProgress p, boolean complete, Map<HookPoint, Path> datasets) throws IOException {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("format", FORMAT);
        o.put("complete", complete);
        o.put("sae4j_version", Sae4jVersion.VERSION);
        o.set("settings", settings);
        ObjectNode progress = o.putObject("progress");
        progress.put("sentences_read", p.sentencesRead());
        progress.put("sentences_empty", p.sentencesEmpty());
        progress.put("sentences_truncated", p.sentencesTruncated());
        progress.put("tokens_fed", p.tokensFed());
        progress.put("rows_stored", p.rowsStored());
        progress.put("last_sentence_id", p.lastSentenceId());
        if (datasets != null) {
            ArrayNode d = o.putArray("datasets");
            for (Map.Entry<HookPoint, Path> e : datasets.entrySet()) {
                ObjectNode entry = d.addObject().put("hook_point", e.getKey().toString())
                        .put("directory", out.relativize(e.getValue()).toString());
                // The dataset's Welford statistics, merged over its shards (also in its dataset.json).
                try (ActivationDataset dataset = ActivationDataset.open(e.getValue())) {
                    ActivationStatistics stats = dataset.statistics();
                    entry.put("rows", dataset.rows()).put("shards", dataset.shards().size());
                    entry.put("mean_squared_norm", stats.meanSquaredNorm());
                    entry.set("mean", MAPPER.valueToTree(stats.mean()));
                    entry.set("variance", MAPPER.valueToTree(stats.variance()));
                }
            }
        }
        byte[] bytes = MAPPER.writeValueAsBytes(o);
        AtomicFiles.writeFile(out.resolve(FILE), tmp -> Files.write(tmp, bytes));
    }
}
