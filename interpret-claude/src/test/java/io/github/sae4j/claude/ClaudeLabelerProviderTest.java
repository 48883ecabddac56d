package io.github.sae4j.claude;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.sae4j.api.label.LabelerProvider;
import io.github.sae4j.api.plugin.PluginRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ClaudeLabelerProviderTest {

    @Test
    void isInstalledAsTheLabelerNamedClaude() {
        LabelerProvider provider = PluginRegistry.load(LabelerProvider.class, "labeler").get("claude");

        assertThat(provider).isInstanceOf(ClaudeLabelerProvider.class);
        assertThat(provider.description()).contains(ClaudeSettings.DEFAULT_MODEL).contains("ANTHROPIC_API_KEY");
    }

    @Test
    void opensADryRunWithoutAKey() {
        try (var labeler = new ClaudeLabelerProvider().open(Map.of("dry-run", "true"))) {
            assertThat(labeler.settings().dryRun()).isTrue();
        }
    }

    @Test
    void hasDocumentedDefaults() {
        ClaudeSettings s = ClaudeSettings.defaults();

        assertThat(s.model()).isEqualTo("claude-sonnet-5-5");
        assertThat(s.maxTokens()).isEqualTo(2048);
        assertThat(s.effort()).contains("low");
        assertThat(s.dryRun()).isFalse();
        assertThat(s.baseUrl()).isEmpty();
        assertThat(s.pollInterval()).isEqualTo(Duration.ofSeconds(60));
        assertThat(s.maxAttempts()).isEqualTo(3);
        assertThat(s.examples()).isEqualTo(20);
        assertThat(s.batchSize()).isEqualTo(100_000);
        assertThat(s.priceInputPerMTok()).isEqualTo(2.0);
        assertThat(s.priceOutputPerMTok()).isEqualTo(10.0);
    }

    @Test
    void readsEveryOption() {
        ClaudeSettings s = ClaudeSettings.parse(Map.ofEntries(Map.entry("model", "claude-haiku-4-5"),
                Map.entry("max-tokens", "300"), Map.entry("effort", "none"), Map.entry("dry-run", "yes"),
                Map.entry("base-url", "http://127.0.0.1:9"), Map.entry("poll-seconds", "0.5"),
                Map.entry("max-attempts", "5"), Map.entry("examples", "10"), Map.entry("batch-size", "500"),
                Map.entry("timeout-seconds", "30"), Map.entry("max-retries", "0"),
                Map.entry("price-input-per-mtok", "1"), Map.entry("price-output-per-mtok", "5")));

        assertThat(s).isEqualTo(new ClaudeSettings("claude-haiku-4-5", 300, Optional.empty(), true,
                Optional.of("http://127.0.0.1:9"), Duration.ofMillis(500), 5, 10, 500, Duration.ofSeconds(30), 0,
                1.0, 5.0));
    }

    @Test
    void anUnknownOptionIsAnErrorListingTheValidOnes() {
        assertThatThrownBy(() -> ClaudeSettings.parse(Map.of("modle", "x")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'modle'")
                .hasMessageContaining(String.join(", ", ClaudeSettings.OPTIONS));
    }

    @Test
    void aBadValueIsAnErrorNamingTheOptionAndTheValue() {
        assertThatThrownBy(() -> ClaudeSettings.parse(Map.of("max-tokens", "lots")))
                .hasMessageContaining("max-tokens").hasMessageContaining("'lots'");
        assertThatThrownBy(() -> ClaudeSettings.parse(Map.of("poll-seconds", "0")))
                .hasMessageContaining("poll-seconds").hasMessageContaining("positive");
        assertThatThrownBy(() -> ClaudeSettings.parse(Map.of("dry-run", "maybe")))
                .hasMessageContaining("dry-run").hasMessageContaining("true or false");
        assertThatThrownBy(() -> ClaudeSettings.parse(Map.of("base-url", "localhost:8080")))
                .hasMessageContaining("base-url").hasMessageContaining("http");
        assertThatThrownBy(() -> ClaudeSettings.parse(Map.of("price-input-per-mtok", "-1")))
                .hasMessageContaining("price-input-per-mtok");
        assertThatThrownBy(() -> ClaudeSettings.parse(Map.of("batch-size", "100001")))
                .hasMessageContaining("batch-size").hasMessageContaining("100000");
        assertThatThrownBy(() -> ClaudeSettings.parse(Map.of("max-attempts", "0")))
                .hasMessageContaining("max-attempts").hasMessageContaining(">= 1");
    }
}
