package io.github.sae4j.llama3.format;

import io.github.sae4j.api.backend.WeightFormat;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.SequencedSet;

/**
 * A GGUF file (llama.cpp's format, versions 2 and 3), memory-mapped in one shared arena: the typed metadata is read
 * into the heap when opening, the tensors stay zero-copy slices of the mapping. The header is fully checked when
 * opening; a tensor in a ggml type that sae4j cannot decode fails only when it is asked for, so such files can
 * still be inspected.
 *
 * <p>Metadata values are {@link String}, {@link Long} (every integer type; a {@code u64} above
 * {@link Long#MAX_VALUE} wraps to negative), {@link Double} ({@code f32}, {@code f64}), {@link Boolean} or
 * {@code List<Object>} of those for arrays.
 */
public final class GgufFile implements ModelTensors {

    /** "GGUF" read as a little-endian u32. */
    public static final int MAGIC = 0x46554747;
    /** Used when {@code general.alignment} is absent. */
    public static final int DEFAULT_ALIGNMENT = 32;

    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble DOUBLE_LE =
            ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** GGUF metadata value type names, indexed by type id. */
    private static final String[] VALUE_TYPES =
            {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"};
    private static final int TYPE_STRING = 8;
    private static final int TYPE_ARRAY = 9;
    /** Smallest encoded size of one value of each type, to reject absurd array lengths before allocating. */
    private static final int[] MIN_VALUE_BYTES = {1, 1, 2, 2, 4, 4, 4, 1, 8, 12, 8, 8, 8};
    /** Nested arrays deeper than this are corrupt, not data. */
    private static final int MAX_ARRAY_DEPTH = 8;
    private static final int MAX_DIMS = 4;
    private static final String INTEGER_TYPES = "an integer (u8, i8, u16, i16, u32, i32, u64, i64)";
    private static final String REAL_TYPES = "a number (f32, f64 or an integer type)";

    /** ggml type names by id, for messages about types this reader does not decode. */
    private static final Map<Integer, String> GGML_TYPE_NAMES = Map.ofEntries(
            Map.entry(0, "F32"), Map.entry(1, "F16"), Map.entry(2, "Q4_0"), Map.entry(3, "Q4_1"),
            Map.entry(6, "Q5_0"), Map.entry(7, "Q5_1"), Map.entry(8, "Q8_0"), Map.entry(9, "Q8_1"),
            Map.entry(10, "Q2_K"), Map.entry(11, "Q3_K"), Map.entry(12, "Q4_K"), Map.entry(13, "Q5_K"),
            Map.entry(14, "Q6_K"), Map.entry(15, "Q8_K"), Map.entry(16, "IQ2_XXS"), Map.entry(17, "IQ2_XS"),
            Map.entry(18, "IQ3_XXS"), Map.entry(19, "IQ1_S"), Map.entry(20, "IQ4_NL"), Map.entry(21, "IQ3_S"),
            Map.entry(22, "IQ2_S"), Map.entry(23, "IQ4_XS"), Map.entry(24, "I8"), Map.entry(25, "I16"),
            Map.entry(26, "I32"), Map.entry(27, "I64"), Map.entry(28, "F64"), Map.entry(29, "IQ1_M"),
            Map.entry(30, "BF16"), Map.entry(34, "TQ1_0"), Map.entry(35, "TQ2_0"), Map.entry(39, "MXFP4"));
    /** The ggml types that map onto a {@link WeightFormat}. */
    private static final Map<Integer, WeightFormat> FORMATS = Map.of(
            0, WeightFormat.F32, 1, WeightFormat.F16, 2, WeightFormat.Q4_0, 8, WeightFormat.Q8_0,
            30, WeightFormat.BF16);
    private static final String SUPPORTED = "F32 (0), F16 (1), BF16 (30), Q8_0 (8), Q4_0 (2)";

    /** A tensor info entry; {@code ne} is GGUF's order, innermost first. */
    private record TensorInfo(String name, int type, long[] ne, long offset) {
    }

    private final Path file;
    private final Arena arena;
    private final MemorySegment mapped;
    private final int version;
    private final Map<String, Object> metadata;
    private final Map<String, String> metadataTypes;
    private final Map<String, TensorInfo> tensors;
    private final SequencedSet<String> names;
    private final long alignment;
    private final long dataStart;
    private volatile boolean closed;

    private GgufFile(Path file, Arena arena, MemorySegment mapped, int version, Map<String, Object> metadata,
                     Map<String, String> metadataTypes, Map<String, TensorInfo> tensors, long alignment,
                     long dataStart) {
        this.file = file;
        this.arena = arena;
        this.mapped = mapped;
        this.version = version;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.metadataTypes = metadataTypes;
        this.tensors = tensors;
        this.names = Collections.unmodifiableSequencedSet(new LinkedHashSet<>(tensors.keySet()));
        this.alignment = alignment;
        this.dataStart = dataStart;
    }

    /**
     * Maps and checks a GGUF file.
     *
     * @throws IOException if it is not GGUF v2/v3, is truncated, or its header is inconsistent; the message names
     *                     the file and the offending key or tensor
     */
    public static GgufFile open(Path file) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment mapped;
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            }
            return new Parser(file, mapped).parse(arena);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Reads the header front to back, checking every length against the bytes left in the file. */
    private static final class Parser {
        private final Path file;
        private final MemorySegment m;
        private final long size;
        private long pos;
        /** What is being read, for truncation messages. */
        private String context = "the header";

