package io.github.sae4j.claude;

import io.github.sae4j.api.label.LabelerProvider;
import java.util.Map;

/**
 * Registers the Claude labeler as {@code claude}. Options (all optional; docs/interpret-claude.md explains each):
 * model, max-tokens, effort, dry-run, base-url, poll-seconds, max-attempts, examples, batch-size, timeout-seconds,
 * max-retries, price-input-per-mtok, price-output-per-mtok. The API key comes from ANTHROPIC_API_KEY only.
 */
public final class ClaudeLabelerProvider implements LabelerProvider {

    public static final String NAME = "claude";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "Claude through the Message Batches API (half price), resumable; default model "
                + ClaudeSettings.DEFAULT_MODEL + ", prompt " + LabelPrompt.VERSION + "; key from "
                + ClaudeLabeler.API_KEY_VARIABLE;
    }

    /**
     * @throws IllegalArgumentException for an unknown option or a bad value
     * @throws IllegalStateException    if ANTHROPIC_API_KEY is not set and this is not a dry run
     */
    @Override
    public ClaudeLabeler open(Map<String, String> options) {
        return new ClaudeLabeler(ClaudeSettings.parse(options), System.getenv(), null);
    }
}
