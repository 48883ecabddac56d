package io.github.sae4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * From a capture to labeled features on the embedded model and the demo corpus: top-activations, label (offline,
 * and Claude's dry run and missing key), feature.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InterpretCommandsTest {

    Path dir;
    Path acts;
    Path sae;
    Path top;

    @BeforeAll
    void captureAndTrain(@TempDir Path tmp) {
        dir = tmp;
        acts = dir.resolve("acts");
        CliRun capture = CliRun.of("capture", "--sentences", SentencesCommandTest.demoCorpus().toString(), "--hook",
                "blocks.3.hook_resid_post", "--out", acts.toString(), "--max-sentences", "400", "--threads", "1");
        assertThat(capture.exitCode()).as(capture.toString()).isZero();
        CliRun train = CliRun.of("train", "--data", acts.toString(), "--out", dir.resolve("run").toString(),
                "--latents", "256", "-k", "8", "--steps", "30", "--batch-size", "256", "--quiet",
                "--validation-fraction", "0", "--backend-option", "threads=1");
        assertThat(train.exitCode()).as(train.toString()).isZero();
        sae = dir.resolve("run/sae");
        top = dir.resolve("top");
        CliRun mine = CliRun.of("top-activations", "--sae", sae.toString(), "--data", acts.toString(), "--out",
                top.toString(), "--top", "5", "--backend-option", "threads=1");
        assertThat(mine.exitCode()).as(mine.toString()).isZero();
        assertThat(mine.out()).contains("examples for 256 latents");
    }

    @Test
    void minedFilesLabelsAndAFeatureView() throws Exception {
        assertThat(top.resolve("top-activations.parquet")).isRegularFile();
        assertThat(top.resolve("latents.parquet")).isRegularFile();

        CliRun label = CliRun.of("label", "--top", top.toString(), "--labeler", "offline");
        assertThat(label.exitCode()).as(label.toString()).isZero();
        assertThat(top.resolve("labels.jsonl")).isRegularFile();
        assertThat(top.resolve("labels.parquet")).isRegularFile();
        assertThat(Files.readAllLines(top.resolve("labels.jsonl"))).hasSize(256);

        int live = -1;
        for (String line : Files.readAllLines(top.resolve("labels.jsonl"))) {
            if (line.contains("\"error\":null")) {
                live = Integer.parseInt(line.replaceAll(".*\"latent\":(\\d+).*", "$1"));
                break;
            }
        }
        assertThat(live).as("some latent got an offline label").isGreaterThanOrEqualTo(0);
        CliRun feature = CliRun.of("feature", String.valueOf(live), "--top", top.toString(), "--examples", "3",
                "--no-color");
        assertThat(feature.exitCode()).as(feature.toString()).isZero();
        assertThat(feature.out()).contains("latent " + live).contains("label: ").contains("offline")
                .contains("density").contains("[[").contains(" 1. ");
    }

    @Test
    void claudeDryRunSendsNothingAndARealRunNeedsTheKey() {
        CliRun dry = CliRun.of("label", "--top", top.toString(), "--labeler", "claude", "--labeler-option",
                "dry-run=true", "--latents", "0-4", "--out", dir.resolve("claude").toString());
        assertThat(dry.exitCode()).as(dry.toString()).isZero();
        assertThat(dry.out()).contains("dry run");
        assertThat(dir.resolve("claude/state-claude/requests.jsonl")).isRegularFile();
        assertThat(dir.resolve("claude/labels.jsonl")).doesNotExist();
        if (System.getenv("ANTHROPIC_API_KEY") == null) {
            CliRun real = CliRun.of("label", "--top", top.toString(), "--labeler", "claude", "--latents", "0-4",
                    "--out", dir.resolve("claude2").toString());
            assertThat(real.exitCode()).isEqualTo(1);
            assertThat(real.err()).contains("ANTHROPIC_API_KEY");
        }
    }

    @Test
    void steeringShowsBothContinuationsAndRefusesUnknownFeatures() {
        CliRun zero = CliRun.of("steer", "--sae", sae.toString(), "--feature", "3=0", "-p", "The people", "--greedy",
                "--max-tokens", "8", "--threads", "1");
        assertThat(zero.exitCode()).as(zero.toString()).isZero();
        String unsteered = zero.out().lines().filter(l -> l.startsWith("unsteered:")).findFirst().orElseThrow();
        String steered = zero.out().lines().filter(l -> l.startsWith("steered:")).findFirst().orElseThrow();
        assertThat(steered.substring("steered:".length()).strip()).as("strength 0 changes nothing")
                .isEqualTo(unsteered.substring("unsteered:".length()).strip());
        CliRun unknown = CliRun.of("steer", "--sae", sae.toString(), "--feature", "999999=4", "-p", "The", "--greedy",
                "--max-tokens", "4", "--threads", "1");
        assertThat(unknown.exitCode()).isEqualTo(1);
        assertThat(unknown.err()).contains("feature 999999 does not exist");
    }

    @Test
    void badRequestsAreClearErrors() {
        CliRun wrongLatent = CliRun.of("feature", "99999", "--top", top.toString());
        assertThat(wrongLatent.exitCode()).isEqualTo(1);
        assertThat(wrongLatent.err()).contains("latent 99999");
        CliRun noTop = CliRun.of("label", "--top", dir.resolve("nothing").toString());
        assertThat(noTop.exitCode()).isEqualTo(1);
        assertThat(noTop.err()).contains("top-activations");
    }
}
