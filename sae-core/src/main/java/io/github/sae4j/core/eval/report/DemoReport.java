package io.github.sae4j.core.eval.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import io.github.sae4j.api.label.ActivatingExample;
import io.github.sae4j.core.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The page {@code sae4j demo} ends with: one self-contained HTML file (inline CSS and PNGs, nothing fetched) with the
 * run's setup, its headline metrics (reconstruction on held-out activations and with the SAE spliced into the model),
 * the training curves, the latents' firing densities, a sample of labeled features with their top sentences and the
 * activating tokens shaded, and a steering example. Every piece of text from the corpus, the labels or the model is
 * escaped.
 */
public final class DemoReport {

    private DemoReport() {
    }

    /** What was run. */
    public record Setup(String model, String hookPoint, String corpus, long sentences, long tokens, int latents,
                        int k, long steps) {
    }

    /** A labeled latent with its best sentences. */
    public record Feature(int latent, String label, double confidence, String labeler, double density,
                          double meanActivation, List<ActivatingExample> examples) {
    }

    /** One prompt continued twice with the same seed: as the model would, and with a feature pushed. */
    public record SteeringExample(String prompt, int latent, String label, double strength, String mode,
                                  String positions, String hookPoint, long seed, double temperature, int maxTokens,
                                  String unsteered, String steered) {
    }

    /**
     * Everything on the page.
     *
     * @param reconstruction {@code sae4j eval --data --json} output (may be null)
     * @param spliced        {@code sae4j eval --sentences --json} output (may be null)
     * @param trainingPlot   the trainer's {@code metrics.png} (may be null)
     * @param densities      every latent's firing density on the corpus, from {@code latents.parquet}
     * @param steering       the steering example (may be null)
     * @param files          the run's files, relative to the page, and what each holds
     */
    public record Content(Setup setup, JsonNode reconstruction, JsonNode spliced, byte[] trainingPlot,
                          double[] densities, List<Feature> features, SteeringExample steering,
                          Map<String, String> files) {
    }

    /** Writes the page to {@code html}, atomically. */
    public static void write(Path html, Content content) throws IOException {
        AtomicFiles.writeString(html, render(content));
    }

    /** The whole page as text. */
    public static String render(Content c) throws IOException {
        Setup s = c.setup();
        StringBuilder h = new StringBuilder(1 << 17);
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>sae4j demo: ").append(escape(s.model())).append(" @ ").append(escape(s.hookPoint()))
                .append("</title>\n<style>\n").append(EvalReport.CSS).append(CSS).append("</style>\n</head>\n<body>\n");
        h.append("<h1>An SAE on <code>").append(escape(s.model())).append("</code> at <code>")
                .append(escape(s.hookPoint())).append("</code></h1>\n");
        h.append(String.format(Locale.ROOT, "<p class=\"note\">Written by <code>sae4j demo</code>: %,d sentences of "
                        + "<code>%s</code>, %,d tokens captured, a TopK SAE with %,d latents and k = %d trained for "
                        + "%,d steps, evaluated, its latents mined, labeled offline and one used to steer. "
                        + "Definitions: docs/metrics.md.</p>\n", s.sentences(), escape(s.corpus()), s.tokens(),
                s.latents(), s.k(), s.steps()));
        metrics(h, c);
        plots(h, c);
        features(h, c.features());
        steering(h, c.steering());
        files(h, c.files());
        h.append("</body>\n</html>\n");
        return h.toString();
    }

    private static final String[] RECONSTRUCTION = {"/fvu", "/fve", "/l0", "/dead_fraction", "/l2_ratio", "/cosine"};
    private static final String[] SPLICED = {"/ce_loss_recovered", "/ce_clean", "/ce_sae", "/ce_zero",
        "/delta_lm_loss", "/kl_sae", "/kl_random", "/kl_ratio"};

