package io.github.sae4j.claude;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.Locale;

/**
 * Claude's answer to the labeling prompt, {@code {"common_semantic": "...", "certainty": 0.0-1.0}}, read robustly:
 * the object may sit inside prose or a ```json fence, and the certainty may be a number, a numeric string or a
 * percent. An answer without a usable label or certainty is malformed; the labeler sends that latent again.
 *
 * @param label     the common semantic, trimmed; null when malformed
 * @param certainty in [0, 1]; NaN when malformed
 * @param error     why the answer is malformed, or null
 */
public record ClaudeAnswer(String label, double certainty, String error) {

    private static final ObjectMapper LENIENT = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_SINGLE_QUOTES, JsonReadFeature.ALLOW_TRAILING_COMMA,
                    JsonReadFeature.ALLOW_UNQUOTED_FIELD_NAMES, JsonReadFeature.ALLOW_JAVA_COMMENTS)
            .build();

    public boolean ok() {
        return error == null;
    }

    static ClaudeAnswer malformed(String why) {
        return new ClaudeAnswer(null, Double.NaN, why);
    }

    /** Reads the first JSON object in {@code text} that has a common_semantic field. */
    public static ClaudeAnswer parse(String text) {
        if (text == null || text.isBlank()) {
            return malformed("the answer is empty");
        }
        String firstProblem = null;
        for (int start = text.indexOf('{'); start >= 0; start = text.indexOf('{', start + 1)) {
            JsonNode node = objectAt(text, start);
            if (node == null || !node.isObject() || !node.has("common_semantic")) {
                continue;
            }
            ClaudeAnswer answer = fromObject(node);
            if (answer.ok()) {
                return answer;
            }
            if (firstProblem == null) {
                firstProblem = answer.error();
            }
        }
        return malformed(firstProblem != null ? firstProblem
                : "no JSON object with a common_semantic field in the answer");
    }

    private static JsonNode objectAt(String text, int start) {
        try (JsonParser parser = LENIENT.createParser(text.substring(start))) {
            return LENIENT.readTree(parser);
        } catch (Exception e) {
            return null;
        }
    }

    private static ClaudeAnswer fromObject(JsonNode node) {
        JsonNode semantic = node.get("common_semantic");
        if (!semantic.isTextual() || semantic.asText().isBlank()) {
            return malformed("common_semantic is not a non-empty string: " + semantic);
        }
        JsonNode certaintyNode = node.get("certainty");
        if (certaintyNode == null || certaintyNode.isNull()) {
            return malformed("the certainty field is missing");
        }
        double certainty;
        if (certaintyNode.isNumber()) {
            certainty = certaintyNode.asDouble();
        } else if (certaintyNode.isTextual()) {
            certainty = number(certaintyNode.asText());
        } else {
            certainty = Double.NaN;
        }
        if (!Double.isFinite(certainty) || certainty < 0 || certainty > 100) {
            return malformed("certainty is not a number from 0 to 1 (or a percent): " + certaintyNode);
        }
        if (certainty > 1) {
            certainty /= 100; // "certainty": 85 means 85 %
        }
        return new ClaudeAnswer(semantic.asText().trim(), certainty, null);
    }

    private static double number(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        boolean percent = t.endsWith("%");
        if (percent) {
            t = t.substring(0, t.length() - 1).trim();
        }
        try {
            double v = Double.parseDouble(t);
            return percent ? v / 100 : v;
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }
}
