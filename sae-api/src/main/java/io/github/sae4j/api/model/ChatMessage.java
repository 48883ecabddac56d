package io.github.sae4j.api.model;

import java.util.Locale;
import java.util.Objects;

/** One turn of a chat, rendered by the model's chat template. */
public record ChatMessage(Role role, String content) {

    public enum Role {
        SYSTEM, USER, ASSISTANT;

        /** The name chat templates use: {@code system}, {@code user}, {@code assistant}. */
        public String templateName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
    }

    public static ChatMessage system(String content) {
        return new ChatMessage(Role.SYSTEM, content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage(Role.USER, content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage(Role.ASSISTANT, content);
    }
}
