package io.github.sae4j.core.io;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header mapping each
 * tensor name to {@code {dtype, shape, data_offsets}} (plus optional {@code __metadata__} of strings), then the
 * raw little-endian data. Readable with nothing but the format: {@code safetensors.numpy.load_file}, or a few
 * lines of numpy.
 */
public final class Safetensors {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** A header larger than this is not a safetensors file (the reference implementation caps it at 100 MB). */
    private static final long MAX_HEADER = 100L << 20;

    private Safetensors() {
    }

    /** A tensor to write: F32, I32 or I64 data with its shape. */
    public record Array(String name, String dtype, int[] shape, float[] f32, int[] i32, long[] i64) {

        public static Array f32(String name, float[] data, int... shape) {
            check(name, data.length, shape);
            return new Array(name, "F32", shape.clone(), data, null, null);
        }

        public static Array i32(String name, int[] data, int... shape) {
            check(name, data.length, shape);
            return new Array(name, "I32", shape.clone(), null, data, null);
        }

        public static Array i64(String name, long[] data, int... shape) {
            check(name, data.length, shape);
            return new Array(name, "I64", shape.clone(), null, null, data);
        }

        private static void check(String name, int length, int[] shape) {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            if (n != length) {
                throw new IllegalArgumentException("tensor " + name + ": " + length + " values do not fill shape "
                        + Arrays.toString(shape));
            }
        }

        long bytes() {
            return switch (dtype) {
                case "F32" -> 4L * f32.length;
                case "I32" -> 4L * i32.length;
                default -> 8L * i64.length;
            };
        }
    }

