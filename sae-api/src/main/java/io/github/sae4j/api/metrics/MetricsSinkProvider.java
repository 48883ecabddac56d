package io.github.sae4j.api.metrics;

import io.github.sae4j.api.plugin.Plugin;
import java.io.IOException;
import java.nio.file.Path;

/** Creates a metrics sink for a run directory (selected by name with {@code sae4j train --metrics}). */
public interface MetricsSinkProvider extends Plugin {

    /**
     * @param runDirectory where the run writes its files
     * @param resumedAtStep the step a resumed run continues from (the sink drops records after it), or -1
     */
    MetricsSink open(Path runDirectory, long resumedAtStep) throws IOException;
}
