package io.github.sae4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.sae4j.api.model.ChatMessage;
import io.github.sae4j.api.model.GenerationOptions;
import io.github.sae4j.core.steer.Steering;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A chat turn as the UI posts it:
 * <pre>{@code
 * {"messages": [{"role": "user", "content": "..."}], "steer": [{"latent": 7, "strength": 8}],
 *  "mode": "add", "positions": "all", "max_tokens": 48, "temperature": 0.8, "top_p": 0.95, "seed": 0,
 *  "compare": true, "template": true}
 * }</pre>
 * With {@code template} false the last message's text is continued as it is (no chat template), which suits base
 * models such as the embedded one.
 */
record ChatRequest(List<ChatMessage> messages, List<Steering.Edit> edits, Steering.Positions positions,
                   GenerationOptions options, boolean compare, boolean template) {

    /** The most new tokens one request may ask for. */
    static final int MAX_NEW_TOKENS = 1024;

    static ChatRequest parse(JsonNode n) {
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException("the request body must be a JSON object");
        }
        JsonNode msgs = n.path("messages");
        if (!msgs.isArray() || msgs.isEmpty()) {
            throw new IllegalArgumentException("messages must be a non-empty array of {role, content}");
        }
        List<ChatMessage> messages = new ArrayList<>();
        for (JsonNode m : msgs) {
            String role = m.path("role").asText("");
            ChatMessage.Role r;
            try {
                r = ChatMessage.Role.valueOf(role.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("a message's role must be system, user or assistant, got '" + role
                        + "'", e);
            }
            if (!m.path("content").isTextual()) {
                throw new IllegalArgumentException("every message needs a text content");
            }
            messages.add(new ChatMessage(r, m.path("content").asText()));
        }
        Steering.Mode mode = Steering.Mode.parse(n.path("mode").asText("add"));
        List<Steering.Edit> edits = new ArrayList<>();
        for (JsonNode e : n.path("steer")) {
            if (!e.path("latent").canConvertToInt()) {
                throw new IllegalArgumentException("every steer entry needs an integer latent, got " + e.path("latent"));
            }
            edits.add(new Steering.Edit(e.path("latent").asInt(), number(e.path("strength"), "strength"), mode));
        }
        int maxTokens = n.path("max_tokens").asInt(48);
        if (maxTokens < 1 || maxTokens > MAX_NEW_TOKENS) {
            throw new IllegalArgumentException("max_tokens must be in 1.." + MAX_NEW_TOKENS + ", got " + maxTokens);
        }
        double temperature = n.has("temperature") ? number(n.get("temperature"), "temperature") : 0.8;
        double topP = n.has("top_p") ? number(n.get("top_p"), "top_p") : 0.95;
        if (temperature < 0 || temperature > 10) {
            throw new IllegalArgumentException("temperature must be in 0..10, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP);
        }
        GenerationOptions options = new GenerationOptions(maxTokens, (float) temperature, (float) topP,
                n.path("seed").asLong(0));
        return new ChatRequest(messages, edits, Steering.Positions.parse(n.path("positions").asText("all")), options,
                n.path("compare").asBoolean(true), n.path("template").asBoolean(true));
    }

    /** A finite number, from a JSON number or a numeric string ("NaN" and "Infinity" refused). */
    private static double number(JsonNode v, String what) {
        double d;
        if (v.isNumber()) {
            d = v.asDouble();
        } else if (v.isTextual()) {
            try {
                d = Double.parseDouble(v.asText().strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(what + " must be a number, got '" + v.asText() + "'", e);
            }
        } else {
            throw new IllegalArgumentException(what + " must be a number, got " + v);
        }
        if (!Double.isFinite(d)) {
            throw new IllegalArgumentException(what + " must be a finite number, got " + v.asText());
        }
        return d;
    }
}
