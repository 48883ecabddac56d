package io.github.sae4j.openwebtext.split;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** The hand-checked sentence boundaries in {@code src/test/resources/split/gold.jsonl} (see the README beside it). */
public final class GoldSet {

    public static final String RESOURCE = "/split/gold.jsonl";
    /** Ids of the paragraphs written after the rule splitter was frozen: a fairer test of it than the rest. */
    public static final String HELD_OUT_PREFIX = "h-";

    /** One paragraph: its text and its sentences, exact substrings of the text in order. */
    public record Paragraph(String id, String source, String text, List<String> sentences) {

        /**
         * The sentences as spans of the text, found left to right. Throws if a sentence is not in the text where
         * the previous one left off, or if anything but whitespace lies between, before or after them.
         */
        public List<TextSpan> spans() {
            List<TextSpan> spans = new ArrayList<>();
            int from = 0;
            for (String sentence : sentences) {
                int start = text.indexOf(sentence, from);
                if (start < 0 || !text.substring(from, start).isBlank()) {
                    throw new IllegalStateException(RESOURCE + ": paragraph '" + id + "': sentence "
                            + quote(sentence) + " is not the next text after offset " + from
                            + "; make the sentences exact substrings of \"text\", in order, with only whitespace"
                            + " between them");
                }
                spans.add(new TextSpan(start, start + sentence.length()));
                from = start + sentence.length();
            }
            if (!text.substring(from).isBlank()) {
                throw new IllegalStateException(RESOURCE + ": paragraph '" + id + "': text after the last sentence, "
                        + quote(text.substring(from)) + ", is in no sentence; add it to \"sentences\"");
            }
            return spans;
        }

        private static String quote(String s) {
            return '"' + s.replace("\n", "\\n") + '"';
        }
    }

    private GoldSet() {
    }

    public static List<Paragraph> load() {
        ObjectMapper json = new ObjectMapper();
        List<Paragraph> paragraphs = new ArrayList<>();
        try (InputStream in = GoldSet.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is not on the test classpath");
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            int lineNumber = 0;
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                lineNumber++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node = json.readTree(line);
                List<String> sentences = new ArrayList<>();
                node.path("sentences").forEach(s -> sentences.add(s.asText()));
                for (String field : List.of("id", "source", "text")) {
                    if (!node.path(field).isTextual()) {
                        throw new IllegalStateException(RESOURCE + " line " + lineNumber + ": field '" + field
                                + "' is missing or not a string; every line needs id, source, text and sentences");
                    }
                }
                paragraphs.add(new Paragraph(node.get("id").asText(), node.get("source").asText(),
                        node.get("text").asText(), List.copyOf(sentences)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE + ": " + e.getMessage(), e);
        }
        return paragraphs;
    }
}
