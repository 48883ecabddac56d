package io.github.sae4j.llama3.format;

import io.github.sae4j.api.backend.WeightFormat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Writes small GGUF files for tests: any metadata value type, tensors from floats or raw bytes of any ggml type. */
final class GgufTestWriter {

    static final int U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7, STRING = 8, ARRAY = 9,
            U64 = 10, I64 = 11, F64 = 12;

    /** An array value inside an array. */
    record Nested(int itemType, List<?> items) {
    }

    private record Tensor(String name, int type, long[] ne, byte[] data) {
    }

    private int magic = GgufFile.MAGIC;
    private int version = 3;
    private int alignment = GgufFile.DEFAULT_ALIGNMENT;
    private final Buffer kvs = new Buffer();
    private int kvCount;
    private final List<Tensor> tensors = new ArrayList<>();

    GgufTestWriter magic(int magic) {
        this.magic = magic;
        return this;
    }

    GgufTestWriter version(int version) {
        this.version = version;
        return this;
    }

    /** Writes {@code general.alignment} and pads the data to it. */
    GgufTestWriter alignment(int alignment) {
        this.alignment = alignment;
        return kv("general.alignment", U32, (long) alignment);
    }

    /** A scalar key of GGUF value type {@code type}: Long for integers, Double for floats, Boolean, String. */
    GgufTestWriter kv(String key, int type, Object value) {
        kvs.string(key);
        kvs.u32(type);
        kvs.value(type, value);
        kvCount++;
        return this;
    }

    GgufTestWriter array(String key, int itemType, List<?> items) {
        kvs.string(key);
        kvs.u32(ARRAY);
        kvs.array(itemType, items);
        kvCount++;
        return this;
    }

    /** A tensor of {@code values} with PyTorch {@code shape} (outermost first), stored in {@code format}. */
    GgufTestWriter tensor(String name, WeightFormat format, long[] shape, float[] values) {
        int type = switch (format) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q8_0 -> 8;
            case BF16 -> 30;
        };
        return rawTensor(name, type, reverse(shape), TestWeights.encode(format, values));
    }

    /** A tensor with GGUF's {@code ne} (innermost first) and bytes as given. */
    GgufTestWriter rawTensor(String name, int ggmlType, long[] ne, byte[] data) {
        tensors.add(new Tensor(name, ggmlType, ne, data));
        return this;
    }

    byte[] bytes() {
        Buffer out = new Buffer();
        out.u32(magic);
        out.u32(version);
        out.u64(tensors.size());
        out.u64(kvCount);
        out.bytes.writeBytes(kvs.bytes.toByteArray());
        long offset = 0;
        for (Tensor t : tensors) {
            out.string(t.name());
            out.u32(t.ne().length);
            for (long n : t.ne()) {
                out.u64(n);
            }
            out.u32(t.type());
            out.u64(offset);
            offset = pad(offset + t.data().length);
        }
        while (out.bytes.size() % alignment != 0) {
            out.bytes.write(0);
        }
        for (Tensor t : tensors) {
            out.bytes.writeBytes(t.data());
            while ((out.bytes.size()) % alignment != 0) {
                out.bytes.write(0);
            }
        }
        return out.bytes.toByteArray();
    }

    Path write(Path file) throws IOException {
        Files.write(file, bytes());
        return file;
    }

    private long pad(long n) {
        return (n + alignment - 1) / alignment * alignment;
    }

    private static long[] reverse(long[] shape) {
        long[] ne = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            ne[i] = shape[shape.length - 1 - i];
        }
        return ne;
    }

    /** Little-endian GGUF encoding. */
    private static final class Buffer {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        void put(int n, long v) {
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v);
            bytes.write(b.array(), 0, n);
        }

        void u32(long v) {
            put(4, v);
        }

        void u64(long v) {
            put(8, v);
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            bytes.writeBytes(b);
        }

        void array(int itemType, List<?> items) {
            u32(itemType);
            u64(items.size());
            for (Object item : items) {
                value(itemType, item);
            }
        }

        void value(int type, Object v) {
            switch (type) {
                case U8, I8 -> put(1, (Long) v);
                case U16, I16 -> put(2, (Long) v);
                case U32, I32 -> put(4, (Long) v);
                case U64, I64 -> put(8, (Long) v);
                case F32 -> put(4, Float.floatToRawIntBits(((Double) v).floatValue()));
                case F64 -> put(8, Double.doubleToRawLongBits((Double) v));
                case BOOL -> put(1, (Boolean) v ? 1 : 0);
                case STRING -> string((String) v);
                case ARRAY -> array(((Nested) v).itemType(), ((Nested) v).items());
                default -> throw new IllegalArgumentException("value type " + type);
            }
        }
    }
}
