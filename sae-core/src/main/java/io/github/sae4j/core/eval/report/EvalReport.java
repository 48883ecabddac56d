package io.github.sae4j.core.eval.report;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.sae4j.core.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * One self-contained HTML page comparing the {@code sae4j eval --json} outputs of several SAEs side by side: a table
 * of every figure with what it means, the plots as inline PNGs and the worst sentences. It reads offline: no
 * external CSS, scripts, fonts or images. Figures an evaluation lacks (a reconstruction-only run, no k-lowest
 * sweep) show as a dash, and a plot nobody has data for is left out.
 */
public final class EvalReport {

    private EvalReport() {
    }

    /** How a figure prints. */
    private enum Format {
        COUNT, CE, KL, RATIO, GENERAL, L0
    }

    /** A table row: where the value sits in the eval JSON (a JSON pointer), its name and what it means. */
    private record Row(String pointer, String label, String meaning, Format format) {
    }

    private record Section(String title, List<Row> rows) {
    }

    private static final String KL_RATIO = "/kl_ratio";

    private static final List<Section> SECTIONS = List.of(
            new Section("With the SAE spliced into the model", List.of(
                    new Row("/scored_tokens", "scored tokens", "positions that have a next token, over the sentences",
                            Format.COUNT),
                    new Row("/ce_clean", "CE clean", "mean next-token cross-entropy of the unmodified model (nats)",
                            Format.CE),
                    new Row("/ce_sae", "CE with the SAE",
                            "the residual at the hook replaced by the SAE's reconstruction", Format.CE),
                    new Row("/ce_zero", "CE zero-ablated", "the residual at the hook set to zero", Format.CE),
                    new Row("/ce_mean", "CE mean-ablated", "the residual at the hook set to the mean residual",
                            Format.CE),
                    new Row("/ce_loss_recovered", "CE loss recovered",
                            "(CE_zero - CE_SAE) / (CE_zero - CE_clean): 1 = as good as the clean model, 0 = as bad as "
                                    + "zeroing the hook", Format.RATIO),
                    new Row("/delta_lm_loss", "delta LM loss", "CE_SAE - CE_clean (nats); 0 is perfect", Format.CE),
                    new Row("/kl_sae", "KL(clean || SAE)",
                            "mean per-token KL of the spliced model's next-token distribution from the clean one; "
                                    + "0 is perfect", Format.KL),
                    new Row("/kl_random", "KL(clean || random error)",
                            "the control: each token's SAE error replaced by a random direction of the same norm",
                            Format.KL),
                    new Row(KL_RATIO, "KL_SAE / KL_random",
                            "above 1: the SAE's errors hurt more than random errors of the same size; with its 95% "
                                    + "bootstrap interval over sentences", Format.RATIO))),
            new Section("Reconstruction at the hook", List.of(
                    new Row("/eval_tokens", "tokens", "activation rows the reconstruction figures are over",
                            Format.COUNT),
                    new Row("/fvu", "FVU", "fraction of variance unexplained; 0 is perfect, 1 = predicting the mean",
                            Format.RATIO),
                    new Row("/fve", "FVE", "fraction of variance explained, 1 - FVU; 1 is perfect", Format.RATIO),
                    new Row("/nmse", "normalized MSE", "squared error over squared norm (against predicting zero); 0 "
                            + "is perfect", Format.RATIO),
                    new Row("/mse", "MSE", "mean squared error per element, in the activations' units", Format.GENERAL),
                    new Row("/l0", "L0", "active latents per token", Format.L0),
                    new Row("/dead_fraction", "dead fraction", "share of latents that never fired on these tokens",
                            Format.RATIO),
                    new Row("/l2_ratio", "L2 ratio", "||x_hat|| / ||x||; 1 is ideal, below 1 means shrinkage",
                            Format.RATIO),
                    new Row("/cosine", "cosine", "cos(x, x_hat); 1 is perfect", Format.RATIO),
                    new Row("/ground_truth_recovered", "ground-truth features recovered",
                            "synthetic data: share of true features with a decoder row at cosine > 0.9", Format.RATIO))),
            new Section("Shrinkage correction", List.of(
                    new Row("/shrinkage/before/l2_ratio", "L2 ratio, before", "||x_hat|| / ||x|| as trained",
                            Format.RATIO),
                    new Row("/shrinkage/after/l2_ratio", "L2 ratio, after", "after correcting the shrinkage",
                            Format.RATIO),
                    new Row("/shrinkage/before/ce_loss_recovered", "CE loss recovered, before", "as trained",
                            Format.RATIO),
                    new Row("/shrinkage/after/ce_loss_recovered", "CE loss recovered, after",
                            "after correcting the shrinkage", Format.RATIO))));