        Parser(Path file, MemorySegment mapped) {
            this.file = file;
            this.m = mapped;
            this.size = mapped.byteSize();
        }

        GgufFile parse(Arena arena) throws IOException {
            if (size < 4) {
                throw new IOException(file + ": not a GGUF file: " + size + " bytes, too short for the magic 'GGUF'");
            }
            int magic = m.get(INT_LE, 0);
            if (magic != MAGIC) {
                throw new IOException(file + ": not a GGUF file: expected magic 'GGUF' (0x46554747), found 0x"
                        + Integer.toHexString(magic) + describeAscii(magic));
            }
            pos = 4;
            context = "the version";
            int version = u32();
            if (version != 2 && version != 3) {
                String why = version == 1 ? " (v1 used 32-bit counts; re-convert with a current llama.cpp)"
                        : Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3
                        ? " (this looks like a big-endian GGUF file, which is not supported)" : "";
                throw new IOException(file + ": unsupported GGUF version " + Integer.toUnsignedString(version)
                        + why + "; supported: 2, 3");
            }
            context = "the tensor count";
            long tensorCount = u64();
            context = "the metadata count";
            long kvCount = u64();
            // Each key/value takes at least 13 bytes, each tensor info at least 24.
            checkCount("metadata key/value count", kvCount, 13);
            checkCount("tensor count", tensorCount, 24);

            Map<String, Object> metadata = new LinkedHashMap<>();
            Map<String, String> types = new LinkedHashMap<>();
            for (long i = 0; i < kvCount; i++) {
                context = "the key of metadata entry #" + i;
                String key = string();
                context = "metadata key '" + key + "'";
                int type = u32();
                if (type < 0 || type >= VALUE_TYPES.length) {
                    throw new IOException(file + ": metadata key '" + key + "' has unknown value type "
                            + Integer.toUnsignedString(type) + " at offset " + (pos - 4) + "; known: 0..12");
                }
                StringBuilder typeName = new StringBuilder();
                Object value = value(type, 0, typeName);
                if (metadata.putIfAbsent(key, value) != null) {
                    throw new IOException(file + ": metadata key '" + key + "' appears twice");
                }
                types.put(key, typeName.toString());
            }

            long alignment = DEFAULT_ALIGNMENT;
            if (metadata.containsKey("general.alignment")) {
                if (!(metadata.get("general.alignment") instanceof Long a) || a <= 0 || (a & (a - 1)) != 0) {
                    throw new IOException(file + ": metadata key 'general.alignment' must be a positive power of two"
                            + " integer, found " + types.get("general.alignment") + " "
                            + metadata.get("general.alignment"));
                }
                alignment = a;
            }

            List<TensorInfo> infos = new ArrayList<>();
            Map<String, TensorInfo> tensors = new LinkedHashMap<>();
            for (long i = 0; i < tensorCount; i++) {
                context = "the name of tensor info #" + i;
                String name = string();
                context = "tensor info '" + name + "'";
                int nDims = u32();
                if (nDims < 1 || nDims > MAX_DIMS) {
                    throw new IOException(file + ": tensor '" + name + "' has " + Integer.toUnsignedString(nDims)
                            + " dimensions; expected 1 to " + MAX_DIMS);
                }
                long[] ne = new long[nDims];
                for (int d = 0; d < nDims; d++) {
                    ne[d] = u64();
                    if (ne[d] < 0) {
                        throw new IOException(file + ": tensor '" + name + "' has dimension ne[" + d + "] = "
                                + Long.toUnsignedString(ne[d]) + ", larger than any file");
                    }
                }
                int type = u32();
                long offset = u64();
                TensorInfo info = new TensorInfo(name, type, ne, offset);
                if (tensors.putIfAbsent(name, info) != null) {
                    throw new IOException(file + ": tensor '" + name + "' appears twice");
                }
                infos.add(info);
            }
            long dataStart = align(pos, alignment);
            for (TensorInfo info : infos) {
                checkTensorBounds(info, alignment, dataStart);
            }
            return new GgufFile(file, arena, m, version, metadata, types, tensors, alignment, dataStart);
        }

