package io.github.sae4j.core.store;

import java.io.EOFException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.arrow.flatbuf.Buffer;
import org.apache.arrow.flatbuf.FieldNode;
import org.apache.arrow.flatbuf.Message;
import org.apache.arrow.flatbuf.MessageHeader;
import org.apache.arrow.flatbuf.RecordBatch;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.message.ArrowBlock;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Reads one activation shard, one record batch at a time, in any order. Opening checks the sidecar, the file size
 * it records, the Arrow magic bytes, the footer and the schema; reading a batch checks its row count, its buffers
 * and that every value is finite. Every problem is a {@link ShardFormatException} naming the file.
 *
 * <p>Values are decoded straight from Arrow's data buffers with bulk reads. Not thread-safe: one thread per reader.
 */
public final class ActivationShardReader implements AutoCloseable {

    private static final long ALLOCATION_SLACK = 16L << 20;

    private final Path file;
    private final ShardSidecar sidecar;
    private final int dModel;
    private final ActivationDType dtype;
    private final long[] batchStart;
    private final BufferAllocator allocator;
    private final FileChannel channel;
    private final ArrowFileReader reader;
    private final List<ArrowBlock> blocks;
    /** The whole file, memory-mapped: batches are decoded straight from it (see {@link #mapped}). */
    private final Arena arena;
    private final MemorySegment mappedFile;
    /** Per batch: where its columns lie in the file, or null until first read (or when Arrow's reader must do it). */
    private final long[][] layout;
    private short[] decodeScratch;

    private ActivationShardReader(Path file, ShardSidecar sidecar, BufferAllocator allocator, FileChannel channel,
                                  ArrowFileReader reader, List<ArrowBlock> blocks) {
        this.file = file;
        this.sidecar = sidecar;
        this.dModel = sidecar.header().dModel();
        this.dtype = sidecar.header().dtype();
        this.allocator = allocator;
        this.channel = channel;
        this.reader = reader;
        this.blocks = blocks;
        this.arena = Arena.ofShared();
        MemorySegment m;
        try {
            m = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
        } catch (IOException | RuntimeException e) {
            m = null;   // Arrow's reader does all the work then
        }
        this.mappedFile = m;
        this.layout = new long[blocks.size()][];
        int[] rows = sidecar.batchRows();
        this.batchStart = new long[rows.length + 1];
        for (int i = 0; i < rows.length; i++) {
            batchStart[i + 1] = batchStart[i] + rows[i];
        }
    }

    /**
     * Opens a shard; its sidecar ({@code shard-NNNNNN.json}) must sit beside it.
     *
     * @throws ShardFormatException if the shard or sidecar is missing, truncated, corrupt or they disagree
     */
    public static ActivationShardReader open(Path shard) throws IOException {
        Objects.requireNonNull(shard, "shard");
        if (!Files.isRegularFile(shard)) {
            throw new ShardFormatException(shard, Files.exists(shard) ? "is not a regular file" : "does not exist");
        }
        return open(shard, ShardSidecar.read(shard));
    }