    private static void metrics(StringBuilder h, Content c) {
        h.append("<h2>Metrics</h2>\n<table class=\"figures\">\n<tbody>\n");
        JsonNode r = c.reconstruction() == null ? MissingNode.getInstance() : c.reconstruction();
        JsonNode sp = c.spliced() == null ? MissingNode.getInstance() : c.spliced();
        if (!r.isMissingNode()) {
            section(h, String.format(Locale.ROOT, "Reconstruction on held-out activations (%s tokens)",
                    Optional.ofNullable(EvalReport.figure(r, "/eval_tokens")).orElse("?")));
            for (String p : RECONSTRUCTION) {
                row(h, EvalReport.figureName(p), EvalReport.figure(r, p), EvalReport.figureMeaning(p));
            }
        }
        int dead = 0;
        for (double d : c.densities()) {
            dead += d > 0 ? 0 : 1;
        }
        if (c.densities().length > 0) {
            row(h, "never fired on the corpus", String.format(Locale.ROOT, "%,d of %,d (%.4f)", dead,
                    c.densities().length, (double) dead / c.densities().length),
                    "latents with no activation on any captured token (latents.parquet)");
        }
        if (!sp.isMissingNode()) {
            section(h, String.format(Locale.ROOT, "With the SAE spliced into the model (%s scored tokens)",
                    Optional.ofNullable(EvalReport.figure(sp, "/scored_tokens")).orElse("?")));
            for (String p : SPLICED) {
                row(h, EvalReport.figureName(p), EvalReport.figure(sp, p), EvalReport.figureMeaning(p));
            }
        }
        h.append("</tbody>\n</table>\n");
    }

    private static void section(StringBuilder h, String title) {
        h.append("<tr class=\"section\"><th colspan=\"3\">").append(escape(title)).append("</th></tr>\n");
    }

    private static void row(StringBuilder h, String name, String value, String meaning) {
        h.append("<tr><th>").append(escape(name)).append("</th>")
                .append(value == null ? "<td class=\"missing\">&mdash;</td>" : "<td>" + escape(value) + "</td>")
                .append("<td class=\"meaning\">").append(escape(meaning)).append("</td></tr>\n");
    }

    private static void plots(StringBuilder h, Content c) throws IOException {
        List<EvalCharts.Png> charts = new ArrayList<>();
        if (c.trainingPlot() != null) {
            charts.add(new EvalCharts.Png("Training curves", "Loss, FVU, L0 and dead fraction over the steps, on "
                    + "training batches and the held-out split (the trainer's metrics.png).", c.trainingPlot()));
        }
        EvalCharts.latentDensity(c.densities()).ifPresent(charts::add);
        if (c.spliced() != null) {
            List<JsonNode> one = List.of(c.spliced());
            List<String> names = List.of("SAE");
            EvalCharts.crossEntropy(one, names).ifPresent(charts::add);
            EvalCharts.kl(one, names).ifPresent(charts::add);
        }
        if (charts.isEmpty()) {
            return;
        }
        h.append("<h2>Plots</h2>\n<div class=\"plots\">\n");
        Base64.Encoder base64 = Base64.getEncoder();
        for (EvalCharts.Png chart : charts) {
            h.append("<figure><img alt=\"").append(escape(chart.title())).append("\" src=\"data:image/png;base64,")
                    .append(base64.encodeToString(chart.bytes())).append("\"><figcaption><b>")
                    .append(escape(chart.title())).append(".</b> ").append(escape(chart.caption()))
                    .append("</figcaption></figure>\n");
        }
        h.append("</div>\n");
    }

    private static void features(StringBuilder h, List<Feature> features) {
        if (features.isEmpty()) {
            return;
        }
        h.append("<h2>Labeled features</h2>\n<p class=\"note\">A sample of latents with their label, the labeler's "
                + "confidence and how often they fire, each with its top sentences; the darker a token, the more the "
                + "latent fires on it (hover for the activation).</p>\n");
        for (Feature f : features) {
            h.append("<section class=\"feature\"><h3>latent ").append(f.latent()).append(": ")
                    .append(escape(f.label() == null ? "(no label)" : f.label())).append("</h3>\n<p class=\"note\">")
                    .append(String.format(Locale.ROOT, "confidence %.2f (%s), density %.4f%% of tokens, mean "
                                    + "activation when firing %.3g", f.confidence(), escape(f.labeler()),
                            100 * f.density(), f.meanActivation()))
                    .append("</p>\n<ol class=\"examples\">\n");
            for (ActivatingExample e : f.examples()) {
                h.append("<li><span class=\"score\">").append(String.format(Locale.ROOT, "%.3f", e.score()))
                        .append("</span> ").append(highlighted(e)).append("</li>\n");
            }
            h.append("</ol></section>\n");
        }
    }