    /** Reads eval JSON files, each one object (or an array of them) as {@code sae4j eval --json} writes. */
    public static List<JsonNode> read(List<Path> jsonFiles) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        mapper.enable(JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS);
        List<JsonNode> evals = new ArrayList<>();
        for (Path file : jsonFiles) {
            if (!Files.isRegularFile(file)) {
                throw new NoSuchFileException(file.toString(), null,
                        "no eval JSON here; write one with sae4j eval --sae S --sentences D --json FILE");
            }
            JsonNode root;
            try {
                root = mapper.readTree(file.toFile());
            } catch (JsonProcessingException e) {
                throw new IOException("cannot parse " + file + " as JSON: " + e.getOriginalMessage(), e);
            }
            List<JsonNode> objects = new ArrayList<>();
            if (root != null && root.isArray()) {
                root.forEach(objects::add);
            } else {
                objects.add(root);
            }
            for (JsonNode eval : objects) {
                if (eval == null || !eval.isObject() || !eval.path("sae").isTextual()) {
                    throw new IOException(file + " is not an eval result: expected a JSON object with a \"sae\" "
                            + "field, as sae4j eval --json writes");
                }
                evals.add(eval);
            }
        }
        return evals;
    }

    /** Writes the report comparing {@code evals} (in that order, as SAE 1, SAE 2, ...) to {@code html}. */
    public static void write(Path html, List<JsonNode> evals) throws IOException {
        if (evals.isEmpty()) {
            throw new IllegalArgumentException("no evaluations to report on; give at least one eval JSON");
        }
        AtomicFiles.writeString(html, render(evals));
    }

    /** The whole page as text. */
    static String render(List<JsonNode> evals) throws IOException {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < evals.size(); i++) {
            names.add("SAE " + (i + 1));
        }
        StringBuilder h = new StringBuilder(1 << 16);
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>sae4j evaluation: ").append(evals.size() == 1 ? escape(label(evals.getFirst(), 0))
                        : evals.size() + " SAEs").append("</title>\n<style>\n").append(CSS).append("</style>\n")
                .append("</head>\n<body>\n<h1>SAE evaluation</h1>\n");
        h.append("<p class=\"note\">Written by <code>sae4j eval</code>. Definitions: docs/metrics.md. "
                + "SAEs are numbered in the order given; in plots with a line per SAE, its colour is the swatch "
                + "in the table.</p>\n");
        summary(h, evals, names);
        plots(h, evals, names);
        worst(h, evals, names);
        h.append("</body>\n</html>\n");
        return h.toString();
    }

    private static void summary(StringBuilder h, List<JsonNode> evals, List<String> names) {
        h.append("<h2>Summary</h2>\n<div class=\"scroll\"><table class=\"figures\">\n<thead><tr><th>figure</th>");
        for (int i = 0; i < evals.size(); i++) {
            JsonNode e = evals.get(i);
            h.append("<th class=\"sae\"><span class=\"swatch\" style=\"background:")
                    .append(String.format(Locale.ROOT, "#%06x", EvalCharts.color(i).getRGB() & 0xffffff))
                    .append("\"></span>").append(escape(names.get(i))).append("<br><code>")
                    .append(escape(e.path("sae").asText("?"))).append("</code>");
            String hook = e.path("hook_point").asText("");
            if (!hook.isEmpty()) {
                h.append("<br>@ <code>").append(escape(hook)).append("</code>");
            }
            h.append("</th>");
        }
        h.append("<th>meaning</th></tr></thead>\n<tbody>\n");
        textRow(h, evals, "model", "/model", "the language model the SAE was spliced into");
        textRow(h, evals, "sentences", "/sentences", "held-out sentences scored");
        textRow(h, evals, "activations", "/data", "activations the reconstruction was measured on");
        textRow(h, evals, "split", "/split", "which part of the activations");
        for (Section section : SECTIONS) {
            if (section.rows().stream().noneMatch(r -> anyHas(evals, r.pointer()))) {
                continue;
            }
            h.append("<tr class=\"section\"><th colspan=\"").append(evals.size() + 2).append("\">")
                    .append(escape(section.title())).append("</th></tr>\n");
            for (Row row : section.rows()) {
                if (!anyHas(evals, row.pointer())) {
                    continue;
                }
                h.append("<tr><th>").append(escape(row.label())).append("</th>");
                for (JsonNode e : evals) {
                    String cell = row.pointer().equals(KL_RATIO) ? klRatio(e) : format(e.at(row.pointer()), row.format());
                    h.append(cell == null ? "<td class=\"missing\">&mdash;</td>" : "<td>" + escape(cell) + "</td>");
                }
                h.append("<td class=\"meaning\">").append(escape(row.meaning())).append("</td></tr>\n");
            }
        }
        h.append("</tbody>\n</table></div>\n");
    }

    private static void textRow(StringBuilder h, List<JsonNode> evals, String label, String pointer, String meaning) {
        if (!anyHas(evals, pointer)) {
            return;
        }
        h.append("<tr><th>").append(escape(label)).append("</th>");
        for (JsonNode e : evals) {
            JsonNode v = e.at(pointer);
            h.append(v.isMissingNode() || v.isNull() ? "<td class=\"missing\">&mdash;</td>"
                    : "<td class=\"text\"><code>" + escape(v.asText()) + "</code></td>");
        }
        h.append("<td class=\"meaning\">").append(escape(meaning)).append("</td></tr>\n");
    }

    private static void plots(StringBuilder h, List<JsonNode> evals, List<String> names) throws IOException {
        List<EvalCharts.Png> charts = new ArrayList<>();
        add(charts, EvalCharts.crossEntropy(evals, names));
        add(charts, EvalCharts.ceDifference(evals, names));
        add(charts, EvalCharts.kLowest(evals, names, "ce", "CE (nats)"));
        add(charts, EvalCharts.kLowest(evals, names, "mse", "MSE"));
        add(charts, EvalCharts.kl(evals, names));
        if (charts.isEmpty()) {
            return;
        }
        h.append("<h2>Plots</h2>\n<div class=\"plots\">\n");
        Base64.Encoder base64 = Base64.getEncoder();
        for (EvalCharts.Png chart : charts) {
            h.append("<figure><img width=\"").append(EvalCharts.WIDTH).append("\" height=\"").append(EvalCharts.HEIGHT)
                    .append("\" alt=\"").append(escape(chart.title())).append("\" src=\"data:image/png;base64,")
                    .append(base64.encodeToString(chart.bytes())).append("\"><figcaption><b>")
                    .append(escape(chart.title())).append(".</b> ").append(escape(chart.caption()))
                    .append("</figcaption></figure>\n");
        }
        h.append("</div>\n");
    }

    private static void add(List<EvalCharts.Png> charts, Optional<EvalCharts.Png> chart) {
        chart.ifPresent(charts::add);
    }

    private static void worst(StringBuilder h, List<JsonNode> evals, List<String> names) {
        int rows = 0;
        for (JsonNode e : evals) {
            rows = Math.max(rows, e.path("worst_sentences").size());
        }
        if (rows == 0) {
            return;
        }
        h.append("<h2>Worst sentences</h2>\n<p class=\"note\">Sentences with the largest mean per-token CE increase "
                + "(CE_SAE - CE_clean, nats), worst first; by index into the sentences scored, in their order "
                + "(blank sentences skipped).</p>\n<div class=\"scroll\"><table class=\"worst\">\n<thead><tr><th>rank</th>");
        for (String name : names) {
            h.append("<th>").append(escape(name)).append("</th>");
        }
        h.append("</tr></thead>\n<tbody>\n");
        for (int r = 0; r < rows; r++) {
            h.append("<tr><th>").append(r + 1).append("</th>");
            for (JsonNode e : evals) {
                JsonNode index = e.path("worst_sentences").path(r);
                if (!index.isNumber()) {
                    h.append("<td class=\"missing\">&mdash;</td>");
                    continue;
                }
                double increase = number(e.path("worst_mean_ce_increase"), "/" + r);
                h.append("<td>#").append(index.asLong());
                if (!Double.isNaN(increase)) {
                    h.append(" <span class=\"increase\">").append(String.format(Locale.ROOT, "%+.4f", increase))
                            .append("</span>");
                }
                h.append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</tbody>\n</table></div>\n");
    }

    /** The table row of the figure at {@code pointer} (a JSON pointer into an eval), for other pages that show it. */
    private static Row row(String pointer) {
        for (Section section : SECTIONS) {
            for (Row r : section.rows()) {
                if (r.pointer().equals(pointer)) {
                    return r;
                }
            }
        }
        throw new IllegalArgumentException("no figure at " + pointer + " in the eval report");
    }

    /** The figure's name, as the table shows it. */
    static String figureName(String pointer) {
        return row(pointer).label();
    }

    /** What the figure means, as the table explains it. */
    static String figureMeaning(String pointer) {
        return row(pointer).meaning();
    }

    /** The figure at {@code pointer} in {@code eval}, formatted as the table shows it, or null when absent. */
    static String figure(JsonNode eval, String pointer) {
        return pointer.equals(KL_RATIO) ? klRatio(eval) : format(eval.at(pointer), row(pointer).format());
    }

    /** The KL ratio with its interval, or null when absent. */
    private static String klRatio(JsonNode e) {
        if (e.at(KL_RATIO).isMissingNode() || e.at(KL_RATIO).isNull()) {
            return null;
        }
        String s = String.format(Locale.ROOT, "%.3f", number(e, KL_RATIO));
        double low = number(e, "/kl_ratio_ci95/0");
        double high = number(e, "/kl_ratio_ci95/1");
        if (!Double.isNaN(low) && !Double.isNaN(high)) {
            s += String.format(Locale.ROOT, " (95%% CI %.3f\u2013%.3f)", low, high);
        }
        return s;
    }

    /** A figure as text, or null when the JSON lacks it. */
    private static String format(JsonNode v, Format f) {
        if (v.isMissingNode() || v.isNull()) {
            return null;
        }
        double x = number(v, "");
        if (Double.isNaN(x)) {
            return v.isNumber() || "NaN".equals(v.asText()) ? "NaN" : v.asText();
        }
        if (Double.isInfinite(x)) {
            return x > 0 ? "\u221e" : "-\u221e";
        }
        return switch (f) {
            case COUNT -> String.format(Locale.ROOT, "%,d", Math.round(x));
            case CE, RATIO -> String.format(Locale.ROOT, "%.4f", x);
            case KL -> String.format(Locale.ROOT, "%.5f", x);
            case L0 -> String.format(Locale.ROOT, "%.2f", x);
            case GENERAL -> String.format(Locale.ROOT, "%.4g", x);
        };
    }

    /**
     * The number at {@code pointer} under {@code node}, or NaN when it is missing or not a number. Non-finite
     * values may be written as strings ("NaN", "Infinity") by Jackson.
     */
    static double number(JsonNode node, String pointer) {
        JsonNode v = node.at(pointer);
        if (v.isNumber()) {
            return v.doubleValue();
        }
        if (v.isTextual()) {
            try {
                return Double.parseDouble(v.asText());
            } catch (NumberFormatException e) {
                return Double.NaN;
            }
        }
        return Double.NaN;
    }

    private static boolean anyHas(List<JsonNode> evals, String pointer) {
        return evals.stream().anyMatch(e -> !e.at(pointer).isMissingNode() && !e.at(pointer).isNull());
    }

    private static String label(JsonNode e, int i) {
        String sae = e.path("sae").asText("SAE " + (i + 1));
        String hook = e.path("hook_point").asText("");
        return hook.isEmpty() ? sae : sae + " @ " + hook;
    }

    /** Escapes text for an HTML element or a double- or single-quoted attribute. */
    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    static final String CSS = """
            body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em; color: #222;
                   max-width: 1600px; }
            h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; }
            code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 0.9em;
                   word-break: break-all; }
            .note { color: #555; }
            .scroll { overflow-x: auto; }
            table { border-collapse: collapse; }
            th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; vertical-align: top; }
            thead th { background: #f4f4f4; text-align: left; }
            tbody th { text-align: left; font-weight: 600; white-space: nowrap; }
            td { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
            td.text { text-align: left; white-space: normal; }
            td.meaning { text-align: left; color: #555; white-space: normal; min-width: 20em; }
            td.missing { color: #aaa; text-align: center; }
            tr.section th { background: #eef3f8; text-align: left; }
            th.sae { min-width: 12em; max-width: 24em; font-weight: normal; }
            .swatch { display: inline-block; width: 0.8em; height: 0.8em; margin-right: 0.4em; border-radius: 2px; }
            .increase { color: #a33; }
            .plots { display: flex; flex-wrap: wrap; gap: 1.5em; }
            figure { margin: 0; max-width: 720px; }
            figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
            figcaption { font-size: 0.9em; color: #444; }
            """;
}
