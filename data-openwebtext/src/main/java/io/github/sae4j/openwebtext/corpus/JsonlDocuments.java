package io.github.sae4j.openwebtext.corpus;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * JSON Lines: one JSON object per line, the text in one field (default {@code text}). Blank lines are not
 * documents. A JSON {@code null} in the field is a null document (skipped and counted); a line that is not an
 * object, or lacks the field, or holds a non-string there, is an error naming the file and line.
 */
final class JsonlDocuments implements DocumentReader {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<Path> files;
    private final String field;
    private int fileIndex = -1;
    private Utf8Lines lines;
    private long index;

    JsonlDocuments(List<Path> files, String field) {
        this.files = files;
        this.field = field;
    }

    @Override
    public Document next() throws IOException {
        while (true) {
            if (lines == null) {
                if (++fileIndex >= files.size()) {
                    return null;
                }
                lines = new Utf8Lines(files.get(fileIndex));
            }
            String line = lines.next();
            if (line == null) {
                lines.close();
                lines = null;
                continue;
            }
            if (line.isBlank()) {
                continue;
            }
            Path file = files.get(fileIndex);
            String where = file + " line " + lines.lineNumber();
            JsonNode node;
            try {
                node = JSON.readTree(line);
            } catch (JacksonException e) {
                throw new IOException(where + ": not valid JSON (" + e.getOriginalMessage() + "); a .jsonl file "
                        + "holds one JSON object per line", e);
            }
            if (node == null || !node.isObject()) {
                throw new IOException(where + ": expected a JSON object, got " + (node == null ? "nothing"
                        : node.getNodeType().toString().toLowerCase(java.util.Locale.ROOT))
                        + "; a .jsonl file holds one JSON object per line");
            }
            JsonNode value = node.get(field);
            if (value == null) {
                List<String> keys = new ArrayList<>();
                node.fieldNames().forEachRemaining(keys::add);
                throw new IOException(where + ": no field '" + field + "'; the object has " + keys
                        + "; choose the text field with the option column=NAME");
            }
            if (value.isNull()) {
                return new Document(index++, null, where);
            }
            if (!value.isTextual()) {
                throw new IOException(where + ": field '" + field + "' holds " + value.getNodeType().toString()
                        .toLowerCase(java.util.Locale.ROOT) + ", not a string; choose the text field with the option "
                        + "column=NAME");
            }
            return new Document(index++, value.asText(), where);
        }
    }

    @Override
    public OptionalLong size() {
        return OptionalLong.empty();
    }

    @Override
    public void close() throws IOException {
        if (lines != null) {
            lines.close();
            lines = null;
        }
        fileIndex = files.size();
    }
}
