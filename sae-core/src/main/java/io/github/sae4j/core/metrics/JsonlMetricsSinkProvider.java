package io.github.sae4j.core.metrics;

import io.github.sae4j.api.metrics.MetricsSink;
import io.github.sae4j.api.metrics.MetricsSinkProvider;
import java.io.IOException;
import java.nio.file.Path;

/** {@code jsonl}: metrics.jsonl in the run directory. */
public final class JsonlMetricsSinkProvider implements MetricsSinkProvider {

    @Override
    public String name() {
        return "jsonl";
    }

    @Override
    public String description() {
        return "one JSON object per record in <run>/metrics.jsonl";
    }

    @Override
    public MetricsSink open(Path runDirectory, long resumedAtStep) throws IOException {
        return new JsonlMetricsSink(runDirectory.resolve(JsonlMetricsSink.FILE), resumedAtStep);
    }
}
