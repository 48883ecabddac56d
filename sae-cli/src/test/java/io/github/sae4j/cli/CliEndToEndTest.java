package io.github.sae4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line from synthetic data to an evaluated SAE, as a user would run it. */
class CliEndToEndTest {

    @Test
    void synthTrainEvalAndInfo(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("acts");
        Path run = dir.resolve("run");
        CliRun synth = CliRun.of("synth", "--out", data.toString(), "--rows", "40000", "--d-model", "32", "--features",
                "96", "--seed", "5");
        assertThat(synth.exitCode()).as(synth.toString()).isZero();
        assertThat(synth.out()).contains("wrote 40000 synthetic rows");
        assertThat(data.resolve("ground_truth.safetensors")).exists();

        CliRun train = CliRun.of("train", "--data", data.toString(), "--out", run.toString(), "--latents", "192", "-k",
                "4", "--batch-size", "256", "--steps", "400", "--lr", "3e-3", "--validation-every", "200",
                "--checkpoint-every", "200", "--dead-tokens", "20000", "--aux-k", "32", "--backend-option", "threads=2");
        assertThat(train.exitCode()).as(train.toString()).isZero();
        assertThat(train.out()).contains("training topk SAE: d_in=32, latents=192").contains("validation at step 200")
                .contains("SAE written to");
        for (String f : new String[] {"train-config.json", "metrics.jsonl", "metrics.png", "summary.json",
                "sae/sae.safetensors", "sae/cfg.json", "checkpoints/step-000000400/state.json"}) {
            assertThat(run.resolve(f)).as(f).exists();
        }
        assertThat(Files.readString(run.resolve("train-config.json"))).as("settings are typed")
                .contains("\"settings\" : {\n    \"k\" : 4\n  }");

        CliRun eval = CliRun.of("eval", "--sae", run.resolve("sae").toString(), "--data", data.toString(), "--json",
                dir.resolve("eval.json").toString());
        assertThat(eval.exitCode()).as(eval.toString()).isZero();
        assertThat(eval.out()).contains("FVU (fraction of variance unexpl.)").contains("ground-truth features recovered");
        assertThat(Files.readString(dir.resolve("eval.json"))).contains("\"fvu\"").contains("\"ground_truth_recovered\"");

        CliRun info = CliRun.of("info", data.toString(), data.resolve("shard-000000.arrow").toString(),
                run.toString(), run.resolve("sae").toString());
        assertThat(info.exitCode()).as(info.toString()).isZero();
        assertThat(info.out()).contains("activation dataset").contains("tokens      40000")
                .contains("activation shard (Arrow IPC file)").contains("training run")
                .contains("latest at step 400").contains("W_enc                        F32   [32, 192]");

        CliRun plugins = CliRun.of("plugins");
        assertThat(plugins.out()).contains("java").contains("topk").contains("relu").contains("arrow-shards")
                .contains("jsonl").contains("plot");
    }
}
