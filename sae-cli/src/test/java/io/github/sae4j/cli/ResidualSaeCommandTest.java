package io.github.sae4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code train --residual-of}, {@code stack} and {@code eval} of each stage and of the stack, end to end. */
class ResidualSaeCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static CliRun ok(String... args) {
        CliRun run = CliRun.of(args);
        assertThat(run.exitCode()).as(run.toString()).isZero();
        return run;
    }

    private static String[] train(Path data, Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("train", "--data", data.toString(), "--out", out.toString(),
                "--latents", "96", "-k", "2", "--batch-size", "256", "--steps", "200", "--lr", "3e-3",
                "--validation-every", "200", "--aux-k", "16", "--quiet", "--metrics", "none",
                "--backend-option", "threads=2"));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    private static JsonNode eval(Path sae, Path data, Path json, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("eval", "--sae", sae.toString(), "--data", data.toString(),
                "--json", json.toString(), "--batch-size", "512", "--backend-option", "threads=2"));
        args.addAll(List.of(extra));
        ok(args.toArray(String[]::new));
        return JSON.readTree(json.toFile());
    }

    @Test
    void trainStage2OnResidualsStackAndEvaluateEachStage(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("acts");
        ok("synth", "--out", data.toString(), "--rows", "30000", "--d-model", "32", "--features", "96");
        Path run1 = dir.resolve("run1");
        Path run2 = dir.resolve("run2");
        ok(train(data, run1, "--normalize", "center"));
        ok(train(data, run2, "--residual-of", run1.resolve("sae").toString()));
        JsonNode cfg2 = JSON.readTree(run2.resolve("sae/cfg.json").toFile());
        assertThat(cfg2.path("metadata").path("residual_of").asText()).isEqualTo(run1.resolve("sae").toString());

        Path stack = dir.resolve("stack");
        CliRun stacked = ok("stack", "--out", stack.toString(), run1.toString(), run2.resolve("sae").toString());
        assertThat(stacked.out()).contains("192 latents").doesNotContain("warning");
        assertThat(stack.resolve("stage-1/sae.safetensors")).exists();
        assertThat(stack.resolve("stage-2/cfg.json")).exists();

        JsonNode first = eval(run1.resolve("sae"), data, dir.resolve("eval1.json"));
        JsonNode second = eval(run2.resolve("sae"), data, dir.resolve("eval2.json"), "--residual-of",
                run1.resolve("sae").toString());
        JsonNode both = eval(stack, data, dir.resolve("stack.json"));
        System.out.printf("FVU stage 1 %.4f, stage 2 on residuals %.4f, stack %.4f%n", first.get("fvu").asDouble(),
                second.get("fvu").asDouble(), both.get("fvu").asDouble());
        assertThat(second.get("residual_of").asText()).isEqualTo(run1.resolve("sae").toString());
        assertThat(both.get("fvu").asDouble()).as("the stack explains more than stage 1")
                .isLessThan(first.get("fvu").asDouble());
        assertThat(both.get("l0").asDouble()).as("L0 of the stack = L0_1 + L0_2")
                .isCloseTo(first.get("l0").asDouble() + second.get("l0").asDouble(), within(1e-3));
        assertThat(both.get("eval_tokens").asLong()).isEqualTo(first.get("eval_tokens").asLong());
    }

    @Test
    void aStackCannotBeTrained(@TempDir Path dir) {
        CliRun run = CliRun.of("train", "--data", dir.toString(), "--out", dir.resolve("run").toString(), "--arch",
                "stack", "--set", "stages=a,b", "--latents", "8", "--steps", "1");
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err()).contains("sae4j stack").contains("--residual-of");
    }
}
