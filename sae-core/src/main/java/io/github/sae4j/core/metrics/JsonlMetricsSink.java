package io.github.sae4j.core.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.sae4j.api.metrics.MetricsRecord;
import io.github.sae4j.api.metrics.MetricsSink;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Appends one JSON object per record to {@code metrics.jsonl}:
 * {@code {"phase":"train","step":10,"tokens":40960,"loss":0.31,...}}. A resumed run first drops the records
 * written after its checkpoint, so the file reads as one uninterrupted run.
 */
public final class JsonlMetricsSink implements MetricsSink {

    public static final String FILE = "metrics.jsonl";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final BufferedWriter out;

    public JsonlMetricsSink(Path file, long resumedAtStep) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        if (resumedAtStep >= 0 && Files.exists(file)) {
            truncateAfter(file, resumedAtStep);
        } else if (resumedAtStep < 0) {
            Files.deleteIfExists(file);
        }
        this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }

    /** Keeps the complete lines whose step is at most {@code step} (a torn last line from a crash is dropped too). */
    private static void truncateAfter(Path file, long step) throws IOException {
        List<String> kept = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            try {
                JsonNode node = JSON.readTree(line);
                if (node != null && node.has("step") && node.get("step").asLong() <= step) {
                    kept.add(line);
                }
            } catch (IOException torn) {
                // A line cut by a crash: drop it.
            }
        }
        io.github.sae4j.core.io.AtomicFiles.writeString(file, kept.isEmpty() ? "" : String.join("\n", kept) + "\n");
    }

    @Override
    public void record(MetricsRecord record) throws IOException {
        ObjectNode node = JSON.createObjectNode();
        node.put("phase", record.phase());
        node.put("step", record.step());
        node.put("tokens", record.tokens());
        for (Map.Entry<String, Double> e : record.values().entrySet()) {
            double v = e.getValue();
            if (Double.isFinite(v)) {
                node.put(e.getKey(), v);
            } else {
                node.putNull(e.getKey());
            }
        }
        out.write(JSON.writeValueAsString(node));
        out.write('\n');
    }

    @Override
    public void flush() throws IOException {
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }

    /** Reads a metrics file back: one record per complete line. */
    public static List<MetricsRecord> read(Path file) throws IOException {
        List<MetricsRecord> records = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode node;
            try {
                node = JSON.readTree(line);
            } catch (IOException torn) {
                continue;
            }
            Map<String, Double> values = new java.util.LinkedHashMap<>();
            node.properties().forEach(e -> {
                String k = e.getKey();
                if (!k.equals("phase") && !k.equals("step") && !k.equals("tokens")) {
                    values.put(k, e.getValue().isNumber() ? e.getValue().asDouble() : Double.NaN);
                }
            });
            records.add(new MetricsRecord(node.path("phase").asText("train"), node.path("step").asLong(),
                    node.path("tokens").asLong(), values));
        }
        return records;
    }
}
