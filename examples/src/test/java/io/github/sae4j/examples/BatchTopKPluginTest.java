package io.github.sae4j.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.cli.Sae4j;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.backend.java.JavaBackend;
import io.github.sae4j.core.checkpoint.SaeCheckpoint;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The custom architecture is found through META-INF/services and trained by name with the unchanged command line;
 * nothing in sae-core or sae-cli mentions it.
 */
class BatchTopKPluginTest {

    private static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Sae4j.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        assertThat(code).as("sae4j %s\n%s\n%s", String.join(" ", args), out, err).isZero();
        return new String[] {out.toString(), err.toString()};
    }

    @Test
    void batchTopKTrainsByNameThroughTheCli(@TempDir Path dir) throws Exception {
        assertThat(Plugins.architectures().names()).contains("batchtopk", "topk", "relu");
        assertThat(run("plugins")[0]).contains("batchtopk").contains("example plugin");

        Path data = dir.resolve("acts");
        Path out = dir.resolve("run");
        run("synth", "--out", data.toString(), "--rows", "40000", "--d-model", "32", "--features", "96");
        String trained = run("train", "--arch", "batchtopk", "-k", "4", "--latents", "192", "--data", data.toString(),
                "--out", out.toString(), "--batch-size", "256", "--steps", "300", "--lr", "3e-3",
                "--validation-every", "300", "--aux-k", "0", "--quiet")[0];
        assertThat(trained).contains("validation: FVU");
        assertThat(Files.readString(out.resolve("sae/cfg.json"))).contains("\"architecture\" : \"batchtopk\"");

        String eval = run("eval", "--sae", out.resolve("sae").toString(), "--data", data.toString())[0];
        assertThat(eval).contains("FVU").contains("ground-truth features recovered");

        try (JavaBackend backend = new JavaBackend(1);
             Sae sae = SaeCheckpoint.load(out.resolve("sae"), backend.device(), Plugins.architectures())) {
            float threshold = sae.parameter("threshold").value().toFloatArray()[0];
            assertThat(threshold).as("the inference threshold was learned and saved").isPositive();
        }
        String summary = Files.readString(out.resolve("summary.json"));
        double fvu = Double.parseDouble(summary.replaceAll("(?s).*\"fvu\" : ([0-9.Ee-]+).*", "$1"));
        double l0 = Double.parseDouble(summary.replaceAll("(?s).*\"l0\" : ([0-9.Ee-]+).*", "$1"));
        assertThat(fvu).as("BatchTopK reconstructs").isLessThan(0.4);
        assertThat(l0).as("about k active latents per token at inference").isBetween(2.0, 8.0);
    }
}
