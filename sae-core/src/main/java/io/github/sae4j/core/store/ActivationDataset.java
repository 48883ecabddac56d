package io.github.sae4j.core.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.sae4j.api.activation.ActivationReadOptions;
import io.github.sae4j.api.activation.ActivationSource;
import io.github.sae4j.api.activation.ActivationSourceInfo;
import io.github.sae4j.api.activation.ActivationSplit;
import io.github.sae4j.api.activation.ActivationStatistics;
import io.github.sae4j.api.activation.ActivationStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A stored activation dataset (a directory of shards, or a single shard) read as an {@link ActivationSource}.
 *
 * <p>Reading is by chunk, one record batch of one shard. The train/validation split holds out whole chunks, chosen
 * by a hash of the shard file name and batch index, never by the seed. In order ({@code shuffle=false}) chunks come
 * as stored. Shuffled, each epoch permutes the split's chunks, groups consecutive ones into windows of at least
 * {@code shuffleWindowRows} rows, and emits each window's rows in a random order; one window is in memory, plus the
 * next one loaded in the background. {@link ActivationStream#cursor()} is
 * {@code v1:epoch=E:window=W:row=R:plan=HEX}: the next row is row R (in emission order) of window W of epoch E, and
 * the plan is a hash of the chunks and options that the cursor is valid for. In order, a window is one chunk.
 */
public final class ActivationDataset implements ActivationSource {

    private final Path location;
    private final List<Path> shards;
    private final List<ShardSidecar> sidecars;
    private final DatasetHeader header;
    private final WelfordStatistics statistics;
    private final long rows;
    private final Set<ShardActivationStream> streams = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private ActivationDataset(Path location, List<Path> shards, List<ShardSidecar> sidecars, DatasetHeader header) {
        this.location = location;
        this.shards = List.copyOf(shards);
        this.sidecars = List.copyOf(sidecars);
        this.header = header;
        this.statistics = new WelfordStatistics(header.dModel());
        long total = 0;
        for (ShardSidecar s : sidecars) {
            statistics.merge(s.statistics());
            total += s.rows();
        }
        this.rows = total;
    }

    /**
     * Opens a dataset directory, or a single {@code .arrow} shard whose sidecar sits beside it, and checks every
     * shard: its sidecar, its size against the sidecar (truncation), its Arrow magic bytes, footer and schema, and
     * that all shards share d_model, dtype, model and hook point.
     *
     * @throws IOException naming the file and what is wrong ({@link ShardFormatException} for a damaged shard)
     */
    public static ActivationDataset open(Path path) throws IOException {
        Objects.requireNonNull(path, "path");
        List<Path> shardFiles;
        ObjectNode summary = null;
        Path summaryFile = null;
        if (Files.isDirectory(path)) {
            shardFiles = ShardFormat.listShards(path);
            summaryFile = path.resolve(ShardFormat.DATASET_FILE);
            if (Files.exists(summaryFile)) {
                summary = Json.readObject(summaryFile, "");
            }
            if (shardFiles.isEmpty() && summary == null) {
                throw new IOException(path + " holds no activation shards (shard-NNNNNN.arrow with a shard-NNNNNN.json "
                        + "sidecar); is it the right directory? Create a dataset with sae4j synth or sae4j capture");
            }
        } else if (Files.isRegularFile(path) && path.getFileName().toString().endsWith(".arrow")) {
            shardFiles = List.of(path);
        } else {
            throw new IOException(path + (Files.exists(path) ? " is neither a directory of activation shards nor an "
                    + ".arrow shard" : " does not exist") + "; pass a dataset directory written by sae4j synth or "
                    + "sae4j capture, or one of its shard-NNNNNN.arrow files");
        }
        if (summary != null) {
            checkListed(summaryFile, summary, shardFiles);
        }
        List<ShardSidecar> sidecars = new ArrayList<>(shardFiles.size());
        for (Path shard : shardFiles) {
            // Opening checks the sidecar, size, magic, footer and schema; the footer is all it reads.
            try (ActivationShardReader reader = ActivationShardReader.open(shard)) {
                ShardSidecar s = reader.sidecar();
                if (!sidecars.isEmpty()) {
                    checkSameHeader(shardFiles.getFirst(), sidecars.getFirst().header(), shard, s.header());
                }
                sidecars.add(s);
            }
        }
        DatasetHeader header;
        if (summary != null) {
            header = checkSummary(summaryFile, summary, shardFiles, sidecars);
        } else {
            header = sidecars.getFirst().header();
        }
        return new ActivationDataset(path, shardFiles, sidecars, header);
    }

    private static void checkSameHeader(Path firstShard, DatasetHeader first, Path shard, DatasetHeader h)
            throws IOException {
        String field = null;
        Object a = null;
        Object b = null;
        if (first.dModel() != h.dModel()) {
            field = "d_model";
            a = first.dModel();
            b = h.dModel();
        } else if (first.dtype() != h.dtype()) {
            field = "dtype";
            a = first.dtype().wireName();
            b = h.dtype().wireName();
        } else if (!first.model().equals(h.model())) {
            field = "model";
            a = first.model();
            b = h.model();
        } else if (!first.hookPoint().equals(h.hookPoint())) {
            field = "hook_point";
            a = first.hookPoint();
            b = h.hookPoint();
        }
        if (field != null) {
            throw new IOException("shards " + firstShard + " and " + shard + " disagree on " + field + " ('" + a
                    + "' vs '" + b + "'); a dataset holds the activations of one model at one hook point: move the "
                    + "shards of each into their own directory");
        }
    }

    private static void checkListed(Path file, ObjectNode summary, List<Path> shardFiles) throws IOException {
        JsonNode listed = Json.field(file, summary, "shards");
        if (!listed.isArray()) {
            throw new ShardFormatException(file, "field 'shards' must be an array; " + ShardFormatException.RECREATE);
        }
        List<String> names = new ArrayList<>();
        for (JsonNode entry : listed) {
            names.add(Json.text(file, entry, "file"));
        }
        List<String> found = shardFiles.stream().map(p -> p.getFileName().toString()).toList();
        for (String n : names) {
            if (!found.contains(n)) {
                throw new ShardFormatException(file, "lists " + n + " but that shard is missing from "
                        + file.getParent() + "; restore it, or " + ShardFormatException.RECREATE);
            }
        }
        for (String n : found) {
            if (!names.contains(n)) {
                throw new ShardFormatException(file, "does not list " + n + ", which sits in " + file.getParent()
                        + "; it belongs to another dataset: move it out");
            }
        }
    }

    private static DatasetHeader checkSummary(Path file, ObjectNode summary, List<Path> shardFiles,
                                              List<ShardSidecar> sidecars) throws IOException {
        DatasetHeader header = ShardSidecar.readHeader(file, summary);
        if (!sidecars.isEmpty()) {
            checkSameHeader(file, header, shardFiles.getFirst(), sidecars.getFirst().header());
        }
        return header;
    }

    /** The directory or shard this dataset was opened from. */
    public Path location() {
        return location;
    }

    /** The shard files, in order. */
    public List<Path> shards() {
        return shards;
    }

    public DatasetHeader header() {
        return header;
    }

    /** Rows in all shards. */
    public long rows() {
        return rows;
    }

    /** Rows in one split (chunks are held out whole, so this is not exactly {@code validationFraction * rows()}). */
    public long rows(ActivationSplit split, double validationFraction) {
        return plan(new ActivationReadOptions(split, validationFraction, false, 0, 1, false, null)).totalRows();
    }

    /** Per-dimension mean and variance of all stored values, merged from the shards' Welford states. */
    public ActivationStatistics statistics() {
        return statistics.toStatistics();
    }

    /** The merged Welford state (count, mean, m2) of all shards. */
    public WelfordStatistics welfordStatistics() {
        return statistics.copy();
    }

    /** What the dataset holds; its metadata is the dataset's own plus {@code dtype} (bfloat16 or float32). */
    @Override
    public ActivationSourceInfo info() {
        Map<String, String> metadata = new LinkedHashMap<>(header.metadata());
        metadata.put(ShardFormat.KEY_DTYPE, header.dtype().wireName());
        return new ActivationSourceInfo(header.dModel(), rows, header.model(), header.hookPoint(), statistics(),
                metadata);
    }

    /**
     * Opens a stream of rows; see the class comment for the order.
     *
     * @throws IllegalArgumentException if the resume cursor does not fit this dataset and these options, or a
     *                                  repeating stream is asked of an empty split
     */
    @Override
    public ActivationStream open(ActivationReadOptions options) throws IOException {
        return open(options, true);
    }

    /** As {@link #open(ActivationReadOptions)}; {@code prefetch=false} loads each window only when it is needed. */
    ActivationStream open(ActivationReadOptions options, boolean prefetch) throws IOException {
        Objects.requireNonNull(options, "options");
        if (closed) {
            throw new IllegalStateException("the activation dataset " + location + " is closed");
        }
        ReadPlan plan = plan(options);
        if (plan.isEmpty() && options.repeat()) {
            throw new IllegalArgumentException("the " + options.split() + " split of " + location + " is empty"
                    + (options.split() == ActivationSplit.VALIDATION
                    ? " (validationFraction " + options.validationFraction() + "; at least 2 chunks are needed)" : "")
                    + ", so a repeating stream over it would never return a row");
        }
        ShardActivationStream stream = new ShardActivationStream(this, plan, options.resumeCursor(), prefetch);
        streams.add(stream);
        return stream;
    }

    /** Closes the streams still open. */
    @Override
    public void close() throws IOException {
        closed = true;
        IOException first = null;
        for (ShardActivationStream s : List.copyOf(streams)) {
            try {
                s.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }

    ReadPlan plan(ActivationReadOptions options) {
        List<String> names = shards.stream().map(p -> p.getFileName().toString()).toList();
        List<int[]> batchRows = sidecars.stream().map(ShardSidecar::batchRows).toList();
        return ReadPlan.of(names, batchRows, options);
    }

    ActivationShardReader openShard(int index) throws IOException {
        return ActivationShardReader.open(shards.get(index), sidecars.get(index));
    }

    void streamClosed(ShardActivationStream stream) {
        streams.remove(stream);
    }
}
