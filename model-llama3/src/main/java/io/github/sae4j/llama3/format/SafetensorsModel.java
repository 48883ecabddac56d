package io.github.sae4j.llama3.format;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.github.sae4j.api.backend.WeightFormat;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SequencedSet;
import java.util.stream.Stream;

/**
 * Hugging Face safetensors weights, one file or shards behind {@code model.safetensors.index.json}, memory-mapped
 * in one shared arena so that a multi-gigabyte checkpoint costs no heap and every tensor is a zero-copy slice.
 * Every header is checked when opening, so a damaged file fails here with its name rather than later inside a
 * matrix multiplication.
 */
public final class SafetensorsModel implements ModelTensors {

    /** File name of a single-file checkpoint in a model directory. */
    public static final String SINGLE_FILE = "model.safetensors";
    /** File name of the shard index in a model directory. */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    /** Header key of the free-form string metadata. */
    private static final String METADATA_KEY = "__metadata__";
    /** Duplicate names would make one tensor silently shadow another. */
    private static final ObjectMapper JSON =
            JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Element sizes of the safetensors dtypes, so that offsets are checked even for tensors this reader cannot
     * decode; only those with a {@link WeightFormat} can be read.
     */
    private static final Map<String, Integer> DTYPE_BYTES = Map.ofEntries(
            Map.entry("BOOL", 1), Map.entry("U8", 1), Map.entry("I8", 1), Map.entry("F8_E4M3", 1),
            Map.entry("F8_E5M2", 1), Map.entry("U16", 2), Map.entry("I16", 2), Map.entry("F16", 2),
            Map.entry("BF16", 2), Map.entry("U32", 4), Map.entry("I32", 4), Map.entry("F32", 4),
            Map.entry("U64", 8), Map.entry("I64", 8), Map.entry("F64", 8));
    private static final Map<String, WeightFormat> FORMATS = Map.of(
            "F32", WeightFormat.F32, "F16", WeightFormat.F16, "BF16", WeightFormat.BF16);
    private static final String SUPPORTED = "F32, F16, BF16";

    /** A tensor's header entry; {@code format} is null for a dtype that cannot be read. */
    private record Entry(String name, String dtype, WeightFormat format, long[] shape, long begin, long end,
                         Shard shard) {
    }

    /** One mapped file and where its tensor data starts. */
    private record Shard(Path file, MemorySegment mapped, long dataStart) {
    }

    private final String source;
    private final Arena arena;
    private final Map<String, Entry> entries;
    private final SequencedSet<String> names;
    private final Map<String, String> metadata;
    private volatile boolean closed;

