package io.github.sae4j.llama3.format;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.sae4j.api.backend.WeightFormat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes small safetensors files for tests, and raw ones with any header for the error cases. */
public final class SafetensorsTestWriter {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final ObjectNode header = JSON.createObjectNode();
    private final ByteArrayOutputStream data = new ByteArrayOutputStream();

    public SafetensorsTestWriter metadata(String key, String value) {
        ObjectNode m = header.has("__metadata__") ? (ObjectNode) header.get("__metadata__")
                : header.putObject("__metadata__");
        m.put(key, value);
        return this;
    }

    /** A tensor of {@code values} (outermost dimension first) stored in {@code format}. */
    public SafetensorsTestWriter tensor(String name, WeightFormat format, long[] shape, float[] values) {
        return tensor(name, format.name(), shape, TestWeights.encode(format, values));
    }

    SafetensorsTestWriter tensor(String name, String dtype, long[] shape, byte[] bytes) {
        ObjectNode t = header.putObject(name);
        t.put("dtype", dtype);
        var s = t.putArray("shape");
        for (long d : shape) {
            s.add(d);
        }
        long begin = data.size();
        data.writeBytes(bytes);
        t.putArray("data_offsets").add(begin).add(data.size());
        return this;
    }

    public Path write(Path file) throws IOException {
        return writeRaw(file, header.toString(), data.toByteArray());
    }

    /** A file with exactly this header text (padded with spaces to 8 bytes, as the reference writer does). */
    static Path writeRaw(Path file, String headerJson, byte[] data) throws IOException {
        byte[] h = headerJson.getBytes(StandardCharsets.UTF_8);
        int padded = (h.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(8 + padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(h);
        for (int i = h.length; i < padded; i++) {
            out.put((byte) ' ');
        }
        out.put(data);
        Files.write(file, out.array());
        return file;
    }
}