        /** Supported tensors must lie inside the file; others are checked when they become readable. */
        private void checkTensorBounds(TensorInfo info, long alignment, long dataStart) throws IOException {
            WeightFormat format = FORMATS.get(info.type());
            if (format == null) {
                return;
            }
            String what = file + ": tensor '" + info.name() + "'";
            if (Long.remainderUnsigned(info.offset(), alignment) != 0) {
                throw new IOException(what + ": data offset " + Long.toUnsignedString(info.offset())
                        + " is not a multiple of the alignment " + alignment);
            }
            long bytes;
            try {
                bytes = TensorData.byteSize(format, shape(info.ne()), what);
            } catch (IllegalArgumentException e) {
                throw new IOException(e.getMessage(), e);
            }
            long available = size - dataStart;
            if (info.offset() < 0 || info.offset() > available || bytes > available - info.offset()) {
                throw new IOException(what + ": " + format + " " + Arrays.toString(shape(info.ne()))
                        + " needs bytes [" + Long.toUnsignedString(info.offset()) + ", "
                        + (info.offset() < 0 ? "?" : String.valueOf(info.offset() + bytes))
                        + ") of the data section, which holds " + Math.max(0, available)
                        + " bytes (data starts at offset " + dataStart + " of the " + size + "-byte file)");
            }
        }

        private void checkCount(String what, long count, int minBytes) throws IOException {
            long left = size - pos;
            if (count < 0 || count > left / minBytes) {
                throw new IOException(file + ": " + what + " " + Long.toUnsignedString(count)
                        + " cannot fit in the remaining " + left + " bytes of the file; the header is corrupt");
            }
        }

        private Object value(int type, int depth, StringBuilder typeName) throws IOException {
            typeName.append(VALUE_TYPES[type]);
            return switch (type) {
                case 0 -> (long) (u8() & 0xff);
                case 1 -> (long) u8();
                case 2 -> (long) (u16() & 0xffff);
                case 3 -> (long) u16();
                case 4 -> Integer.toUnsignedLong(u32());
                case 5 -> (long) u32();
                case 6 -> (double) f32();
                case 7 -> {
                    byte b = u8();
                    if (b != 0 && b != 1) {
                        throw new IOException(file + ": " + context + ": bool value " + (b & 0xff) + " at offset "
                                + (pos - 1) + " is neither 0 nor 1");
                    }
                    yield b == 1;
                }
                case TYPE_STRING -> string();
                case TYPE_ARRAY -> array(depth, typeName);
                case 10, 11 -> u64();
                case 12 -> f64();
                default -> throw new IllegalStateException("type " + type);
            };
        }

        private List<Object> array(int depth, StringBuilder typeName) throws IOException {
            if (depth >= MAX_ARRAY_DEPTH) {
                throw new IOException(file + ": " + context + ": arrays nested deeper than " + MAX_ARRAY_DEPTH);
            }
            int itemType = u32();
            if (itemType < 0 || itemType >= VALUE_TYPES.length) {
                throw new IOException(file + ": " + context + ": array item type " + Integer.toUnsignedString(itemType)
                        + " at offset " + (pos - 4) + " is unknown; known: 0..12");
            }
            long n = u64();
            long left = size - pos;
            if (n < 0 || n > left / MIN_VALUE_BYTES[itemType]) {
                throw new IOException(file + ": " + context + ": array of " + Long.toUnsignedString(n) + " "
                        + VALUE_TYPES[itemType] + " cannot fit in the remaining " + left + " bytes of the file");
            }
            typeName.append('[');
            List<Object> items = new ArrayList<>((int) n);
            StringBuilder itemName = new StringBuilder();
            for (long i = 0; i < n; i++) {
                itemName.setLength(0);
                items.add(value(itemType, depth + 1, itemName));
            }
            if (n == 0) {
                itemName.append(VALUE_TYPES[itemType]);
            }
            typeName.append(itemName).append(']');
            return Collections.unmodifiableList(items);
        }