    /** Opens a shard whose sidecar was already read (the dataset reads each once). */
    static ActivationShardReader open(Path shard, ShardSidecar sidecar) throws IOException {
        long size;
        try {
            size = Files.size(shard);
        } catch (NoSuchFileException e) {
            throw new ShardFormatException(shard, "does not exist (was it moved or deleted after the dataset was "
                    + "opened?)", e);
        }
        if (size != sidecar.fileSize()) {
            throw new ShardFormatException(shard, "is " + size + " bytes but its sidecar records " + sidecar.fileSize()
                    + (size < sidecar.fileSize() ? "; the file is truncated (an interrupted copy or download?)"
                    : "; the file was modified after it was written")
                    + ": copy it again from its source, or " + ShardFormatException.RECREATE);
        }
        FileChannel channel = FileChannel.open(shard, StandardOpenOption.READ);
        BufferAllocator allocator = null;
        ArrowFileReader reader = null;
        try {
            checkMagic(shard, channel, size);
            // Arrow sizes buffers from lengths inside the file; a limit keeps a corrupt length from taking the machine's
            // memory (it fails as an Arrow OutOfMemoryException, reported below as a damaged shard).
            allocator = new RootAllocator(4 * size + ALLOCATION_SLACK);
            reader = new ArrowFileReader(channel, allocator);
            List<ArrowBlock> blocks;
            Schema schema;
            boolean dictionaries;
            try {
                blocks = reader.getRecordBlocks();
                schema = reader.getVectorSchemaRoot().getSchema();
                dictionaries = !reader.getDictionaryBlocks().isEmpty();
            } catch (IOException | RuntimeException e) {
                throw new ShardFormatException(shard, "has an unreadable Arrow footer or schema (" + e + "); the file is "
                        + "corrupt: " + ShardFormatException.RECREATE, e);
            }
            if (dictionaries) {
                throw new ShardFormatException(shard, "holds dictionary batches, which activation shards never have; "
                        + ShardFormatException.RECREATE);
            }
            checkSchema(shard, schema, sidecar.header());
            if (blocks.size() != sidecar.batchRows().length) {
                throw new ShardFormatException(shard, "has " + blocks.size() + " record batches but its sidecar lists "
                        + sidecar.batchRows().length + "; " + ShardFormatException.RECREATE);
            }
            for (int i = 0; i < blocks.size(); i++) {
                ArrowBlock b = blocks.get(i);
                long end = b.getOffset() + b.getMetadataLength() + b.getBodyLength();
                if (b.getOffset() < ShardFormat.MAGIC.length || b.getMetadataLength() <= 0 || b.getBodyLength() < 0
                        || end > size) {
                    throw new ShardFormatException(shard, "the footer places record batch " + i + " at bytes ["
                            + b.getOffset() + ", " + end + ") of a " + size + "-byte file; the file is corrupt: "
                            + ShardFormatException.RECREATE);
                }
            }
            allocator.setLimit(Math.min(allocator.getLimit(), allocationLimit(blocks, sidecar)));
            return new ActivationShardReader(shard, sidecar, allocator, channel, reader, List.copyOf(blocks));
        } catch (IOException | RuntimeException e) {
            try {
                closeAll(reader, allocator, channel);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * What loading one batch may allocate: its body, validity buffers Arrow creates when a writer omitted them
     * (pyarrow does, for columns without nulls), the previous batch until it is released, and power-of-two rounding.
     */
    private static long allocationLimit(List<ArrowBlock> blocks, ShardSidecar sidecar) {
        long maxBody = 0;
        for (ArrowBlock b : blocks) {
            maxBody = Math.max(maxBody, b.getBodyLength());
        }
        long maxRows = 0;
        for (int r : sidecar.batchRows()) {
            maxRows = Math.max(maxRows, r);
        }
        long validity = maxRows * (sidecar.header().dModel() + 4L) / 8 + 64 * 5;
        return 4 * (maxBody + validity) + ALLOCATION_SLACK;
    }

    public Path file() {
        return file;
    }

    public int dModel() {
        return dModel;
    }

    public ActivationDType dtype() {
        return dtype;
    }

    /** The header recorded in the sidecar. */
    public DatasetHeader header() {
        return sidecar.header();
    }

    public long rows() {
        return sidecar.rows();
    }

    public int batchCount() {
        return blocks.size();
    }

    public int batchRows(int batch) {
        Objects.checkIndex(batch, blocks.size());
        return sidecar.batchRows()[batch];
    }

    /** Welford statistics of this shard's values as stored, from its sidecar. */
    public WelfordStatistics statistics() {
        return sidecar.statistics().copy();
    }

    ShardSidecar sidecar() {
        return sidecar;
    }

    /**
     * Reads record batch {@code batch} into the arrays, starting at row {@code rowOffset} (values at
     * {@code rowOffset * dModel}).
     *
     * @throws ShardFormatException if the batch is corrupt or holds a value that is not finite, naming the row within
     *                              the shard and the dimension
     */
    public void readBatch(int batch, float[] values, long[] sentenceIds, int[] positions, int[] tokenIds, int rowOffset)
            throws IOException {
        int rows = checkDestination(batch, values.length, sentenceIds, positions, tokenIds, rowOffset);
        int count = rows * dModel;
        int dst = rowOffset * dModel;
        ByteBuffer data = mapped(batch, rows, sentenceIds, positions, tokenIds, rowOffset);
        if (data == null) {
            data = load(batch, rows, sentenceIds, positions, tokenIds, rowOffset);
        }
        if (dtype == ActivationDType.BF16) {
            if (decodeScratch == null) {
                decodeScratch = new short[ValueKernels.SCRATCH];
            }
            if (!ValueKernels.decode(data, values, dst, count, decodeScratch)) {
                throw notFinite(batch, ValueKernels.firstNonFinite(data, count));
            }
        } else {
            FloatBuffer floats = data.asFloatBuffer();
            floats.get(0, values, dst, count);
            if (!ValueKernels.allFinite(values, dst, count)) {
                throw notFinite(batch, ValueKernels.firstNonFinite(values, dst, count));
            }
        }
    }

    /** Reads record batch {@code batch} as stored bfloat16 bits (for shuffle windows that hold half the bytes). */
    void readBatchBits(int batch, short[] bits, long[] sentenceIds, int[] positions, int[] tokenIds, int rowOffset)
            throws IOException {
        if (dtype != ActivationDType.BF16) {
            throw new IllegalStateException(file + " stores float32, not bfloat16");
        }
        int rows = checkDestination(batch, bits.length, sentenceIds, positions, tokenIds, rowOffset);
        int count = rows * dModel;
        int dst = rowOffset * dModel;
        ByteBuffer data = mapped(batch, rows, sentenceIds, positions, tokenIds, rowOffset);
        if (data == null) {
            data = load(batch, rows, sentenceIds, positions, tokenIds, rowOffset);
        }
        if (!ValueKernels.copyBits(data, bits, dst, count)) {
            throw notFinite(batch, ValueKernels.firstNonFinite(bits, dst, count));
        }
    }

    @Override
    public void close() throws IOException {
        try {
            closeAll(reader, allocator, channel);
        } finally {
            arena.close();
        }
    }

    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Buffers of a record batch of our schema: validity and data of the three provenance columns, the list's
     * validity, the values' validity and data. */
    private static final int BUFFERS = 9;
    private static final int NO_LAYOUT = -1;

    /**
     * Reads a batch straight from the memory-mapped file: the provenance columns are copied out and a view of the
     * activation values is returned, with no Arrow buffers in between. The batch's layout comes from its IPC message
     * (read once); a batch this fast path does not recognize (compressed, another buffer layout) returns null and goes
     * through Arrow's reader instead. The view is valid until the reader closes.
     */
    private ByteBuffer mapped(int batch, int rows, long[] sentenceIds, int[] positions, int[] tokenIds,
                              int rowOffset) throws ShardFormatException {
        if (mappedFile == null) {
            return null;
        }
        long[] at = layout[batch];
        if (at == null) {
            at = parseLayout(batch, rows);
            layout[batch] = at;
        }
        if (at.length == 1) {
            return null;
        }
        MemorySegment.copy(mappedFile, LONG_LE, at[0], sentenceIds, rowOffset, rows);
        MemorySegment.copy(mappedFile, INT_LE, at[1], positions, rowOffset, rows);
        MemorySegment.copy(mappedFile, INT_LE, at[2], tokenIds, rowOffset, rows);
        return mappedFile.asSlice(at[3], (long) rows * dModel * dtype.bytesPerValue()).asByteBuffer()
                .order(ByteOrder.LITTLE_ENDIAN);
    }

    /** File offsets of the sentence id, position, token id and value data of a batch, or {NO_LAYOUT}. */
    private long[] parseLayout(int batch, int rows) throws ShardFormatException {
        ArrowBlock block = blocks.get(batch);
        try {
            ByteBuffer meta = mappedFile.asSlice(block.getOffset(), block.getMetadataLength()).asByteBuffer()
                    .order(ByteOrder.LITTLE_ENDIAN);
            int start = meta.getInt(0) == -1 ? 8 : 4;   // continuation marker, then the length (older files: length)
            Message message = Message.getRootAsMessage(meta.position(start).slice().order(ByteOrder.LITTLE_ENDIAN));
            if (message.headerType() != MessageHeader.RecordBatch) {
                return new long[] {NO_LAYOUT};
            }
            RecordBatch rb = (RecordBatch) message.header(new RecordBatch());
            if (rb.compression() != null || rb.buffersLength() != BUFFERS || rb.nodesLength() != 5
                    || rb.variadicBufferCountsLength() != 0) {
                return new long[] {NO_LAYOUT};
            }
            if (rb.length() != rows) {
                throw new ShardFormatException(file, "record batch " + batch + " has " + rb.length()
                        + " rows but the sidecar records " + rows + "; " + ShardFormatException.RECREATE);
            }
            long valueCount = (long) rows * dModel;
            long[] nodeLengths = {rows, rows, rows, rows, valueCount};
            String[] names = {"sentence_id", "position", "token_id", "activation", "activation.item"};
            for (int i = 0; i < 5; i++) {
                FieldNode node = rb.nodes(i);
                if (node.length() != nodeLengths[i]) {
                    throw new ShardFormatException(file, "record batch " + batch + " column '" + names[i] + "' has "
                            + node.length() + " values where " + nodeLengths[i] + " are expected; "
                            + ShardFormatException.RECREATE);
                }
                if (node.nullCount() != 0) {
                    throw new ShardFormatException(file, "record batch " + batch + " column '" + names[i] + "' has "
                            + node.nullCount() + " null values; activation shards hold no nulls: "
                            + ShardFormatException.RECREATE);
                }
            }
            long body = block.getOffset() + block.getMetadataLength();
            int[] dataBuffers = {1, 3, 5, 8};
            long[] needed = {rows * 8L, rows * 4L, rows * 4L, valueCount * dtype.bytesPerValue()};
            long[] at = new long[4];
            for (int i = 0; i < 4; i++) {
                Buffer b = rb.buffers(dataBuffers[i]);
                if (b.offset() < 0 || b.length() < needed[i] || b.offset() + needed[i] > block.getBodyLength()) {
                    throw new ShardFormatException(file, "record batch " + batch + " places column '" + names[i == 3
                            ? 4 : i] + "' at bytes [" + b.offset() + ", " + (b.offset() + b.length()) + ") of a "
                            + block.getBodyLength() + "-byte body where " + needed[i] + " bytes are needed; the file is "
                            + "corrupt: " + ShardFormatException.RECREATE);
                }
                at[i] = body + b.offset();
            }
            return at;
        } catch (ShardFormatException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new ShardFormatException(file, "record batch " + batch + " has an unreadable message header (" + e
                    + "); the file is corrupt: " + ShardFormatException.RECREATE, e);
        }
    }


    private int checkDestination(int batch, int valuesLength, long[] sentenceIds, int[] positions, int[] tokenIds,
                                 int rowOffset) {
        Objects.checkIndex(batch, blocks.size());
        int rows = sidecar.batchRows()[batch];
        long endRow = (long) rowOffset + rows;
        if (rowOffset < 0 || endRow * dModel > valuesLength || endRow > sentenceIds.length
                || endRow > positions.length || endRow > tokenIds.length) {
            throw new IllegalArgumentException("batch " + batch + " of " + file.getFileName() + " has " + rows
                    + " rows of d_model " + dModel + "; they do not fit in the arrays given at row " + rowOffset);
        }
        return rows;
    }

    /**
     * Loads a record batch, copies its provenance columns out and returns a little-endian view of its activation
     * values (valid until the next load).
     */
    private ByteBuffer load(int batch, int rows, long[] sentenceIds, int[] positions, int[] tokenIds, int rowOffset)
            throws IOException {
        boolean loaded;
        try {
            loaded = reader.loadRecordBatch(blocks.get(batch));
        } catch (IOException | RuntimeException e) {
            throw new ShardFormatException(file, "record batch " + batch + " cannot be read or decoded (" + e
                    + "); the file is corrupt: " + ShardFormatException.RECREATE, e);
        }
        if (!loaded) {
            throw new ShardFormatException(file, "record batch " + batch + " cannot be found at the offset its footer "
                    + "records; the file is corrupt: " + ShardFormatException.RECREATE);
        }
        VectorSchemaRoot root = reader.getVectorSchemaRoot();
        if (root.getRowCount() != rows) {
            throw new ShardFormatException(file, "record batch " + batch + " has " + root.getRowCount()
                    + " rows but the sidecar records " + rows + "; " + ShardFormatException.RECREATE);
        }
        try {
            BigIntVector sid = (BigIntVector) root.getVector(0);
            IntVector pos = (IntVector) root.getVector(1);
            IntVector tok = (IntVector) root.getVector(2);
            FixedSizeListVector act = (FixedSizeListVector) root.getVector(3);
            FieldVector values = act.getDataVector();
            long valueCount = (long) rows * dModel;
            checkColumn(batch, sid, rows, rows * 8L);
            checkColumn(batch, pos, rows, rows * 4L);
            checkColumn(batch, tok, rows, rows * 4L);
            checkColumn(batch, act, rows, 0);
            checkColumn(batch, values, valueCount, valueCount * dtype.bytesPerValue());
            view(sid.getDataBuffer(), rows * 8L).asLongBuffer().get(0, sentenceIds, rowOffset, rows);
            view(pos.getDataBuffer(), rows * 4L).asIntBuffer().get(0, positions, rowOffset, rows);
            view(tok.getDataBuffer(), rows * 4L).asIntBuffer().get(0, tokenIds, rowOffset, rows);
            return view(values.getDataBuffer(), valueCount * dtype.bytesPerValue());
        } catch (RuntimeException e) {
            throw new ShardFormatException(file, "record batch " + batch + " has unreadable buffers (" + e
                    + "); the file is corrupt: " + ShardFormatException.RECREATE, e);
        }
    }

    private void checkColumn(int batch, FieldVector v, long expectedCount, long dataBytes) throws ShardFormatException {
        if (v.getValueCount() != expectedCount) {
            throw new ShardFormatException(file, "record batch " + batch + " column '" + v.getName() + "' has "
                    + v.getValueCount() + " values where " + expectedCount + " are expected; "
                    + ShardFormatException.RECREATE);
        }
        if (dataBytes > 0 && v.getDataBuffer().capacity() < dataBytes) {
            throw new ShardFormatException(file, "record batch " + batch + " column '" + v.getName() + "' holds "
                    + v.getDataBuffer().capacity() + " bytes of data where " + dataBytes + " are needed; "
                    + ShardFormatException.RECREATE);
        }
        if (v.getValidityBuffer().capacity() < (expectedCount + 7) / 8) {
            throw new ShardFormatException(file, "record batch " + batch + " column '" + v.getName()
                    + "' has a short validity buffer; " + ShardFormatException.RECREATE);
        }
        if (v.getNullCount() != 0) {
            throw new ShardFormatException(file, "record batch " + batch + " column '" + v.getName() + "' has "
                    + v.getNullCount() + " null values; activation shards hold no nulls: "
                    + ShardFormatException.RECREATE);
        }
    }

    private ShardFormatException notFinite(int batch, int indexInBatch) {
        long row = batchStart[batch] + indexInBatch / dModel;
        int dim = indexInBatch % dModel;
        return new ShardFormatException(file, "row " + row + " (record batch " + batch + "), dimension " + dim
                + " is not finite (NaN or infinite); sae4j writers never store such values, so the file was corrupted "
                + "or written by another tool: " + ShardFormatException.RECREATE);
    }

    private static ByteBuffer view(ArrowBuf buf, long bytes) {
        return buf.nioBuffer(0, Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void checkMagic(Path shard, FileChannel channel, long size) throws IOException {
        int m = ShardFormat.MAGIC.length;
        // Leading magic padded to 8 bytes, footer, 4-byte footer length, trailing magic.
        if (size < 8 + 4 + m) {
            throw new ShardFormatException(shard, "is " + size + " bytes, too short to be an Arrow IPC file; "
                    + ShardFormatException.RECREATE);
        }
        ByteBuffer head = ByteBuffer.allocate(m);
        ByteBuffer tail = ByteBuffer.allocate(m);
        readFully(channel, head, 0);
        readFully(channel, tail, size - m);
        if (!Arrays.equals(head.array(), ShardFormat.MAGIC)) {
            throw new ShardFormatException(shard, "does not start with the Arrow IPC file magic 'ARROW1'; it is not an "
                    + "Arrow file (an Arrow stream, Parquet, or another format?): " + ShardFormatException.RECREATE);
        }
        if (!Arrays.equals(tail.array(), ShardFormat.MAGIC)) {
            throw new ShardFormatException(shard, "does not end with the Arrow IPC file magic 'ARROW1': the file is "
                    + "truncated or its footer is missing (an interrupted copy?); " + ShardFormatException.RECREATE);
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer buf, long position) throws IOException {
        while (buf.hasRemaining()) {
            int n = channel.read(buf, position + buf.position());
            if (n < 0) {
                throw new EOFException("unexpected end of file");
            }
        }
    }

    private static void checkSchema(Path shard, Schema schema, DatasetHeader header) throws ShardFormatException {
        Map<String, String> meta = schema.getCustomMetadata() == null ? Map.of() : schema.getCustomMetadata();
        String format = meta.get(ShardFormat.KEY_FORMAT);
        if (!ShardFormat.FORMAT.equals(format)) {
            throw new ShardFormatException(shard, "schema metadata '" + ShardFormat.KEY_FORMAT + "' is " + quoted(format)
                    + " but must be '" + ShardFormat.FORMAT + "'; it is not an sae4j activation shard: "
                    + ShardFormatException.RECREATE);
        }
        List<Field> fields = schema.getFields();
        if (fields.size() != 4) {
            throw badSchema(shard, schema, "has " + fields.size() + " columns");
        }
        expectField(shard, schema, fields.get(0), ShardFormat.SENTENCE_ID, new ArrowType.Int(64, true));
        expectField(shard, schema, fields.get(1), ShardFormat.POSITION, new ArrowType.Int(32, true));
        expectField(shard, schema, fields.get(2), ShardFormat.TOKEN_ID, new ArrowType.Int(32, true));
        Field act = fields.get(3);
        expectField(shard, schema, act, ShardFormat.ACTIVATION, new ArrowType.FixedSizeList(header.dModel()));
        ArrowType item = header.dtype() == ActivationDType.BF16
                ? new ArrowType.Int(16, false) : new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE);
        if (act.getChildren().size() != 1 || !act.getChildren().getFirst().getType().equals(item)) {
            throw new ShardFormatException(shard, "column 'activation' holds " + act.getChildren().stream()
                    .map(f -> f.getType().toString()).toList() + " but the sidecar's dtype '" + header.dtype().wireName()
                    + "' needs " + item + "; " + ShardFormatException.RECREATE);
        }
        String fieldDtype = act.getMetadata().get(ShardFormat.KEY_FIELD_DTYPE);
        checkMeta(shard, "activation field metadata '" + ShardFormat.KEY_FIELD_DTYPE + "'", fieldDtype,
                header.dtype().wireName());
        checkMeta(shard, "schema metadata 'dtype'", meta.get(ShardFormat.KEY_DTYPE), header.dtype().wireName());
        checkMeta(shard, "schema metadata 'd_model'", meta.get(ShardFormat.KEY_D_MODEL), Integer.toString(header.dModel()));
        checkMeta(shard, "schema metadata 'model'", meta.get(ShardFormat.KEY_MODEL), header.model());
        checkMeta(shard, "schema metadata 'hook_point'", meta.get(ShardFormat.KEY_HOOK_POINT), header.hookPoint());
    }

    private static void expectField(Path shard, Schema schema, Field f, String name, ArrowType type)
            throws ShardFormatException {
        if (!f.getName().equals(name)) {
            throw badSchema(shard, schema, "has column '" + f.getName() + "' where '" + name + "' belongs");
        }
        if (!f.getType().equals(type)) {
            if (type instanceof ArrowType.FixedSizeList expected && f.getType() instanceof ArrowType.FixedSizeList got) {
                throw new ShardFormatException(shard, "column 'activation' has d_model " + got.getListSize()
                        + " but its sidecar records " + expected.getListSize() + "; the sidecar belongs to another "
                        + "shard: put the right one beside it, or " + ShardFormatException.RECREATE);
            }
            throw badSchema(shard, schema, "has column '" + name + "' of type " + f.getType() + ", not " + type);
        }
    }

    private static void checkMeta(Path shard, String what, String actual, String expected) throws ShardFormatException {
        if (!expected.equals(actual)) {
            throw new ShardFormatException(shard, what + " is " + quoted(actual) + " but its sidecar records '"
                    + expected + "'; the sidecar belongs to another shard: put the right one beside it, or "
                    + ShardFormatException.RECREATE);
        }
    }

    private static ShardFormatException badSchema(Path shard, Schema schema, String problem) {
        return new ShardFormatException(shard, "has the wrong schema: it " + problem + "; expected sentence_id int64, "
                + "position int32, token_id int32, activation fixed_size_list<uint16|float32>[d_model], got "
                + schema.getFields() + ". " + ShardFormatException.RECREATE);
    }

    private static String quoted(String s) {
        return s == null ? "missing" : "'" + s + "'";
    }

    private static void closeAll(ArrowFileReader reader, BufferAllocator allocator, FileChannel channel)
            throws IOException {
        IOException first = null;
        if (reader != null) {
            try {
                // Closes the vectors and the channel.
                reader.close();
            } catch (IOException | RuntimeException e) {
                first = e instanceof IOException io ? io : new IOException(e);
            }
        }
        if (allocator != null) {
            try {
                allocator.close();
            } catch (RuntimeException e) {
                // A leak report from Arrow; the memory is returned when the process ends.
            }
        }
        try {
            channel.close();
        } catch (IOException e) {
            first = first == null ? e : first;
        }
        if (first != null) {
            throw first;
        }
    }
}
