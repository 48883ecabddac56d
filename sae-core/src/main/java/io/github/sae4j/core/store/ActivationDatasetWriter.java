package io.github.sae4j.core.store;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.ipc.ArrowFileWriter;

/**
 * Writes an activation dataset: a directory of Arrow IPC shards with JSON sidecars and a {@code dataset.json}
 * summary (the format is described in docs/formats.md, "Activation shards").
 *
 * <p>Each shard is written under a temporary name, forced to disk and renamed, sidecar first and the
 * {@code .arrow} file last, so a shard whose {@code .arrow} file exists is complete. A shard holds at most
 * {@code rowsPerShard} rows and a record batch at most {@code rowsPerBatch}; one {@link #append} call is kept in one
 * record batch (and so in one shard) whenever it fits in one, which makes batches, the unit of the train/validation
 * split and of shuffling, end at the boundaries of what the caller appends (sentences). Not thread-safe.
 *
 * <pre>{@code
 * var header = new DatasetHeader(768, ActivationDType.BF16, "gpt2", "blocks.8.hook_resid_post", Map.of());
 * try (var writer = ActivationDatasetWriter.create(dir, header, 1 << 20, 4096)) {
 *     writer.append(values, 0, tokens, sentenceIds, positions, tokenIds);   // one sentence per call
 * }
 * }</pre>
 */
public final class ActivationDatasetWriter implements AutoCloseable {

    /** Rows converted to bfloat16 at a time: keeps the conversion scratch small and in cache. */
    private static final int CONVERT_ROWS = 64;

    private enum State { OPEN, FAILED, CLOSED, ABORTED }

    private final Path directory;
    private final DatasetHeader header;
    private final int dModel;
    private final int rowsPerShard;
    private final int rowsPerBatch;
    /** float32 magnitudes (bits without sign) at or above this cannot be stored: non-finite, or overflow bf16. */
    private final int rejectBits;

    private final BufferAllocator allocator;
    private final VectorSchemaRoot root;
    // Views of the staging vectors' data buffers; valid because the buffers are sized once and never grow.
    private final LongBuffer sentenceIdData;
    private final IntBuffer positionData;
    private final IntBuffer tokenIdData;
    private final ShortBuffer bf16Data;
    private final FloatBuffer f32Data;
    private final short[] bitsScratch;
    private final float[] roundedScratch;

    private final List<ShardSidecar> committed = new ArrayList<>();
    private final WelfordStatistics datasetStatistics;

    private int shardIndex;
    private FileChannel channel;
    private ArrowFileWriter fileWriter;
    private long shardRows;
    private final List<Integer> shardBatchRows = new ArrayList<>();
    private WelfordStatistics shardStatistics;
    private long shardFirstSentence;
    private long shardLastSentence;
    private int stagedRows;
    private long rowsWritten;
    private State state = State.OPEN;

    private ActivationDatasetWriter(Path directory, DatasetHeader header, int rowsPerShard, int rowsPerBatch) {
        this.directory = directory;
        this.header = header;
        this.dModel = header.dModel();
        this.rowsPerShard = rowsPerShard;
        this.rowsPerBatch = rowsPerBatch;
        this.rejectBits = header.dtype() == ActivationDType.BF16 ? BFloat16.OVERFLOW_BITS : 0x7F800000;
        this.datasetStatistics = new WelfordStatistics(dModel);
        this.allocator = new RootAllocator();
        VectorSchemaRoot r = null;
        try {
            r = VectorSchemaRoot.create(ShardFormat.schema(header), allocator);
            int capacity = Math.min(rowsPerBatch, rowsPerShard);
            for (FieldVector v : r.getFieldVectors()) {
                v.setInitialCapacity(capacity);
                v.allocateNew();
                markAllValid(v);
            }
            FixedSizeListVector activation = (FixedSizeListVector) r.getVector(ShardFormat.ACTIVATION);
            markAllValid(activation.getDataVector());
            sentenceIdData = view(((BigIntVector) r.getVector(ShardFormat.SENTENCE_ID)).getDataBuffer(), capacity * 8L)
                    .asLongBuffer();
            positionData = view(((IntVector) r.getVector(ShardFormat.POSITION)).getDataBuffer(), capacity * 4L)
                    .asIntBuffer();
            tokenIdData = view(((IntVector) r.getVector(ShardFormat.TOKEN_ID)).getDataBuffer(), capacity * 4L)
                    .asIntBuffer();
            ArrowBuf values = activation.getDataVector().getDataBuffer();
            long valueBytes = (long) capacity * dModel * header.dtype().bytesPerValue();
            if (header.dtype() == ActivationDType.BF16) {
                bf16Data = view(values, valueBytes).asShortBuffer();
                f32Data = null;
                bitsScratch = new short[CONVERT_ROWS * dModel];
                roundedScratch = new float[CONVERT_ROWS * dModel];
            } else {
                bf16Data = null;
                f32Data = view(values, valueBytes).asFloatBuffer();
                bitsScratch = null;
                roundedScratch = null;
            }
            root = r;
        } catch (RuntimeException e) {
            if (r != null) {
                r.close();
            }
            allocator.close();
            throw e;
        }
    }

