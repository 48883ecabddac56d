package io.github.sae4j.api.label;

/** Progress of a labeling run. */
public interface LabelingListener {

    /** Called as latents finish (successfully or not). */
    void onLabels(int finished, int total);

    LabelingListener NONE = (finished, total) -> {
    };
}