        private String string() throws IOException {
            long length = u64();
            long left = size - pos;
            if (length < 0 || length > left) {
                throw new IOException(file + ": " + context + ": string length " + Long.toUnsignedString(length)
                        + " at offset " + (pos - 8) + " runs past the end of the file (" + left + " bytes left)");
            }
            String s = new String(m.asSlice(pos, length).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            pos += length;
            return s;
        }

        private void need(int bytes) throws IOException {
            if (bytes > size - pos) {
                throw new IOException(file + ": truncated: reading " + context + " needs " + bytes
                        + " bytes at offset " + pos + ", but the file ends at " + size);
            }
        }

        private byte u8() throws IOException {
            need(1);
            return m.get(ValueLayout.JAVA_BYTE, pos++);
        }

        private short u16() throws IOException {
            need(2);
            short v = m.get(SHORT_LE, pos);
            pos += 2;
            return v;
        }

        private int u32() throws IOException {
            need(4);
            int v = m.get(INT_LE, pos);
            pos += 4;
            return v;
        }

        private long u64() throws IOException {
            need(8);
            long v = m.get(LONG_LE, pos);
            pos += 8;
            return v;
        }

        private float f32() throws IOException {
            need(4);
            float v = m.get(FLOAT_LE, pos);
            pos += 4;
            return v;
        }

        private double f64() throws IOException {
            need(8);
            double v = m.get(DOUBLE_LE, pos);
            pos += 8;
            return v;
        }
    }