    /**
     * Starts a dataset in {@code directory}, creating it if needed.
     *
     * @param rowsPerShard the most rows one shard holds (one shard file and sidecar)
     * @param rowsPerBatch the most rows one record batch holds: the unit of random access, of the train/validation
     *                     split and of shuffling (4096 is a good default)
     * @throws IOException naming the directory if it already holds shards or a dataset.json
     */
    public static ActivationDatasetWriter create(Path directory, DatasetHeader header, int rowsPerShard,
                                                 int rowsPerBatch) throws IOException {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(header, "header");
        if (rowsPerShard < 1 || rowsPerBatch < 1) {
            throw new IllegalArgumentException("rowsPerShard and rowsPerBatch must be >= 1, got " + rowsPerShard + " and "
                    + rowsPerBatch);
        }
        long batchBytes = (long) Math.min(rowsPerBatch, rowsPerShard) * header.dModel() * 4;
        if (batchBytes > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("a record batch of " + rowsPerBatch + " rows x " + header.dModel()
                    + " values is over 2 GiB; lower rowsPerBatch (4096 is a good default)");
        }
        Files.createDirectories(directory);
        List<Path> existing = ShardFormat.listShards(directory);
        if (!existing.isEmpty() || Files.exists(directory.resolve(ShardFormat.DATASET_FILE))) {
            throw new IOException(directory + " already holds an activation dataset ("
                    + (existing.isEmpty() ? ShardFormat.DATASET_FILE : existing.getFirst().getFileName()
                    + (existing.size() > 1 ? " and " + (existing.size() - 1) + " more shards" : ""))
                    + "); write to an empty directory, or delete the old dataset first");
        }
        return new ActivationDatasetWriter(directory, header, rowsPerShard, rowsPerBatch);
    }

    /**
     * Continues a dataset that an interrupted writer left behind: its committed shards stay, leftover temporary
     * files and a stale {@code dataset.json} go, and new shards are numbered after the last committed one. The
     * dataset statistics start from the committed shards' (merged with Chan's parallel update).
     *
     * @throws IOException naming the file if a committed shard does not match {@code header} or its sidecar is
     *                     unreadable
     */
    public static ActivationDatasetWriter resume(Path directory, DatasetHeader header, int rowsPerShard,
                                                 int rowsPerBatch) throws IOException {
        if (!Files.isDirectory(directory)) {
            return create(directory, header, rowsPerShard, rowsPerBatch);
        }
        deleteLeftovers(directory);
        List<Path> shards = ShardFormat.listShards(directory);
        List<ShardSidecar> sidecars = new ArrayList<>();
        for (int i = 0; i < shards.size(); i++) {
            Path shard = shards.get(i);
            if (ShardFormat.shardIndex(shard.getFileName().toString()) != i) {
                throw new IOException(directory + " holds " + shard.getFileName() + " where shard " + i + " ("
                        + ShardFormat.shardName(i) + ") was expected; the dataset has a gap and cannot be continued: "
                        + "write it again into an empty directory");
            }
            ShardSidecar sidecar = ShardSidecar.read(shard);
            if (!sidecar.header().equals(header)) {
                throw new IOException(ShardFormat.sidecarOf(shard) + " describes " + sidecar.header() + " but this "
                        + "run writes " + header + "; continue with the settings of the first run, or write to an "
                        + "empty directory");
            }
            sidecars.add(sidecar);
        }
        ActivationDatasetWriter w = new ActivationDatasetWriter(directory, header, rowsPerShard, rowsPerBatch);
        for (ShardSidecar s : sidecars) {
            w.committed.add(s);
            w.datasetStatistics.merge(s.statistics());
            w.rowsWritten += s.rows();
        }
        w.shardIndex = sidecars.size();
        return w;
    }

