package io.github.sae4j.core.metrics;

import io.github.sae4j.api.metrics.MetricsRecord;
import io.github.sae4j.api.metrics.MetricsSink;
import io.github.sae4j.api.metrics.MetricsSinkProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code plot}: metrics.png in the run directory, redrawn at every flush (checkpoints and the end of the run). */
public final class PlotMetricsSinkProvider implements MetricsSinkProvider {

    @Override
    public String name() {
        return "plot";
    }

    @Override
    public String description() {
        return "<run>/metrics.png: loss, FVU, L0 and dead fraction over steps";
    }

    @Override
    public MetricsSink open(Path runDirectory, long resumedAtStep) throws IOException {
        List<MetricsRecord> records = new ArrayList<>();
        Path jsonl = runDirectory.resolve(JsonlMetricsSink.FILE);
        if (resumedAtStep >= 0 && Files.exists(jsonl)) {
            for (MetricsRecord r : JsonlMetricsSink.read(jsonl)) {
                if (r.step() <= resumedAtStep) {
                    records.add(r);
                }
            }
        }
        Path png = runDirectory.resolve(MetricsPlot.FILE);
        return new MetricsSink() {
            @Override
            public void record(MetricsRecord record) {
                records.add(record);
            }

            @Override
            public void flush() throws IOException {
                if (!records.isEmpty()) {
                    MetricsPlot.write(records, png);
                }
            }
        };
    }
}