    /** The sentence's tokens, each shaded by the latent's activation on it relative to the sentence's peak. */
    static String highlighted(ActivatingExample e) {
        float peak = 0;
        for (float a : e.activations()) {
            peak = Math.max(peak, a);
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < e.tokens().size(); i++) {
            String token = escape(e.tokens().get(i).replace("\n", "\u21b5 "));
            float a = e.activations()[i];
            if (peak > 0 && a > 0) {
                b.append(String.format(Locale.ROOT, "<mark style=\"background:rgba(230,159,0,%.2f)\" title=\"%.3f\">",
                        0.15 + 0.85 * a / peak, a)).append(token).append("</mark>");
            } else {
                b.append(token);
            }
        }
        return b.toString();
    }

    private static void steering(StringBuilder h, SteeringExample s) {
        if (s == null) {
            return;
        }
        h.append("<h2>Steering</h2>\n<p class=\"note\">The same prompt continued twice with the same seed "
                + "(temperature ").append(String.format(Locale.ROOT, "%.2g", s.temperature())).append(", seed ")
                .append(s.seed()).append(", at most ").append(s.maxTokens()).append(" tokens): as the model would, "
                + "and with latent ").append(s.latent()).append(" (").append(escape(s.label() == null ? "no label"
                        : s.label())).append(") pushed in <code>").append(escape(s.mode())).append("</code> mode, "
                + "strength ").append(String.format(Locale.ROOT, "%+.1f", s.strength())).append(", at ")
                .append(escape(s.positions())).append(" positions, through the SAE at <code>")
                .append(escape(s.hookPoint())).append("</code>.</p>\n<table class=\"steering\">\n<tbody>\n")
                .append("<tr><th>prompt</th><td>").append(escape(s.prompt())).append("</td></tr>\n")
                .append("<tr><th>unsteered</th><td>").append(escape(s.unsteered())).append("</td></tr>\n")
                .append("<tr><th>steered</th><td>").append(escape(s.steered())).append("</td></tr>\n")
                .append("</tbody>\n</table>\n")
                .append("<p class=\"note\">Again, from this directory: <code>")
                .append(escape(String.format(Locale.ROOT, "sae4j steer --sae sae/sae --feature %d=%+.1f --mode %s -p \"%s\" "
                        + "--seed %d --max-tokens %d", s.latent(), s.strength(), s.mode(), s.prompt(), s.seed(),
                        s.maxTokens()))).append("</code></p>\n");
    }

    private static void files(StringBuilder h, Map<String, String> files) {
        if (files == null || files.isEmpty()) {
            return;
        }
        h.append("<h2>Files</h2>\n<table class=\"files\">\n<tbody>\n");
        files.forEach((path, what) -> h.append("<tr><th><a href=\"").append(escape(path)).append("\"><code>")
                .append(escape(path)).append("</code></a></th><td class=\"meaning\">").append(escape(what))
                .append("</td></tr>\n"));
        h.append("</tbody>\n</table>\n");
    }

    /** Escapes text for an HTML element or a quoted attribute. */
    public static String escape(String s) {
        return s == null ? "" : EvalReport.escape(s);
    }

    private static final String CSS = """
            table.figures td:nth-child(2) { min-width: 8em; }
            section.feature { margin: 1.2em 0; }
            section.feature h3 { font-size: 1.05em; margin-bottom: 0.2em; }
            ol.examples { margin-top: 0.3em; }
            ol.examples li { margin: 0.25em 0; line-height: 1.6; }
            mark { color: inherit; border-radius: 2px; }
            .score { color: #777; font-variant-numeric: tabular-nums; font-size: 0.85em; margin-right: 0.4em; }
            table.steering td, table.files td { text-align: left; white-space: normal; }
            table.steering td { max-width: 60em; }
            """;
}