    /**
     * Deletes the committed shards of {@code directory} whose rows all come after sentence {@code sentenceId}, last
     * first, so the dataset ends with that sentence; returns how many went.
     *
     * @throws IOException if a shard straddles the sentence (it cannot be cut) or lacks sentence ids in its sidecar
     */
    public static int dropShardsAfter(Path directory, long sentenceId) throws IOException {
        List<Path> shards = ShardFormat.listShards(directory);
        int dropped = 0;
        for (int i = shards.size() - 1; i >= 0; i--) {
            ShardSidecar s = ShardSidecar.read(shards.get(i));
            if (s.lastSentenceId() == null) {
                throw new IOException(ShardFormat.sidecarOf(shards.get(i)) + " does not record its sentence ids "
                        + "(written by an older sae4j), so the dataset cannot be cut at a sentence; capture again");
            }
            if (s.lastSentenceId() <= sentenceId) {
                break;
            }
            if (s.firstSentenceId() <= sentenceId) {
                throw new IOException(shards.get(i) + " holds sentences " + s.firstSentenceId() + ".."
                        + s.lastSentenceId() + ", across " + sentenceId + " where the dataset must end; capture again "
                        + "into an empty directory");
            }
            Files.delete(shards.get(i));
            Files.deleteIfExists(ShardFormat.sidecarOf(shards.get(i)));
            dropped++;
        }
        ShardFormat.syncDirectory(directory);
        return dropped;
    }

    /** The sentence id of the last row of {@code directory}'s last committed shard, if it has one that records it. */
    public static java.util.OptionalLong lastSentenceIdOf(Path directory) throws IOException {
        List<Path> shards = ShardFormat.listShards(directory);
        if (shards.isEmpty()) {
            return java.util.OptionalLong.empty();
        }
        Long last = ShardSidecar.read(shards.getLast()).lastSentenceId();
        return last == null ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(last);
    }

    /** The sentence id of the last row committed, if any shard is committed and records it. */
    public java.util.OptionalLong lastCommittedSentenceId() {
        if (committed.isEmpty() || committed.getLast().lastSentenceId() == null) {
            return java.util.OptionalLong.empty();
        }
        return java.util.OptionalLong.of(committed.getLast().lastSentenceId());
    }

    /** Rows in committed shards. */
    public long committedRows() {
        long rows = 0;
        for (ShardSidecar s : committed) {
            rows += s.rows();
        }
        return rows;
    }

