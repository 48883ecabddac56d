package io.github.sae4j.core.eval.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.Color;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The plots of an {@link EvalReport}, each rendered headless to PNG bytes. An SAE keeps its colour in every plot
 * whose series are SAEs, so "SAE 2" is the same orange everywhere.
 */
final class EvalCharts {

    static final int WIDTH = 720;
    static final int HEIGHT = 420;

    /** Colour-blind-safe (Okabe-Ito), by SAE index; repeats past eight SAEs. */
    private static final Color[] PALETTE = {
        new Color(0x0072B2), new Color(0xE69F00), new Color(0x009E73), new Color(0xCC79A7),
        new Color(0x56B4E9), new Color(0xD55E00), new Color(0xF0E442), new Color(0x000000)};

    private EvalCharts() {
    }

    /** A rendered plot: its title (alt text and caption) and PNG bytes. */
    record Png(String title, String caption, byte[] bytes) {
    }

    static Color color(int sae) {
        return PALETTE[sae % PALETTE.length];
    }

    /** CE clean, with the SAE, zero- and mean-ablated: one group of bars per SAE that has all four. */
    static Optional<Png> crossEntropy(List<JsonNode> evals, List<String> names) throws IOException {
        String[] keys = {"ce_clean", "ce_sae", "ce_zero", "ce_mean"};
        String[] series = {"clean", "SAE spliced in", "zero-ablated", "mean-ablated"};
        List<String> categories = new ArrayList<>();
        List<List<Double>> values = new ArrayList<>();
        for (int s = 0; s < keys.length; s++) {
            values.add(new ArrayList<>());
        }
        for (int i = 0; i < evals.size(); i++) {
            double[] v = new double[keys.length];
            boolean all = true;
            for (int s = 0; s < keys.length; s++) {
                v[s] = EvalReport.number(evals.get(i), "/" + keys[s]);
                all &= Double.isFinite(v[s]);
            }
            if (all) {
                categories.add(names.get(i));
                for (int s = 0; s < keys.length; s++) {
                    values.get(s).add(v[s]);
                }
            }
        }
        if (categories.isEmpty()) {
            return Optional.empty();
        }
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT)
                .title("next-token cross-entropy").yAxisTitle("CE (nats)").build();
        styleBars(chart);
        for (int s = 0; s < keys.length; s++) {
            chart.addSeries(series[s], categories, values.get(s));
        }
        return Optional.of(new Png("Cross-entropy per SAE",
                "Mean next-token CE of the clean model, with the SAE's reconstruction spliced in, and with the hook "
                        + "zero- and mean-ablated. The SAE bar should sit close to the clean one.", png(chart)));
    }

    /** KL of the spliced model and of the same-norm random-error control, per SAE. */
    static Optional<Png> kl(List<JsonNode> evals, List<String> names) throws IOException {
        List<String> categories = new ArrayList<>();
        List<Double> sae = new ArrayList<>();
        List<Double> random = new ArrayList<>();
        for (int i = 0; i < evals.size(); i++) {
            double a = EvalReport.number(evals.get(i), "/kl_sae");
            double b = EvalReport.number(evals.get(i), "/kl_random");
            if (Double.isFinite(a) && Double.isFinite(b)) {
                categories.add(names.get(i));
                sae.add(a);
                random.add(b);
            }
        }
        if (categories.isEmpty()) {
            return Optional.empty();
        }
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT)
                .title("KL from the clean next-token distribution").yAxisTitle("mean KL (nats)").build();
        styleBars(chart);
        chart.addSeries("KL(clean || SAE)", categories, sae);
        chart.addSeries("KL(clean || random error, same norm)", categories, random);
        return Optional.of(new Png("KL: SAE vs random error",
                "A random error of the same norm as the SAE's is the control: a KL_SAE well above KL_random means "
                        + "the SAE's errors point where the model is sensitive.", png(chart)));
    }

    /** The per-token CE_sae - CE_clean histogram as a fraction of each SAE's tokens, so runs of any size compare. */
    static Optional<Png> ceDifference(List<JsonNode> evals, List<String> names) throws IOException {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title("per-token CE increase")
                .xAxisTitle("CE_SAE - CE_clean (nats)").yAxisTitle("fraction of tokens").build();
        styleLines(chart);
        boolean any = false;
        for (int i = 0; i < evals.size(); i++) {
            JsonNode h = evals.get(i).path("ce_diff_histogram");
            double low = EvalReport.number(h, "/low");
            double bin = EvalReport.number(h, "/bin");
            JsonNode counts = h.path("counts");
            if (!Double.isFinite(low) || !(bin > 0) || !counts.isArray() || counts.isEmpty()) {
                continue;
            }
            double total = 0;
            for (JsonNode c : counts) {
                total += c.asDouble();
            }
            // a step per bin: each bin's value from its lower edge to the next, closed at the last upper edge
            int bins = counts.size();
            double[] x = new double[bins + 1];
            double[] y = new double[bins + 1];
            for (int b = 0; b <= bins; b++) {
                x[b] = low + b * bin;
                y[b] = total > 0 ? counts.get(Math.min(b, bins - 1)).asDouble() / total : 0;
            }
            XYSeries s = chart.addSeries(names.get(i), x, y);
            paint(s, i);
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Step);
            s.setMarker(SeriesMarkers.NONE);
            any = true;
        }
        if (!any) {
            return Optional.empty();
        }
        return Optional.of(new Png("Per-token CE increase",
                "Histogram of CE_SAE - CE_clean over the scored tokens; the first and last bins also hold everything "
                        + "beyond them. Mass far right of 0 is where the SAE breaks the model.", png(chart)));
    }

    /** CE or MSE against the number of lowest-magnitude latents dropped, per SAE that has the sweep. */
    static Optional<Png> kLowest(List<JsonNode> evals, List<String> names, String key, String what)
            throws IOException {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(what + " with the k lowest latents dropped")
                .xAxisTitle("latents dropped (k)").yAxisTitle(what).build();
        styleLines(chart);
        boolean any = false;
        for (int i = 0; i < evals.size(); i++) {
            JsonNode sweep = evals.get(i).path("k_lowest_ablation");
            JsonNode dropped = sweep.path("dropped");
            JsonNode ys = sweep.path(key);
            int n = Math.min(dropped.size(), ys.size());
            List<Double> x = new ArrayList<>();
            List<Double> y = new ArrayList<>();
            for (int j = 0; j < n; j++) {
                double v = EvalReport.number(ys.get(j), "");
                if (Double.isFinite(v) && dropped.get(j).isNumber()) {
                    x.add(dropped.get(j).asDouble());
                    y.add(v);
                }
            }
            if (!x.isEmpty()) {
                XYSeries s = chart.addSeries(names.get(i), x, y);
                paint(s, i);
                s.setMarker(SeriesMarkers.CIRCLE);
                any = true;
            }
        }
        if (!any) {
            return Optional.empty();
        }
        return Optional.of(new Png(what + " vs latents dropped",
                what + " as each token's k lowest-activation latents are dropped. A flat start means the weakest "
                        + "latents carry little; a steep one, that even they matter.", png(chart)));
    }

    /**
     * How often latents fire: a histogram of log10(density) over the latents that fired at all, with the count of
     * those that never did in the caption. A healthy SAE has one broad bump well below 1% and few latents near 1.
     */
    static Optional<Png> latentDensity(double[] densities) throws IOException {
        double low = -7;
        double bin = 0.25;
        int bins = (int) Math.round(-low / bin);
        double[] counts = new double[bins];
        int dead = 0;
        for (double d : densities) {
            if (!(d > 0)) {
                dead++;
                continue;
            }
            int b = (int) Math.floor((Math.log10(d) - low) / bin);
            counts[Math.clamp(b, 0, bins - 1)]++;
        }
        if (dead == densities.length) {
            return Optional.empty();
        }
        double[] x = new double[bins + 1];
        double[] y = new double[bins + 1];
        for (int b = 0; b <= bins; b++) {
            x[b] = low + b * bin;
            y[b] = counts[Math.min(b, bins - 1)];
        }
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title("latent firing density")
                .xAxisTitle("log10(share of tokens a latent fires on)").yAxisTitle("latents").build();
        styleLines(chart);
        chart.getStyler().setLegendVisible(false);
        XYSeries s = chart.addSeries("latents", x, y);
        paint(s, 0);
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Step);
        s.setMarker(SeriesMarkers.NONE);
        return Optional.of(new Png("Latent firing density",
                String.format(java.util.Locale.ROOT, "Histogram of log10(density) over the %d latents that fired; "
                        + "%d never fired on the corpus. The first bin also holds everything rarer.",
                        densities.length - dead, dead), png(chart)));
    }

    private static void styleBars(CategoryChart chart) {
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        chart.getStyler().setYAxisDecimalPattern("0.####");
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
    }

    private static void styleLines(XYChart chart) {
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        chart.getStyler().setYAxisDecimalPattern("0.####");
        chart.getStyler().setXAxisDecimalPattern("0.##");
        chart.getStyler().setMarkerSize(5);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
    }

    private static void paint(XYSeries s, int sae) {
        s.setLineColor(color(sae));
        s.setMarkerColor(color(sae));
        s.setMarker(SeriesMarkers.CIRCLE);
    }

    private static byte[] png(Chart<?, ?> chart) throws IOException {
        return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
    }
}