    /** Writes {@code tensors} (in order) to {@code file}. Not atomic by itself: see {@link AtomicFiles}. */
    public static void write(Path file, List<Array> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Array t : tensors) {
            ObjectNode entry = header.putObject(t.name());
            entry.put("dtype", t.dtype());
            var shape = entry.putArray("shape");
            for (int d : t.shape()) {
                shape.add(d);
            }
            var offsets = entry.putArray("data_offsets");
            offsets.add(offset);
            offsets.add(offset + t.bytes());
            offset += t.bytes();
        }
        byte[] json = JSON.writeValueAsBytes(header);
        // Pad the header with spaces to a multiple of 8 bytes, as the reference writer does, so data is aligned.
        int padded = (json.length + 7) / 8 * 8;
        byte[] headerBytes = Arrays.copyOf(json, padded);
        Arrays.fill(headerBytes, json.length, padded, (byte) ' ');
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).flip();
            writeFully(ch, len);
            writeFully(ch, ByteBuffer.wrap(headerBytes));
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (Array t : tensors) {
                // Bulk copies through typed views of one direct buffer: no per-element calls.
                int done = 0;
                int total = t.f32() != null ? t.f32().length : t.i32() != null ? t.i32().length : t.i64().length;
                int width = t.i64() != null ? 8 : 4;
                while (done < total) {
                    int n = Math.min(total - done, buf.remaining() / width);
                    if (n == 0) {
                        flush(ch, buf);
                        continue;
                    }
                    if (t.f32() != null) {
                        buf.asFloatBuffer().put(t.f32(), done, n);
                    } else if (t.i32() != null) {
                        buf.asIntBuffer().put(t.i32(), done, n);
                    } else {
                        buf.asLongBuffer().put(t.i64(), done, n);
                    }
                    buf.position(buf.position() + n * width);
                    done += n;
                }
            }
            flush(ch, buf);
        }
    }

    private static void flush(FileChannel ch, ByteBuffer buf) throws IOException {
        buf.flip();
        writeFully(ch, buf);
        buf.clear();
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    /** A tensor's header entry. */
    public record Info(String name, String dtype, int[] shape, long begin, long end) {
        public long elements() {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** An opened safetensors file: its header, with tensors read on demand. */
    public static final class Reader implements AutoCloseable {
        private final Path file;
        private final FileChannel channel;
        private final long dataStart;
        private final Map<String, Info> tensors;
        private final Map<String, String> metadata;

        private Reader(Path file, FileChannel channel, long dataStart, Map<String, Info> tensors,
                       Map<String, String> metadata) {
            this.file = file;
            this.channel = channel;
            this.dataStart = dataStart;
            this.tensors = tensors;
            this.metadata = metadata;
        }

        public Path file() {
            return file;
        }

        /** Tensor entries in file order. */
        public Map<String, Info> tensors() {
            return tensors;
        }

        public Map<String, String> metadata() {
            return metadata;
        }

        public Info info(String name) throws IOException {
            Info info = tensors.get(name);
            if (info == null) {
                throw new IOException(file + " has no tensor '" + name + "'; it has " + tensors.keySet());
            }
            return info;
        }

        /** Reads an F32 tensor, checking its shape when {@code expectedShape} is given. */
        public float[] readF32(String name, int... expectedShape) throws IOException {
            Info info = checked(name, "F32", expectedShape);
            float[] out = new float[Math.toIntExact(info.elements())];
            ByteBuffer buf = read(info);
            buf.asFloatBuffer().get(out);
            return out;
        }

        public int[] readI32(String name, int... expectedShape) throws IOException {
            Info info = checked(name, "I32", expectedShape);
            int[] out = new int[Math.toIntExact(info.elements())];
            read(info).asIntBuffer().get(out);
            return out;
        }

        public long[] readI64(String name, int... expectedShape) throws IOException {
            Info info = checked(name, "I64", expectedShape);
            long[] out = new long[Math.toIntExact(info.elements())];
            read(info).asLongBuffer().get(out);
            return out;
        }

        private Info checked(String name, String dtype, int[] expectedShape) throws IOException {
            Info info = info(name);
            if (!info.dtype().equals(dtype)) {
                throw new IOException(file + ": tensor '" + name + "' is " + info.dtype() + ", expected " + dtype);
            }
            if (expectedShape != null && expectedShape.length > 0 && !Arrays.equals(info.shape(), expectedShape)) {
                throw new IOException(file + ": tensor '" + name + "' has shape " + Arrays.toString(info.shape())
                        + ", expected " + Arrays.toString(expectedShape));
            }
            return info;
        }

        private ByteBuffer read(Info info) throws IOException {
            long length = info.end() - info.begin();
            if (length > Integer.MAX_VALUE - 8) {
                throw new IOException(file + ": tensor '" + info.name() + "' is larger than 2 GB; read it in parts");
            }
            ByteBuffer buf = ByteBuffer.allocate((int) length).order(ByteOrder.LITTLE_ENDIAN);
            long pos = dataStart + info.begin();
            while (buf.hasRemaining()) {
                int n = channel.read(buf, pos);
                if (n < 0) {
                    throw new IOException(file + " is truncated inside tensor '" + info.name() + "'");
                }
                pos += n;
            }
            return buf.flip();
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    /**
     * Opens a safetensors file and validates its header: sizes, dtypes, offsets within the file.
     *
     * @throws IOException naming the file and what is wrong
     */
    public static Reader open(Path file) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            long size = ch.size();
            if (size < 8) {
                throw new IOException(file + " is not a safetensors file: only " + size + " bytes");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(lenBuf, 0);
            long headerLength = lenBuf.flip().getLong();
            if (headerLength <= 0 || headerLength > MAX_HEADER || headerLength > size - 8) {
                throw new IOException(file + " is not a safetensors file or is truncated: header length " + headerLength
                        + " in a file of " + size + " bytes");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLength);
            while (headerBuf.hasRemaining()) {
                if (ch.read(headerBuf, 8 + headerBuf.position()) < 0) {
                    throw new IOException(file + " is truncated inside its header");
                }
            }
            JsonNode header;
            try {
                header = JSON.readTree(new String(headerBuf.array(), StandardCharsets.UTF_8).strip());
            } catch (IOException e) {
                throw new IOException(file + " has a corrupt safetensors header: " + e.getMessage(), e);
            }
            if (header == null || !header.isObject()) {
                throw new IOException(file + " has a safetensors header that is not a JSON object");
            }
            long dataStart = 8 + headerLength;
            long dataSize = size - dataStart;
            Map<String, Info> tensors = new LinkedHashMap<>();
            Map<String, String> metadata = Map.of();
            List<Info> infos = new ArrayList<>();
            for (Map.Entry<String, JsonNode> e : header.properties()) {
                if (e.getKey().equals("__metadata__")) {
                    metadata = JSON.convertValue(e.getValue(), new TypeReference<LinkedHashMap<String, String>>() { });
                    continue;
                }
                infos.add(parseInfo(file, e.getKey(), e.getValue(), dataSize));
            }
            infos.sort((a, b) -> Long.compare(a.begin(), b.begin()));
            infos.forEach(i -> tensors.put(i.name(), i));
            return new Reader(file, ch, dataStart, Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static Info parseInfo(Path file, String name, JsonNode node, long dataSize) throws IOException {
        JsonNode dtype = node.get("dtype");
        JsonNode shape = node.get("shape");
        JsonNode offsets = node.get("data_offsets");
        if (dtype == null || shape == null || offsets == null || !shape.isArray() || offsets.size() != 2) {
            throw new IOException(file + ": tensor '" + name + "' lacks dtype, shape or data_offsets");
        }
        int[] dims = new int[shape.size()];
        long elements = 1;
        for (int i = 0; i < dims.length; i++) {
            long d = shape.get(i).asLong(-1);
            if (d < 0 || d > Integer.MAX_VALUE) {
                throw new IOException(file + ": tensor '" + name + "' has invalid shape " + shape);
            }
            dims[i] = (int) d;
            elements *= d;
        }
        long begin = offsets.get(0).asLong(-1);
        long end = offsets.get(1).asLong(-1);
        int width = switch (dtype.asText()) {
            case "F64", "I64", "U64" -> 8;
            case "F32", "I32", "U32" -> 4;
            case "F16", "BF16", "I16", "U16" -> 2;
            case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2" -> 1;
            default -> throw new IOException(file + ": tensor '" + name + "' has unknown dtype " + dtype.asText());
        };
        if (begin < 0 || end < begin || end > dataSize || end - begin != elements * width) {
            throw new IOException(file + ": tensor '" + name + "' has data_offsets [" + begin + ", " + end
                    + "] that do not fit its shape " + Arrays.toString(dims) + " x " + width + " bytes or the file's "
                    + dataSize + " data bytes (truncated file?)");
        }
        return new Info(name, dtype.asText(), dims, begin, end);
    }
}
