package io.github.sae4j.core.label;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.sae4j.api.label.LatentLabel;
import io.github.sae4j.core.io.AtomicFiles;
import io.github.sae4j.core.parquet.ParquetRows;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;

/**
 * Latent labels on disk, as {@code labels.jsonl} (one object per latent) and {@code labels.parquet} with the same
 * columns: latent, label, confidence, labeler, model, prompt_version, raw_response, error. Both written atomically.
 */
public final class LabelStore {

    public static final String JSONL = "labels.jsonl";
    public static final String PARQUET = "labels.parquet";
    private static final ObjectMapper JSON = new ObjectMapper();

    static final MessageType SCHEMA = Types.buildMessage()
            .required(PrimitiveTypeName.INT32).named("latent")
            .optional(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("label")
            .required(PrimitiveTypeName.DOUBLE).named("confidence")
            .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("labeler")
            .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("model")
            .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("prompt_version")
            .optional(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("raw_response")
            .optional(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("error")
            .named("labels");

    /** A stored label: the labeler's answer and where it came from. */
    public record StoredLabel(LatentLabel label, String labeler, String model, String promptVersion) {
    }

    private LabelStore() {
    }

    public static void write(Path dir, List<StoredLabel> labels) throws IOException {
        Files.createDirectories(dir);
        AtomicFiles.writeFile(dir.resolve(JSONL), tmp -> {
            try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                for (StoredLabel s : labels) {
                    ObjectNode o = JSON.createObjectNode();
                    LatentLabel l = s.label();
                    o.put("latent", l.latent());
                    o.put("label", l.label());
                    o.put("confidence", l.confidence());
                    o.put("labeler", s.labeler());
                    o.put("model", s.model());
                    o.put("prompt_version", s.promptVersion());
                    o.put("raw_response", l.rawResponse());
                    o.put("error", l.error());
                    w.write(JSON.writeValueAsString(o));
                    w.newLine();
                }
            }
        });
        AtomicFiles.writeFile(dir.resolve(PARQUET), tmp -> {
            try (ParquetRows<StoredLabel> w = new ParquetRows<>(Files.newOutputStream(tmp), SCHEMA,
                    Map.of("sae4j.format", "sae4j.labels.v1"), (out, s) -> {
                        LatentLabel l = s.label();
                        ParquetRows.field(out, "latent", 0, () -> out.addInteger(l.latent()));
                        optional(out, "label", 1, l.label());
                        ParquetRows.field(out, "confidence", 2, () -> out.addDouble(l.confidence()));
                        ParquetRows.field(out, "labeler", 3, () -> out.addBinary(Binary.fromString(s.labeler())));
                        ParquetRows.field(out, "model", 4, () -> out.addBinary(Binary.fromString(s.model())));
                        ParquetRows.field(out, "prompt_version", 5,
                                () -> out.addBinary(Binary.fromString(s.promptVersion())));
                        optional(out, "raw_response", 6, l.rawResponse());
                        optional(out, "error", 7, l.error());
                    })) {
                for (StoredLabel s : labels) {
                    w.write(s);
                }
            }
        });
    }

    private static void optional(org.apache.parquet.io.api.RecordConsumer out, String name, int index, String value) {
        if (value != null) {
            ParquetRows.field(out, name, index, () -> out.addBinary(Binary.fromString(value)));
        }
    }

    /** The labels in {@code dir/labels.jsonl}. */
    public static List<StoredLabel> read(Path dir) throws IOException {
        Path file = dir.resolve(JSONL);
        List<StoredLabel> out = new ArrayList<>();
        int line = 0;
        for (String s : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            line++;
            if (s.isBlank()) {
                continue;
            }
            try {
                JsonNode o = JSON.readTree(s);
                out.add(new StoredLabel(new LatentLabel(o.get("latent").asInt(), text(o, "label"),
                        o.path("confidence").asDouble(), text(o, "raw_response"), text(o, "error")),
                        o.path("labeler").asText(), o.path("model").asText(), o.path("prompt_version").asText()));
            } catch (IOException | RuntimeException e) {
                throw new IOException(file + " line " + line + " is not a label record (" + e.getMessage()
                        + "); label again", e);
            }
        }
        return out;
    }

    private static String text(JsonNode o, String field) {
        JsonNode v = o.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }
}
