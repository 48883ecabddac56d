package io.github.sae4j.core.eval.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTML report: self-contained, every figure of every SAE, inline PNG plots, text escaped. */
class EvalReportTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String HOSTILE_PATH = "runs/<script>alert(1)</script>&co/sae";
    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    private static String html;

    /** An eval as {@code sae4j eval --sentences --json} writes it, with or without the k-lowest sweep. */
    private static ObjectNode eval(String sae, String hook, double ceSae, boolean kLowest) {
        ObjectNode e = MAPPER.createObjectNode();
        e.put("sae", sae);
        e.put("model", "tiny-llama3");
        e.put("hook_point", hook);
        e.put("sentences", "data/held-out.parquet");
        e.put("scored_tokens", 5378);
        e.put("ce_clean", 4.05);
        e.put("ce_sae", ceSae);
        e.put("ce_zero", 8.32);
        e.put("ce_mean", 9.14);
        e.put("ce_loss_recovered", (8.32 - ceSae) / (8.32 - 4.05));
        e.put("delta_lm_loss", ceSae - 4.05);
        e.put("kl_sae", 0.154);
        e.put("kl_random", 0.061);
        e.put("kl_ratio", 2.52);
        e.putArray("kl_ratio_ci95").add(2.46).add(2.59);
        ObjectNode histogram = e.putObject("ce_diff_histogram");
        histogram.put("low", -2.0);
        histogram.put("bin", 0.25);
        ArrayNode counts = histogram.putArray("counts");
        for (int b = 0; b < 32; b++) {
            counts.add((long) (1000 * Math.exp(-Math.abs(b - 8) / 2.0)));
        }
        e.putArray("worst_sentences").add(17).add(3).add(42);
        e.putArray("worst_mean_ce_increase").add(1.25).add(0.875).add(0.5);
        e.put("eval_tokens", 5378);
        e.put("fvu", 0.123);
        e.put("fve", 0.877);
        e.put("nmse", 0.0456);
        e.put("mse", 0.000789);
        e.put("l0", 32.0);
        e.put("dead_fraction", 0.0125);
        e.put("l2_ratio", 0.93);
        e.put("cosine", 0.96);
        if (kLowest) {
            ObjectNode sweep = e.putObject("k_lowest_ablation");
            ArrayNode dropped = sweep.putArray("dropped");
            ArrayNode ce = sweep.putArray("ce");
            ArrayNode mse = sweep.putArray("mse");
            for (int k = 0; k <= 8; k++) {
                dropped.add(k);
                ce.add(ceSae + 0.01 * k * k);
                mse.add(0.000789 * (1 + 0.2 * k));
            }
            ObjectNode shrinkage = e.putObject("shrinkage");
            shrinkage.putObject("before").put("l2_ratio", 0.93).put("ce_loss_recovered", 0.959);
            shrinkage.putObject("after").put("l2_ratio", 0.9987).put("ce_loss_recovered", 0.9712);
        }
        return e;
    }

    @BeforeAll
    static void writeReport(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("report.html");
        EvalReport.write(file, List.of(eval("runs/text/sae/sae", "blocks.4.hook_resid_post", 4.226, true),
                eval(HOSTILE_PATH, "blocks.2.hook_resid_post", 4.5, false)));
        assertThat(file).as("the report file").isRegularFile();
        html = Files.readString(file, StandardCharsets.UTF_8);
    }

    @Test
    void isSelfContained() {
        assertThat(html).startsWith("<!DOCTYPE html>")
                .doesNotContain("src=\"http", "src='http", "href=\"http", "<link", "@import", "url(");
    }

    @Test
    void labelsEverySaeByPathAndHook() {
        assertThat(html).contains("runs/text/sae/sae", "blocks.4.hook_resid_post", "blocks.2.hook_resid_post",
                "SAE 1", "SAE 2");
    }

    @Test
    void showsTheFiguresOfEachSaeWithWhatTheyMean() {
        assertThat(html).as("CE loss recovered of each SAE, 4 decimals")
                .contains("<td>0.9588</td>", "<td>0.8946</td>");
        assertThat(html).contains("<td>4.0500</td>", "<td>4.2260</td>", "<td>4.5000</td>", "<td>8.3200</td>",
                "<td>9.1400</td>", "<td>0.15400</td>", "<td>0.06100</td>", "<td>5,378</td>", "<td>32.00</td>",
                "<td>0.0125</td>", "<td>0.0007890</td>");
        assertThat(html).as("KL ratio with its bootstrap interval").contains("2.520 (95% CI 2.460\u20132.590)");
        assertThat(html).as("a row's meaning").contains("1 = as good as the clean model, 0 = as bad as zeroing the hook");
        assertThat(html).as("shrinkage rows, dashed for the SAE without them")
                .contains("L2 ratio, after", "<td>0.9987</td>", "<td class=\"missing\">&mdash;</td>");
    }

    @Test
    void listsTheWorstSentencesByIndex() {
        assertThat(html).contains("Worst sentences", "#17 <span class=\"increase\">+1.2500</span>", "#42");
    }

    @Test
    void embedsThePlotsAsValidPngs() {
        Matcher m = Pattern.compile("data:image/png;base64,([A-Za-z0-9+/=]+)\"").matcher(html);
        List<byte[]> images = new ArrayList<>();
        while (m.find()) {
            images.add(Base64.getDecoder().decode(m.group(1)));
        }
        assertThat(images).as("CE bars, CE-difference histogram, k-lowest CE and MSE, KL bars").hasSize(5);
        for (byte[] png : images) {
            assertThat(Arrays.copyOf(png, PNG_MAGIC.length)).as("PNG signature").isEqualTo(PNG_MAGIC);
        }
    }

    @Test
    void escapesTextFromTheJson() {
        assertThat(html).doesNotContain("<script", "</script>&co")
                .contains("runs/&lt;script&gt;alert(1)&lt;/script&gt;&amp;co/sae");
    }

    @Test
    void leavesOutPlotsNoSaeHasDataFor() throws IOException {
        ObjectNode reconstructionOnly = MAPPER.createObjectNode();
        reconstructionOnly.put("sae", "runs/a");
        reconstructionOnly.put("data", "acts/");
        reconstructionOnly.put("fvu", 0.2);
        String page = EvalReport.render(List.of(reconstructionOnly));
        assertThat(page).doesNotContain("data:image/png", "CE loss recovered").contains("<td>0.2000</td>", "acts/");
    }

    @Test
    void readsEvalFilesAndNamesTheOneThatIsNot(@TempDir Path dir) throws IOException {
        Path a = dir.resolve("a.json");
        Path b = dir.resolve("b.json");
        Files.writeString(a, MAPPER.writeValueAsString(eval("runs/a", "blocks.1.hook_resid_post", 4.3, false)));
        Files.writeString(b, "{\"sae\": \"runs/b\", \"kl_ratio\": NaN}");
        List<JsonNode> evals = EvalReport.read(List.of(a, b));
        assertThat(evals).extracting(e -> e.path("sae").asText()).containsExactly("runs/a", "runs/b");
        assertThat(EvalReport.number(evals.get(1), "/kl_ratio")).isNaN();

        Path bad = dir.resolve("metrics.json");
        Files.writeString(bad, "[1, 2]");
        assertThatThrownBy(() -> EvalReport.read(List.of(bad))).isInstanceOf(IOException.class)
                .hasMessageContaining(bad.toString()).hasMessageContaining("\"sae\"");
        assertThatThrownBy(() -> EvalReport.write(dir.resolve("x.html"), List.of()))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
