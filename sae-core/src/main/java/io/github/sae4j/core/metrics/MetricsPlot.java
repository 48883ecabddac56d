package io.github.sae4j.core.metrics;

import io.github.sae4j.api.metrics.MetricsRecord;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** Renders a run's metrics as one PNG: loss, FVU, L0 and dead fraction over steps, training and validation. */
public final class MetricsPlot {

    public static final String FILE = "metrics.png";

    private MetricsPlot() {
    }

    private record Panel(String title, String key) {
    }

    private static final List<Panel> PANELS = List.of(
            new Panel("loss", "loss"),
            new Panel("FVU (fraction of variance unexplained)", "fvu"),
            new Panel("L0 (active latents per token)", "l0"),
            new Panel("dead fraction (validation: never fired on it)", "dead_fraction"));

    /** Writes the plot of {@code records} to {@code png} (atomically). */
    public static void write(List<MetricsRecord> records, Path png) throws IOException {
        List<XYChart> charts = new ArrayList<>();
        for (Panel panel : PANELS) {
            XYChart chart = new XYChartBuilder().width(640).height(400).title(panel.title()).xAxisTitle("step")
                    .build();
            chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
            chart.getStyler().setMarkerSize(4);
            chart.getStyler().setYAxisDecimalPattern("0.####");
            boolean any = false;
            for (String phase : List.of("train", "val")) {
                List<Double> xs = new ArrayList<>();
                List<Double> ys = new ArrayList<>();
                for (MetricsRecord r : records) {
                    Double v = r.values().get(panel.key());
                    if (r.phase().equals(phase) && v != null && Double.isFinite(v)) {
                        xs.add((double) r.step());
                        ys.add(v);
                    }
                }
                if (!xs.isEmpty()) {
                    XYSeries s = chart.addSeries(phase.equals("val") ? "validation" : "training", xs, ys);
                    s.setMarker(phase.equals("val") ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
                    any = true;
                }
            }
            if (!any) {
                chart.getStyler().setLegendVisible(false);
                chart.addSeries("no data", new double[] {0}, new double[] {0}).setMarker(SeriesMarkers.NONE);
            }
            charts.add(chart);
        }
        io.github.sae4j.core.io.AtomicFiles.writeFile(png, tmp -> {
            try (var out = java.nio.file.Files.newOutputStream(tmp)) {
                BitmapEncoder.saveBitmap(charts, 2, 2, out, BitmapEncoder.BitmapFormat.PNG);
            }
        });
    }
}
