package io.github.sae4j.core.store;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The JSON file beside each shard: what it holds, how its record batches are sized, how large the Arrow file is
 * (so truncation is caught before Arrow reads it) and Welford statistics of its values as stored.
 */
record ShardSidecar(String shard, long rows, DatasetHeader header, int[] batchRows, long fileSize,
                    WelfordStatistics statistics, Long firstSentenceId, Long lastSentenceId) {

    ObjectNode toJson() {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("format", ShardFormat.FORMAT);
        o.put("shard", shard);
        o.put("rows", rows);
        o.put("d_model", header.dModel());
        o.put("dtype", header.dtype().wireName());
        o.put("model", header.model());
        o.put("hook_point", header.hookPoint());
        ObjectNode meta = o.putObject("metadata");
        header.metadata().entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> meta.put(e.getKey(), e.getValue()));
        ArrayNode batches = o.putArray("batch_rows");
        for (int r : batchRows) {
            batches.add(r);
        }
        o.put("file_size", fileSize);
        if (firstSentenceId != null) {
            // The sentence ids of the first and last row: where a resumed capture continues.
            o.put("first_sentence_id", firstSentenceId);
            o.put("last_sentence_id", lastSentenceId);
        }
        o.set("statistics", statisticsJson(statistics));
        return o;
    }

    static ObjectNode statisticsJson(WelfordStatistics s) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("count", s.count());
        o.set("mean", Json.array(s.mean()));
        o.set("m2", Json.array(s.m2()));
        o.set("variance", Json.array(s.variance()));
        return o;
    }

    static WelfordStatistics readStatistics(Path file, ObjectNode parent, int dModel) throws ShardFormatException {
        var node = Json.field(file, parent, "statistics");
        long count = Json.integer(file, node, "count", 0);
        double[] mean = Json.doubles(file, node, "mean", dModel);
        double[] m2 = Json.doubles(file, node, "m2", dModel);
        try {
            return WelfordStatistics.of(count, mean, m2);
        } catch (IllegalArgumentException e) {
            throw new ShardFormatException(file, "field 'statistics' is invalid: " + e.getMessage() + "; "
                    + ShardFormatException.RECREATE, e);
        }
    }

    /** Reads and checks the header fields shared by sidecars and dataset.json. */
    static DatasetHeader readHeader(Path file, ObjectNode o) throws ShardFormatException {
        String format = Json.text(file, o, "format");
        if (!ShardFormat.FORMAT.equals(format)) {
            throw new ShardFormatException(file, "field 'format' is '" + format + "' but this sae4j reads '"
                    + ShardFormat.FORMAT + "'; use the sae4j version that wrote it, or " + ShardFormatException.RECREATE);
        }
        long dModel = Json.integer(file, o, "d_model", 1);
        if (dModel > Integer.MAX_VALUE) {
            throw new ShardFormatException(file, "field 'd_model' is " + dModel + ", too large; "
                    + ShardFormatException.RECREATE);
        }
        String dtypeName = Json.text(file, o, "dtype");
        ActivationDType dtype;
        try {
            dtype = ActivationDType.fromWireName(dtypeName);
        } catch (IllegalArgumentException e) {
            throw new ShardFormatException(file, "field 'dtype': " + e.getMessage(), e);
        }
        try {
            return new DatasetHeader((int) dModel, dtype, Json.text(file, o, "model"), Json.text(file, o, "hook_point"),
                    Json.strings(file, o, "metadata"));
        } catch (IllegalArgumentException e) {
            throw new ShardFormatException(file, "field 'metadata': " + e.getMessage(), e);
        }
    }

    /**
     * Reads the sidecar of {@code shard}.
     *
     * @throws ShardFormatException if it is missing, malformed, or describes another file
     */
    static ShardSidecar read(Path shard) throws IOException {
        Path file = ShardFormat.sidecarOf(shard);
        ObjectNode o = Json.readObject(file, "every shard needs its sidecar (it records the shard's row counts, "
                + "file size and statistics): restore it from where the dataset came from, or "
                + ShardFormatException.RECREATE);
        DatasetHeader header = readHeader(file, o);
        String name = Json.text(file, o, "shard");
        String expected = shard.getFileName().toString();
        if (!name.equals(expected)) {
            throw new ShardFormatException(file, "field 'shard' is '" + name + "' but the sidecar sits beside '"
                    + expected + "'; rename the pair back together (shard and sidecar share a stem)");
        }
        long rows = Json.integer(file, o, "rows", 0);
        int[] batchRows = Json.ints(file, o, "batch_rows");
        long sum = 0;
        for (int r : batchRows) {
            sum += r;
        }
        if (sum != rows) {
            throw new ShardFormatException(file, "field 'batch_rows' adds up to " + sum + " rows but field 'rows' is "
                    + rows + "; " + ShardFormatException.RECREATE);
        }
        long fileSize = Json.integer(file, o, "file_size", 0);
        WelfordStatistics stats = readStatistics(file, o, header.dModel());
        if (stats.count() != rows) {
            throw new ShardFormatException(file, "field 'statistics.count' is " + stats.count() + " but field 'rows' is "
                    + rows + "; " + ShardFormatException.RECREATE);
        }
        Long first = o.hasNonNull("first_sentence_id") ? o.get("first_sentence_id").asLong() : null;
        Long last = o.hasNonNull("last_sentence_id") ? o.get("last_sentence_id").asLong() : null;
        return new ShardSidecar(name, rows, header, batchRows, fileSize, stats, first, last);
    }
}