    private static void deleteLeftovers(Path directory) throws IOException {
        try (var files = Files.list(directory)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                if (name.endsWith(ShardFormat.TMP_SUFFIX) || name.equals(ShardFormat.DATASET_FILE)) {
                    Files.delete(f);
                }
            }
        }
        // A sidecar whose shard never got renamed into place belongs to no committed shard.
        try (var files = Files.list(directory)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                if (name.matches("shard-\\d{6,9}\\.json")
                        && !Files.exists(directory.resolve(name.substring(0, name.length() - 5) + ".arrow"))) {
                    Files.delete(f);
                }
            }
        }
    }

    /**
     * Appends {@code rows} activation rows with their provenance.
     *
     * @param values      row-major {@code [rows, dModel]} activations starting at {@code valuesOffset}
     * @param sentenceIds the sentence of each row, indexed {@code 0..rows-1}
     * @param positions   the token position of each row within its sentence
     * @param tokenIds    the token id of each row
     * @throws IllegalArgumentException if a value is NaN or infinite (or, for bfloat16, beyond its range), naming the
     *                                  row, its sentence and position, and the dimension; nothing of this call is
     *                                  written then
     * @throws IOException              if a shard cannot be written; the writer cannot be used afterwards
     */
    public void append(float[] values, int valuesOffset, int rows, long[] sentenceIds, int[] positions, int[] tokenIds)
            throws IOException {
        ensureOpen();
        Objects.requireNonNull(values, "values");
        Objects.requireNonNull(sentenceIds, "sentenceIds");
        Objects.requireNonNull(positions, "positions");
        Objects.requireNonNull(tokenIds, "tokenIds");
        if (rows < 0) {
            throw new IllegalArgumentException("rows must be >= 0, got " + rows);
        }
        if (valuesOffset < 0 || valuesOffset + (long) rows * dModel > values.length) {
            throw new IllegalArgumentException(rows + " rows of d_model " + dModel + " from offset " + valuesOffset
                    + " do not fit in the " + values.length + " values given");
        }
        if (sentenceIds.length < rows || positions.length < rows || tokenIds.length < rows) {
            throw new IllegalArgumentException("provenance arrays must hold " + rows + " rows; got sentenceIds "
                    + sentenceIds.length + ", positions " + positions.length + ", tokenIds " + tokenIds.length);
        }
        rejectUnstorable(values, valuesOffset, rows, sentenceIds, positions);
        try {
            int done = 0;
            while (done < rows) {
                int remaining = rows - done;
                // Keep the rest of this call in one batch, and so in one shard, whenever it fits in one.
                if (stagedRows > 0 && stagedRows + remaining > rowsPerBatch) {
                    flushBatch();
                }
                long inShard = shardRows + stagedRows;
                if (inShard > 0 && inShard + remaining > rowsPerShard) {
                    commitShard();
                    inShard = 0;
                }
                if (channel == null) {
                    startShard();
                }
                int take = (int) Math.min(remaining, Math.min(rowsPerBatch - stagedRows, rowsPerShard - inShard));
                stage(values, valuesOffset + done * dModel, take, sentenceIds, positions, tokenIds, done);
                done += take;
                if (stagedRows == rowsPerBatch) {
                    flushBatch();
                }
                if (shardRows + stagedRows == rowsPerShard) {
                    commitShard();
                }
            }
            rowsWritten += rows;
        } catch (IOException | RuntimeException e) {
            state = State.FAILED;
            throw e;
        }
    }

    /** Rows accepted so far, committed or not. */
    public long rowsWritten() {
        return rowsWritten;
    }

    public Path directory() {
        return directory;
    }

    public DatasetHeader header() {
        return header;
    }

    /**
     * Commits the last shard and writes {@code dataset.json}. A writer that failed earlier discards its shard in
     * progress instead and throws.
     */
    @Override
    public void close() throws IOException {
        if (state == State.CLOSED || state == State.ABORTED) {
            return;
        }
        if (state == State.FAILED) {
            abort();
            throw new IOException("the activation writer for " + directory + " failed earlier, so its last shard was"
                    + " discarded and dataset.json was not written; the committed shards are readable, but check the"
                    + " earlier error and write the dataset again");
        }
        try {
            if (channel != null) {
                commitShard();
            }
            writeDatasetSummary();
        } catch (IOException | RuntimeException e) {
            state = State.FAILED;
            abort();
            throw e;
        }
        state = State.CLOSED;
        releaseArrow();
    }

    /** Deletes the temporary files of the shard in progress; committed shards stay. Never throws. */
    public void abort() {
        if (state == State.CLOSED || state == State.ABORTED) {
            return;
        }
        state = State.ABORTED;
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                // Deleting the file below is what matters.
            }
            channel = null;
            fileWriter = null;
        }
        Path shard = directory.resolve(ShardFormat.shardName(shardIndex));
        deleteQuietly(ShardFormat.tmpOf(shard));
        deleteQuietly(ShardFormat.tmpOf(ShardFormat.sidecarOf(shard)));
        deleteQuietly(ShardFormat.tmpOf(directory.resolve(ShardFormat.DATASET_FILE)));
        releaseArrow();
    }

    private void ensureOpen() {
        if (state != State.OPEN) {
            throw new IllegalStateException("the activation writer for " + directory + " is "
                    + state.name().toLowerCase() + "; create a new one to write more");
        }
    }

    private void rejectUnstorable(float[] values, int offset, int rows, long[] sentenceIds, int[] positions) {
        for (int r = 0; r < rows; r++) {
            int p = offset + r * dModel;
            // Stays negative while every magnitude is below the limit; an AND reduction the JIT vectorizes.
            int allBelow = -1;
            for (int j = 0; j < dModel; j++) {
                allBelow &= (Float.floatToRawIntBits(values[p + j]) & 0x7FFFFFFF) - rejectBits;
            }
            if (allBelow < 0) {
                continue;
            }
            for (int j = 0; j < dModel; j++) {
                int bits = Float.floatToRawIntBits(values[p + j]) & 0x7FFFFFFF;
                if (bits >= rejectBits) {
                    float v = values[p + j];
                    String what = Float.isNaN(v) ? "NaN" : Float.isInfinite(v) ? "infinite (" + v + ")"
                            : v + ", beyond the bfloat16 range (largest finite " + BFloat16.MAX_VALUE + ")";
                    throw new IllegalArgumentException("activation row " + r + " of this append (sentence "
                            + sentenceIds[r] + ", position " + positions[r] + "), dimension " + j + " is " + what
                            + "; nothing of this append was written. The store keeps finite values only: find why "
                            + "the model produced it (fp16 overflow, a broken hook) and skip or fix that sentence");
                }
            }
        }
    }

    private void stage(float[] values, int offset, int rows, long[] sentenceIds, int[] positions, int[] tokenIds,
                       int provenanceOffset) {
        if (rows > 0) {
            if (shardRows + stagedRows == 0) {
                shardFirstSentence = sentenceIds[provenanceOffset];
            }
            shardLastSentence = sentenceIds[provenanceOffset + rows - 1];
        }
        sentenceIdData.put(stagedRows, sentenceIds, provenanceOffset, rows);
        positionData.put(stagedRows, positions, provenanceOffset, rows);
        tokenIdData.put(stagedRows, tokenIds, provenanceOffset, rows);
        if (bf16Data != null) {
            for (int done = 0; done < rows; done += CONVERT_ROWS) {
                int n = Math.min(CONVERT_ROWS, rows - done);
                int count = n * dModel;
                BFloat16.encodeFinite(values, offset + done * dModel, bitsScratch, roundedScratch, count);
                // Statistics describe the values as stored, after rounding, so they match what readers see.
                shardStatistics.add(roundedScratch, 0, n);
                bf16Data.put((stagedRows + done) * dModel, bitsScratch, 0, count);
            }
        } else {
            shardStatistics.add(values, offset, rows);
            f32Data.put(stagedRows * dModel, values, offset, rows * dModel);
        }
        stagedRows += rows;
    }

    private void startShard() throws IOException {
        Path tmp = ShardFormat.tmpOf(directory.resolve(ShardFormat.shardName(shardIndex)));
        channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE);
        fileWriter = new ArrowFileWriter(root, null, channel);
        fileWriter.start();
        shardRows = 0;
        shardBatchRows.clear();
        shardStatistics = new WelfordStatistics(dModel);
    }

    private void flushBatch() throws IOException {
        root.setRowCount(stagedRows);
        fileWriter.writeBatch();
        shardBatchRows.add(stagedRows);
        shardRows += stagedRows;
        stagedRows = 0;
    }

    private void commitShard() throws IOException {
        if (stagedRows > 0) {
            flushBatch();
        }
        fileWriter.end();
        channel.force(true);
        long size = channel.size();
        channel.close();
        channel = null;
        fileWriter = null;

        String name = ShardFormat.shardName(shardIndex);
        Path shard = directory.resolve(name);
        Path sidecar = ShardFormat.sidecarOf(shard);
        int[] batchRows = shardBatchRows.stream().mapToInt(Integer::intValue).toArray();
        ShardSidecar meta = new ShardSidecar(name, shardRows, header, batchRows, size, shardStatistics,
                shardFirstSentence, shardLastSentence);
        ShardFormat.writeSynced(ShardFormat.tmpOf(sidecar), Json.bytes(meta.toJson()));
        // The sidecar goes first: the .arrow rename is the commit point, so a crash never leaves a shard without one.
        ShardFormat.rename(ShardFormat.tmpOf(sidecar), sidecar);
        ShardFormat.syncDirectory(directory);
        ShardFormat.rename(ShardFormat.tmpOf(shard), shard);
        ShardFormat.syncDirectory(directory);

        committed.add(meta);
        datasetStatistics.merge(shardStatistics);
        shardIndex++;
        shardRows = 0;
        shardBatchRows.clear();
        shardStatistics = null;
    }

    private void writeDatasetSummary() throws IOException {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("format", ShardFormat.FORMAT);
        long rows = 0;
        for (ShardSidecar s : committed) {
            rows += s.rows();
        }
        o.put("rows", rows);
        o.put("d_model", dModel);
        o.put("dtype", header.dtype().wireName());
        o.put("model", header.model());
        o.put("hook_point", header.hookPoint());
        ObjectNode meta = o.putObject("metadata");
        header.metadata().entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> meta.put(e.getKey(), e.getValue()));
        ArrayNode shards = o.putArray("shards");
        for (ShardSidecar s : committed) {
            shards.addObject().put("file", s.shard()).put("rows", s.rows());
        }
        o.set("statistics", ShardSidecar.statisticsJson(datasetStatistics));
        Path target = directory.resolve(ShardFormat.DATASET_FILE);
        ShardFormat.writeSynced(ShardFormat.tmpOf(target), Json.bytes(o));
        ShardFormat.rename(ShardFormat.tmpOf(target), target);
        ShardFormat.syncDirectory(directory);
    }

    private void releaseArrow() {
        root.close();
        allocator.close();
    }

    private static void markAllValid(FieldVector v) {
        ArrowBuf validity = v.getValidityBuffer();
        validity.setOne(0L, validity.capacity());
    }

    private static java.nio.ByteBuffer view(ArrowBuf buf, long bytes) {
        if (buf.capacity() < bytes) {
            throw new IllegalStateException("Arrow allocated " + buf.capacity() + " bytes where " + bytes + " are needed");
        }
        return buf.nioBuffer(0, (int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // Nothing more to do; the file has a .tmp name that readers ignore.
        }
    }
}
