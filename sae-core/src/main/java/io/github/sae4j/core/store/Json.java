package io.github.sae4j.core.store;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Reads sidecar JSON with errors that name the file and the field. */
final class Json {

    static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Json() {
    }

    static byte[] bytes(ObjectNode node) throws IOException {
        return MAPPER.writeValueAsBytes(node);
    }

    static ObjectNode readObject(Path file, String missingAdvice) throws IOException {
        byte[] content;
        try {
            content = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ShardFormatException(file, "is missing; " + missingAdvice, e);
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(content);
        } catch (JacksonException e) {
            throw new ShardFormatException(file, "is not valid JSON (" + e.getOriginalMessage() + "); it may be "
                    + "truncated: " + ShardFormatException.RECREATE, e);
        }
        if (root == null || !root.isObject()) {
            throw new ShardFormatException(file, "must hold a JSON object; " + ShardFormatException.RECREATE);
        }
        return (ObjectNode) root;
    }

    static JsonNode field(Path file, JsonNode node, String name) throws ShardFormatException {
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            throw new ShardFormatException(file, "field '" + name + "' is missing; " + ShardFormatException.RECREATE);
        }
        return v;
    }

    static String text(Path file, JsonNode node, String name) throws ShardFormatException {
        JsonNode v = field(file, node, name);
        if (!v.isTextual()) {
            throw wrongType(file, name, v, "a string");
        }
        return v.asText();
    }

    static long integer(Path file, JsonNode node, String name, long min) throws ShardFormatException {
        JsonNode v = field(file, node, name);
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw wrongType(file, name, v, "an integer");
        }
        long x = v.asLong();
        if (x < min) {
            throw new ShardFormatException(file, "field '" + name + "' is " + x + " but must be >= " + min + "; "
                    + ShardFormatException.RECREATE);
        }
        return x;
    }

    static double[] doubles(Path file, JsonNode node, String name, int length) throws ShardFormatException {
        JsonNode v = field(file, node, name);
        if (!v.isArray()) {
            throw wrongType(file, name, v, "an array of numbers");
        }
        if (v.size() != length) {
            throw new ShardFormatException(file, "field '" + name + "' has " + v.size() + " values but d_model is "
                    + length + "; " + ShardFormatException.RECREATE);
        }
        double[] out = new double[length];
        for (int i = 0; i < length; i++) {
            JsonNode e = v.get(i);
            if (!e.isNumber()) {
                throw wrongType(file, name + "[" + i + "]", e, "a number");
            }
            out[i] = e.asDouble();
        }
        return out;
    }

    static int[] ints(Path file, JsonNode node, String name) throws ShardFormatException {
        JsonNode v = field(file, node, name);
        if (!v.isArray()) {
            throw wrongType(file, name, v, "an array of integers");
        }
        int[] out = new int[v.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode e = v.get(i);
            if (!e.isIntegralNumber() || !e.canConvertToInt() || e.asInt() < 0) {
                throw wrongType(file, name + "[" + i + "]", e, "a non-negative integer");
            }
            out[i] = e.asInt();
        }
        return out;
    }

    static Map<String, String> strings(Path file, JsonNode node, String name) throws ShardFormatException {
        JsonNode v = node.get(name);
        Map<String, String> out = new LinkedHashMap<>();
        if (v == null || v.isNull()) {
            return out;
        }
        if (!v.isObject()) {
            throw wrongType(file, name, v, "an object of strings");
        }
        for (Map.Entry<String, JsonNode> e : v.properties()) {
            if (!e.getValue().isTextual()) {
                throw wrongType(file, name + "." + e.getKey(), e.getValue(), "a string");
            }
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }

    static ArrayNode array(double[] values) {
        ArrayNode a = MAPPER.createArrayNode();
        for (double v : values) {
            a.add(v);
        }
        return a;
    }

    private static ShardFormatException wrongType(Path file, String name, JsonNode v, String expected) {
        String shown = v.toString();
        if (shown.length() > 40) {
            shown = shown.substring(0, 40) + "...";
        }
        return new ShardFormatException(file, "field '" + name + "' is " + shown + " but must be " + expected + "; "
                + ShardFormatException.RECREATE);
    }
}
