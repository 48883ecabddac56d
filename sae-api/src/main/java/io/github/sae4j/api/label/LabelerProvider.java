package io.github.sae4j.api.label;

import io.github.sae4j.api.plugin.Plugin;
import java.util.Map;

/** Creates labelers of one kind (Claude, an offline heuristic, ...). */
public interface LabelerProvider extends Plugin {

    /** @param options provider-specific settings (model name, dry run, ...); unknown keys are an error */
    Labeler open(Map<String, String> options);
}
