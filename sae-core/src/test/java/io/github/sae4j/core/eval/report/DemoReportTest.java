package io.github.sae4j.core.eval.report;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.sae4j.api.label.ActivatingExample;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The demo's report: every figure it promises, self-contained, and every piece of text escaped. */
class DemoReportTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String HOSTILE = "<script>alert('x')</script> & \"quoted\"";

    private static DemoReport.Content content() {
        ObjectNode reconstruction = MAPPER.createObjectNode().put("sae", "sae/sae").put("fvu", 0.14).put("fve", 0.86)
                .put("l0", 16.0).put("dead_fraction", 0.035).put("l2_ratio", 0.92).put("cosine", 0.92)
                .put("eval_tokens", 4065);
        ObjectNode spliced = MAPPER.createObjectNode().put("sae", "sae/sae").put("scored_tokens", 10207)
                .put("ce_clean", 3.94).put("ce_sae", 4.10).put("ce_zero", 8.32).put("ce_mean", 9.1)
                .put("ce_loss_recovered", 0.963).put("delta_lm_loss", 0.16).put("kl_sae", 0.1435)
                .put("kl_random", 0.0574).put("kl_ratio", 2.50);
        spliced.putArray("kl_ratio_ci95").add(2.45).add(2.54);
        ActivatingExample example = new ActivatingExample(7, List.of("a", " <u>", " &", " \"x\"", "\n"),
                new float[] {0, 4, 2, 0, 1}, 4);
        DemoReport.Feature feature = new DemoReport.Feature(12, "token " + HOSTILE, 0.9, "offline", 0.008, 5.1,
                List.of(example));
        DemoReport.SteeringExample steering = new DemoReport.SteeringExample("The <President> said", 12,
                "token " + HOSTILE, 16, "add", "all", "blocks.4.hook_resid_post", 1, 0.8, 30, "it was <i>fine</i>",
                "the public & lands");
        return new DemoReport.Content(new DemoReport.Setup("models/<tiny>", "blocks.4.hook_resid_post",
                "data/demo-corpus", 6038, 242955, 2048, 16, 2000), reconstruction, spliced, null,
                new double[] {0, 1e-5, 3e-4, 0.002, 0.002, 0.02}, List.of(feature), steering,
                Map.of("top/", "labels & examples"));
    }

    @Test
    void showsTheMetricsPlotsAFeatureAndTheSteeringExample() throws IOException {
        String html = DemoReport.render(content());
        assertThat(html).contains("FVU", "L0", "dead fraction", "CE loss recovered", "KL(clean || SAE)",
                "KL_SAE / KL_random", "2.500 (95% CI 2.450\u20132.540)", "1 of 6 (0.1667)");
        assertThat(html).contains("<h2>Labeled features</h2>", "latent 12: token &lt;script&gt;", "confidence 0.90",
                "density 0.8000%");
        assertThat(html).contains("<h2>Steering</h2>", "it was &lt;i&gt;fine&lt;/i&gt;", "the public &amp; lands",
                "strength +16.0", "--feature 12=+16.0");
        assertThat(html).as("density histogram and CE and KL bars, inline").contains("data:image/png;base64,")
                .contains("Latent firing density", "Cross-entropy per SAE", "KL: SAE vs random error");
        assertThat(html).as("nothing fetched").doesNotContain("http://", "https://", "<script", "<link");
    }

    @Test
    void escapesCorpusLabelAndModelTextEverywhere() throws IOException {
        String html = DemoReport.render(content());
        assertThat(html).doesNotContain("<script", "<u>", "<i>", "<President>", "<tiny>", "'x'")
                .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;")
                .contains("The &lt;President&gt; said").contains("models/&lt;tiny&gt;");
    }

    @Test
    void shadesTheTokensALatentFiresOnByItsActivation() {
        String sentence = DemoReport.highlighted(new ActivatingExample(1, List.of("a", " <u>", " &", "\n"),
                new float[] {0, 4, 2, 0}, 4));
        assertThat(sentence).startsWith("a<mark style=\"background:rgba(230,159,0,1.00)\" title=\"4.000\"> &lt;u&gt;</mark>")
                .contains("<mark style=\"background:rgba(230,159,0,0.58)\" title=\"2.000\"> &amp;</mark>")
                .endsWith("\u21b5 ");
    }
}