    private static String describeAscii(int magic) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            int c = (magic >>> (8 * i)) & 0xff;
            if (c < 0x20 || c > 0x7e) {
                return "";
            }
            s.append((char) c);
        }
        return " ('" + s + "')";
    }

    private static long align(long offset, long alignment) {
        return (offset + alignment - 1) / alignment * alignment;
    }

    private static long[] shape(long[] ne) {
        long[] shape = new long[ne.length];
        for (int i = 0; i < ne.length; i++) {
            shape[i] = ne[ne.length - 1 - i];
        }
        return shape;
    }

    private static String ggmlTypeName(int type) {
        return GGML_TYPE_NAMES.getOrDefault(type, "unknown");
    }

    /** The GGUF version, 2 or 3. */
    public int version() {
        return version;
    }

    /** The alignment of the tensor data section and of every tensor in it. */
    public long alignment() {
        return alignment;
    }

    /** All metadata in file order; see the class comment for the value types. */
    public Map<String, Object> metadata() {
        return metadata;
    }

    /** The GGUF value type of a key as written in the file, for example {@code u32} or {@code array[string]}. */
    public Optional<String> metadataType(String key) {
        return Optional.ofNullable(metadataTypes.get(key));
    }

    /** {@code general.architecture}, for example {@code llama}: the prefix of the model's hyperparameter keys. */
    public String architecture() {
        return string("general.architecture");
    }

    public String string(String key) {
        return optionalString(key).orElseThrow(() -> missingKey(key));
    }

    public Optional<String> optionalString(String key) {
        return Optional.ofNullable(typed(key, String.class, "a string"));
    }

    /** Any integer type, widened to {@code long}. */
    public long integer(String key) {
        return optionalInteger(key).orElseThrow(() -> missingKey(key));
    }

    public OptionalLong optionalInteger(String key) {
        Long v = typed(key, Long.class, INTEGER_TYPES);
        return v == null ? OptionalLong.empty() : OptionalLong.of(v);
    }

    /** A float, or an integer widened, since converters differ in how they write e.g. {@code rope.freq_base}. */
    public double real(String key) {
        return optionalReal(key).orElseThrow(() -> missingKey(key));
    }

    public OptionalDouble optionalReal(String key) {
        Number v = typed(key, Number.class, REAL_TYPES);
        return v == null ? OptionalDouble.empty() : OptionalDouble.of(v.doubleValue());
    }

    public boolean bool(String key) {
        return optionalBool(key).orElseThrow(() -> missingKey(key));
    }

    public Optional<Boolean> optionalBool(String key) {
        return Optional.ofNullable(typed(key, Boolean.class, "a bool"));
    }

    public List<String> stringArray(String key) {
        return optionalStringArray(key).orElseThrow(() -> missingKey(key));
    }

    public Optional<List<String>> optionalStringArray(String key) {
        List<Object> items = array(key, String.class, "an array of strings");
        if (items == null) {
            return Optional.empty();
        }
        List<String> out = new ArrayList<>(items.size());
        for (Object o : items) {
            out.add((String) o);
        }
        return Optional.of(Collections.unmodifiableList(out));
    }

    public long[] integerArray(String key) {
        return optionalIntegerArray(key).orElseThrow(() -> missingKey(key));
    }

    public Optional<long[]> optionalIntegerArray(String key) {
        List<Object> items = array(key, Long.class, "an array of integers");
        if (items == null) {
            return Optional.empty();
        }
        long[] out = new long[items.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (Long) items.get(i);
        }
        return Optional.of(out);
    }

    public double[] realArray(String key) {
        return optionalRealArray(key).orElseThrow(() -> missingKey(key));
    }

    public Optional<double[]> optionalRealArray(String key) {
        List<Object> items = array(key, Number.class, "an array of numbers");
        if (items == null) {
            return Optional.empty();
        }
        double[] out = new double[items.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ((Number) items.get(i)).doubleValue();
        }
        return Optional.of(out);
    }

    private <T> T typed(String key, Class<T> type, String expected) {
        Object v = metadata.get(key);
        if (v == null) {
            return null;
        }
        if (!type.isInstance(v)) {
            throw wrongType(key, expected);
        }
        return type.cast(v);
    }

    private List<Object> array(String key, Class<?> itemType, String expected) {
        Object v = metadata.get(key);
        if (v == null) {
            return null;
        }
        if (!(v instanceof List<?> list)) {
            throw wrongType(key, expected);
        }
        @SuppressWarnings("unchecked")
        List<Object> items = (List<Object>) list;
        for (Object item : items) {
            if (!itemType.isInstance(item)) {
                throw wrongType(key, expected);
            }
        }
        return items;
    }

    private IllegalArgumentException wrongType(String key, String expected) {
        return new IllegalArgumentException(file + ": metadata key '" + key + "' should be " + expected + ", but is "
                + metadataTypes.get(key) + " " + abbreviate(metadata.get(key)));
    }

    private IllegalArgumentException missingKey(String key) {
        List<String> close = TensorNames.closest(key, metadata.keySet());
        return new IllegalArgumentException(file + ": no metadata key '" + key + "'"
                + (close.isEmpty() ? "" : "; closest: " + String.join(", ", close)));
    }

    private static String abbreviate(Object value) {
        String s = value instanceof String str ? "'" + str + "'" : String.valueOf(value);
        return s.length() > 80 ? s.substring(0, 77) + "..." : s;
    }

    @Override
    public SequencedSet<String> names() {
        return names;
    }

    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** The ggml type name of a tensor (for example {@code Q4_K}), whether or not sae4j can read it. */
    public String tensorType(String name) {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw missingTensor(name);
        }
        return ggmlTypeName(info.type());
    }

    @Override
    public TensorData tensor(String name) {
        if (closed) {
            throw new IllegalStateException(file + " is closed");
        }
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw missingTensor(name);
        }
        WeightFormat format = FORMATS.get(info.type());
        if (format == null) {
            throw new IllegalArgumentException(file + ": tensor '" + name + "' has ggml type "
                    + Integer.toUnsignedString(info.type()) + " (" + ggmlTypeName(info.type())
                    + "), which sae4j cannot read; supported: " + SUPPORTED
                    + ". Convert the model to one of these, for example with llama-quantize ... Q8_0");
        }
        long[] shape = shape(info.ne());
        long bytes = TensorData.byteSize(format, shape, file + ": tensor '" + name + "'");
        return new TensorData(name, format, shape, mapped.asSlice(dataStart + info.offset(), bytes), file);
    }

    private IllegalArgumentException missingTensor(String name) {
        String hint = name.startsWith("model.") || name.startsWith("lm_head")
                ? "GGUF files use llama.cpp names such as token_embd.weight and blk.0.attn_q.weight, not Hugging Face's"
                : null;
        return TensorNames.missing(file.toString(), name, tensors.keySet(), hint);
    }

    @Override
    public String source() {
        return file.toString();
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
        return "GgufFile[" + file + ", v" + version + ", " + tensors.size() + " tensors]";
    }
}
