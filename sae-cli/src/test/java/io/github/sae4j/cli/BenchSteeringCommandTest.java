package io.github.sae4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sae4j bench steering} at tiny sizes on the embedded model: the JSON it writes is complete and sane. */
class BenchSteeringCommandTest {

    @TempDir
    Path dir;

    @Test
    void writesEveryModeWithEqualTokenCountsAndCostsAgainstTheBaseline() throws Exception {
        Path json = dir.resolve("bench-steering.json");

        CliRun run = CliRun.of("bench", "steering", "--prompts", "2", "--new-tokens", "4", "--rounds", "3",
                "--warmup", "1", "--threads", "1", "--json", json.toString());

        assertThat(run.exitCode()).as(run.toString()).isZero();
        JsonNode r = new ObjectMapper().readTree(json.toFile());
        assertThat(r.get("tokens_per_config").asLong()).isEqualTo(8);
        assertThat(r.get("hook").asText()).isEqualTo("blocks.4.hook_resid_post");
        assertThat(r.get("sae").asText()).contains("2048 latents");
        JsonNode modes = r.get("modes");
        assertThat(modes.fieldNames()).toIterable().containsExactly("unsteered", "add", "bias", "clamp");
        double base = modes.get("unsteered").get("tokens_per_s").asDouble();
        assertThat(base).isPositive();
        for (String mode : List.of("unsteered", "add", "bias", "clamp")) {
            JsonNode m = modes.get(mode);
            assertThat(m.get("seconds")).as(mode).hasSize(3);
            assertThat(m.get("median_s").asDouble()).as(mode).isPositive();
            assertThat(m.get("tokens_per_s").asDouble()).as(mode)
                    .isCloseTo(8 / m.get("median_s").asDouble(), org.assertj.core.api.Assertions.within(1e-6));
            if (!mode.equals("unsteered")) {
                assertThat(m.get("cost").asDouble()).as(mode + ": 1 - steered / unsteered")
                        .isCloseTo(1 - m.get("tokens_per_s").asDouble() / base, org.assertj.core.api.Assertions.within(1e-9))
                        .isLessThan(1);
                assertThat(m.get("changed_continuations").asInt()).as(mode).isBetween(0, 2);
                assertThat(m.get("hook_share").asDouble()).as(mode + ": share of the time inside the hook")
                        .isGreaterThan(0).isLessThan(1);
            }
        }
        assertThat(r.get("max_cost").asDouble()).isEqualTo(List.of("add", "bias", "clamp").stream()
                .mapToDouble(m -> modes.get(m).get("cost").asDouble()).max().orElseThrow());
        assertThat(r.get("target_max_cost").asDouble()).isEqualTo(0.10);
    }
}