    private SafetensorsModel(String source, Arena arena, Map<String, Entry> entries, Map<String, String> metadata) {
        this.source = source;
        this.arena = arena;
        this.entries = entries;
        this.names = Collections.unmodifiableSequencedSet(new LinkedHashSet<>(entries.keySet()));
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /**
     * Opens a model directory (with {@value #INDEX_FILE} and its shards, or {@value #SINGLE_FILE}), an index file,
     * or one {@code .safetensors} file.
     *
     * @throws IOException if a file is missing, unreadable or malformed; the message names it
     */
    public static SafetensorsModel open(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            Path index = path.resolve(INDEX_FILE);
            if (Files.isRegularFile(index)) {
                return openIndex(index);
            }
            Path single = path.resolve(SINGLE_FILE);
            if (Files.isRegularFile(single)) {
                return openSingle(single);
            }
            List<String> found;
            try (Stream<Path> files = Files.list(path)) {
                found = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".safetensors")).sorted()
                        .toList();
            }
            throw new NoSuchFileException(path.toString(), null, "no " + INDEX_FILE + " or " + SINGLE_FILE
                    + " in this directory" + (found.isEmpty() ? "" : "; open one of " + found + " directly"));
        }
        if (!Files.isRegularFile(path)) {
            throw new NoSuchFileException(path.toString(), null, "expected a model directory, an " + INDEX_FILE
                    + " or a .safetensors file");
        }
        return path.getFileName().toString().endsWith(".index.json") ? openIndex(path) : openSingle(path);
    }

    private static SafetensorsModel openSingle(Path file) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, Entry> entries = readShard(file, arena, metadata);
            return new SafetensorsModel(file.toString(), arena, entries, metadata);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static SafetensorsModel openIndex(Path indexFile) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(indexFile.toFile());
        } catch (JacksonException e) {
            throw new IOException(indexFile + ": not a valid JSON shard index: " + e.getOriginalMessage(), e);
        }
        JsonNode weightMap = root == null ? null : root.get("weight_map");
        if (weightMap == null || !weightMap.isObject()) {
            throw new IOException(indexFile + ": expected an object \"weight_map\" {tensor name: shard file}, found "
                    + (weightMap == null ? "none" : weightMap.getNodeType()));
        }
        Path dir = indexFile.toAbsolutePath().getParent();
        Arena arena = Arena.ofShared();
        try {
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, Map<String, Entry>> shards = new LinkedHashMap<>();
            Map<String, Entry> entries = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> mapping : weightMap.properties()) {
                String tensor = mapping.getKey();
                if (!mapping.getValue().isTextual()) {
                    throw new IOException(indexFile + ": weight_map entry '" + tensor
                            + "' must name a shard file, found " + mapping.getValue());
                }
                String shardName = mapping.getValue().asText();
                Map<String, Entry> shard = shards.get(shardName);
                if (shard == null) {
                    Path shardFile = dir.resolve(shardName);
                    if (!Files.isRegularFile(shardFile)) {
                        throw new NoSuchFileException(shardFile.toString(), null, "shard named in " + indexFile
                                + " for tensor '" + tensor + "' is missing");
                    }
                    shard = readShard(shardFile, arena, metadata);
                    shards.put(shardName, shard);
                }
                Entry entry = shard.get(tensor);
                if (entry == null) {
                    throw new IOException(indexFile + ": weight_map puts tensor '" + tensor + "' in " + shardName
                            + ", but that shard has no such tensor");
                }
                entries.put(tensor, entry);
            }
            JsonNode indexMetadata = root.get("metadata");
            if (indexMetadata != null && indexMetadata.isObject()) {
                for (Map.Entry<String, JsonNode> m : indexMetadata.properties()) {
                    metadata.put(m.getKey(), m.getValue().isTextual() ? m.getValue().asText() : m.getValue().toString());
                }
            }
            return new SafetensorsModel(indexFile.toString(), arena, entries, metadata);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Maps {@code file} into {@code arena}, checks its header and adds its {@code __metadata__} to {@code metadata}. */
    private static Map<String, Entry> readShard(Path file, Arena arena, Map<String, String> metadata)
            throws IOException {
        MemorySegment mapped;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < 8) {
                throw new IOException(file + ": " + size + " bytes is too short for a safetensors file, which starts"
                        + " with an 8-byte header length");
            }
            mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        }
        long size = mapped.byteSize();
        long headerLength = mapped.get(LONG_LE, 0);
        if (headerLength >= 0 && headerLength < 2) {
            throw new IOException(file + ": header length " + headerLength + " is too small for the JSON header {}");
        }
        if (headerLength < 0 || headerLength > size - 8) {
            throw new IOException(file + ": header length " + Long.toUnsignedString(headerLength)
                    + " runs past the end of the file (" + size + " bytes, so at most " + (size - 8) + ")");
        }
        if (headerLength > Integer.MAX_VALUE - 8) {
            throw new IOException(file + ": header length " + headerLength + " is too large to be a safetensors header");
        }
        byte[] headerBytes = mapped.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE);
        JsonNode header;
        try {
            header = JSON.readTree(headerBytes);
        } catch (JacksonException e) {
            throw new IOException(file + ": the " + headerLength + "-byte header is not valid JSON: "
                    + e.getOriginalMessage(), e);
        }
        if (header == null || !header.isObject()) {
            throw new IOException(file + ": the header must be a JSON object {tensor name: {dtype, shape,"
                    + " data_offsets}}, found " + (header == null ? "nothing" : header.getNodeType()));
        }
        long dataStart = 8 + headerLength;
        long dataSize = size - dataStart;
        Shard shard = new Shard(file, mapped, dataStart);
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> field : header.properties()) {
            String name = field.getKey();
            JsonNode node = field.getValue();
            if (name.equals(METADATA_KEY)) {
                readMetadata(file, node, metadata);
                continue;
            }
            Entry entry = readEntry(file, name, node, dataSize, shard);
            entries.put(name, entry);
        }
        checkNoOverlap(file, entries.values());
        return entries;
    }

    private static void readMetadata(Path file, JsonNode node, Map<String, String> metadata) throws IOException {
        if (!node.isObject()) {
            throw new IOException(file + ": " + METADATA_KEY + " must be an object of strings, found "
                    + node.getNodeType());
        }
        for (Map.Entry<String, JsonNode> m : node.properties()) {
            if (!m.getValue().isTextual()) {
                throw new IOException(file + ": " + METADATA_KEY + " value '" + m.getKey()
                        + "' must be a string, found " + m.getValue().getNodeType());
            }
            metadata.putIfAbsent(m.getKey(), m.getValue().asText());
        }
    }

    private static Entry readEntry(Path file, String name, JsonNode node, long dataSize, Shard shard)
            throws IOException {
        String where = file + ": tensor '" + name + "'";
        if (!node.isObject()) {
            throw new IOException(where + ": expected an object {dtype, shape, data_offsets}, found "
                    + node.getNodeType());
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new IOException(where + ": expected a string \"dtype\", found " + dtypeNode);
        }
        String dtype = dtypeNode.asText();
        long[] shape = longArray(where, "shape", node.get("shape"), -1);
        long[] offsets = longArray(where, "data_offsets", node.get("data_offsets"), 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end) {
            throw new IOException(where + ": data_offsets [" + begin + ", " + end + "] begin after end");
        }
        if (end > dataSize) {
            throw new IOException(where + ": data_offsets [" + begin + ", " + end + "] run past the end of the file"
                    + " (the data section holds " + dataSize + " bytes)");
        }
        Integer elementBytes = DTYPE_BYTES.get(dtype);
        if (elementBytes != null) {
            long need;
            try {
                long elements = 1;
                for (long d : shape) {
                    elements = Math.multiplyExact(elements, d);
                }
                need = Math.multiplyExact(elements, elementBytes);
            } catch (ArithmeticException e) {
                throw new IOException(where + ": shape " + Arrays.toString(shape) + " is too large");
            }
            if (end - begin != need) {
                throw new IOException(where + ": " + dtype + " " + Arrays.toString(shape) + " needs " + need
                        + " bytes, but data_offsets [" + begin + ", " + end + "] hold " + (end - begin));
            }
        }
        return new Entry(name, dtype, FORMATS.get(dtype), shape, begin, end, shard);
    }

    private static long[] longArray(String where, String key, JsonNode node, int length) throws IOException {
        String expected = length < 0 ? "an array of non-negative integers" : "an array of " + length
                + " non-negative integers";
        if (node == null || !node.isArray() || (length >= 0 && node.size() != length)) {
            throw new IOException(where + ": expected \"" + key + "\" to be " + expected + ", found " + node);
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.canConvertToExactIntegral() || !v.canConvertToLong() || v.asLong() < 0) {
                throw new IOException(where + ": expected \"" + key + "\" to be " + expected + ", found " + node);
            }
            out[i] = v.asLong();
        }
        return out;
    }

    /** Overlapping tensors mean a corrupt header: two weights would silently share bytes. */
    private static void checkNoOverlap(Path file, Collection<Entry> entries) throws IOException {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        for (int i = 1; i < sorted.size(); i++) {
            Entry a = sorted.get(i - 1);
            Entry b = sorted.get(i);
            if (b.begin() < a.end() && b.end() > b.begin()) {
                throw new IOException(file + ": tensors '" + a.name() + "' [" + a.begin() + ", " + a.end() + ") and '"
                        + b.name() + "' [" + b.begin() + ", " + b.end() + ") overlap");
            }
        }
    }

    /** The {@code __metadata__} strings of every file, and the index's {@code metadata} (which wins). */
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public SequencedSet<String> names() {
        return names;
    }

    @Override
    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    @Override
    public TensorData tensor(String name) {
        checkOpen();
        Entry e = entries.get(name);
        if (e == null) {
            String hint = name.startsWith("blk.") || name.startsWith("token_embd") || name.startsWith("output")
                    ? "safetensors files use Hugging Face names such as model.embed_tokens.weight, not llama.cpp's"
                    : null;
            throw TensorNames.missing(source, name, entries.keySet(), hint);
        }
        if (e.format() == null) {
            throw new IllegalArgumentException(e.shard().file() + ": tensor '" + name + "' has dtype '" + e.dtype()
                    + "', which cannot be read as weights; supported: " + SUPPORTED);
        }
        Shard s = e.shard();
        MemorySegment data = s.mapped().asSlice(s.dataStart() + e.begin(), e.end() - e.begin());
        return new TensorData(name, e.format(), e.shape(), data, s.file());
    }

    @Override
    public String source() {
        return source;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException(source + " is closed");
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "SafetensorsModel[" + source + ", " + entries.size() + " tensors]";
    }
}
