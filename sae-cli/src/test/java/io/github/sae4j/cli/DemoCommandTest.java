package io.github.sae4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.sae4j.core.label.LabelStore;
import io.github.sae4j.core.run.DemoManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sae4j demo} on the embedded model and the demo corpus, at a small size: every stage's output, the manifest
 * the web UI reads, the report, and a rerun that reuses what is there.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DemoCommandTest {

    Path out;
    CliRun first;

    /** The demo at test size: 300 sentences, 256 latents, 40 steps. */
    static List<String> demo(Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("demo", "--out", out.toString(), "--max-sentences", "300",
                "--latents", "256", "-k", "8", "--steps", "40", "--batch-size", "256", "--eval-sentences", "20",
                "--top", "5", "--steer-tokens", "8"));
        args.addAll(List.of(more));
        return args;
    }

    @BeforeAll
    void runTheDemo(@TempDir Path tmp) {
        out = tmp.resolve("demo");
        first = CliRun.of(demo(out).toArray(String[]::new));
        assertThat(first.exitCode()).as(first.toString()).isZero();
    }

    @Test
    void everyStageLeavesItsOutput() {
        for (String f : new String[] {"sentences.parquet", "acts/capture.json",
                "acts/blocks.4.hook_resid_post/dataset.json", "sae/metrics.png", "sae/summary.json",
                "sae/sae/cfg.json", "sae/sae/sae.safetensors", "eval.json", "spliced.json", "eval.html",
                "top/top-activations.parquet", "top/latents.parquet", "top/labels.jsonl", "top/labels.parquet",
                "steering.json", "report.html", "demo.json"}) {
            assertThat(out.resolve(f)).as(f).isRegularFile();
        }
        assertThat(first.out()).contains("[1/8] sentences: ", "[2/8] capture: ", "[3/8] train: ", "[4/8] eval: ",
                "[5/8] top-activations: ", "[6/8] label: ", "[7/8] steer: ", "[8/8] report: ");
    }

    @Test
    void theManifestPointsAtWhatTheStagesWrote() throws Exception {
        DemoManifest m = DemoManifest.read(out);
        assertThat(m.hookPoint()).isEqualTo("blocks.4.hook_resid_post");
        assertThat(Path.of(m.model())).as("the embedded model").isDirectory().endsWith(Path.of("models/tiny-llama3"));
        assertThat(out.resolve(m.sae()).resolve("cfg.json")).isRegularFile();
        assertThat(out.resolve(m.top()).resolve("labels.jsonl")).isRegularFile();
        assertThat(out.resolve(m.sentences())).isRegularFile();
        assertThat(out.resolve(m.report())).isRegularFile();
        assertThat(out.resolve(m.eval())).isRegularFile();
        assertThat(out.resolve(m.splicedEval())).isRegularFile();
        assertThat(out.resolve(m.steering())).isRegularFile();
        assertThat(Path.of(m.sae())).as("relative to the directory").isRelative();
    }

    @Test
    void theReportHasTheMetricsALabeledFeatureAndTheSteeringExample() throws Exception {
        String html = Files.readString(out.resolve("report.html"));
        assertThat(html).contains("FVU", "L0", "dead fraction", "CE loss recovered", "KL(clean || SAE)",
                "KL_SAE / KL_random", "Training curves", "Latent firing density", "data:image/png;base64,");
        String steering = Files.readString(out.resolve("steering.json"));
        int latent = Integer.parseInt(steering.replaceAll("(?s).*\"latent\" : (\\d+).*", "$1"));
        String label = LabelStore.read(out.resolve("top")).stream().filter(s -> s.label().latent() == latent)
                .findFirst().orElseThrow().label().label();
        assertThat(html).contains("<h2>Labeled features</h2>", "latent " + latent + ": "
                + io.github.sae4j.core.eval.report.DemoReport.escape(label), "<mark ");
        assertThat(html).contains("<h2>Steering</h2>", "<tr><th>steered</th>", "The President said that");
        assertThat(html).as("self-contained").doesNotContain("http://", "https://", "<script", "<link");
        // Text comes only as escaped: every '<' opens one of the report's own tags.
        Matcher tag = Pattern.compile("<(/?[a-z][a-z0-9]*|!DOCTYPE)").matcher(html);
        int tags = 0;
        while (tag.find()) {
            tags++;
        }
        assertThat(html.chars().filter(c -> c == '<').count()).as("no '<' outside a tag").isEqualTo(tags);
    }

    @Test
    void theSummaryIsShortAndSaysWhereToLook() {
        String summary = first.out().substring(first.out().indexOf("demo finished in"));
        assertThat(summary).contains("FVU", "CE loss recovered", "KL_sae/KL_random", "steering latent", "prompt:",
                "unsteered:", "steered:", "report:      " + out.resolve("report.html"),
                "open the UI: ./sae4j serve --dir " + out);
        assertThat(summary.lines().count()).isLessThanOrEqualTo(10);
    }

    @Test
    void aRerunReusesEveryStageAndOtherSettingsAreRefused() throws Exception {
        CliRun again = CliRun.of(demo(out, "--quiet").toArray(String[]::new));
        assertThat(again.exitCode()).as(again.toString()).isZero();
        assertThat(again.out()).contains("[1/8] sentences: reusing", "[3/8] train: reusing", "[6/8] label: reusing",
                "[7/8] steer: reusing", "demo finished");
        assertThat(DemoManifest.read(out).sae()).isEqualTo("sae/sae");

        List<String> args = demo(out);
        args.set(args.indexOf("--latents") + 1, "512");
        CliRun other = CliRun.of(args.toArray(String[]::new));
        assertThat(other.exitCode()).isEqualTo(1);
        assertThat(other.err()).contains("latents").contains("--fresh");
    }

    @Test
    void aFailingStageEndsTheDemoWithThatStagesError(@TempDir Path tmp) {
        CliRun bad = CliRun.of(demo(tmp.resolve("demo"), "--hook", "blocks.99.hook_resid_post").toArray(String[]::new));
        assertThat(bad.exitCode()).isEqualTo(1);
        assertThat(bad.out()).contains("[2/8] capture: ");
        assertThat(bad.err()).contains("error: blocks.99.hook_resid_post is past the model's last block")
                .doesNotContain("\tat ");
        assertThat(tmp.resolve("demo/demo.json")).doesNotExist();
    }

    @Test
    void freshDeletesOnlyADirectoryTheDemoWrote(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("thesis.tex"), "mine");
        CliRun fresh = CliRun.of("demo", "--out", tmp.toString(), "--fresh");
        assertThat(fresh.exitCode()).isEqualTo(1);
        assertThat(fresh.err()).contains("thesis.tex").contains("choose another --out");
        assertThat(tmp.resolve("thesis.tex")).exists();
    }
}
