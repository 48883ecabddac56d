package io.github.sae4j.api.label;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Labels latents from their examples; batchable and resumable: everything it has sent and received is recorded in
 * a state directory, so a rerun after a crash sends nothing twice and loses nothing.
 */
public interface Labeler extends AutoCloseable {

    /**
     * Labels the latents that the state directory does not already hold labels for, and returns labels for all.
     */
    List<LatentLabel> label(List<LatentExamples> latents, Path stateDirectory, LabelingListener listener)
            throws IOException, InterruptedException;

    /** The model that writes the labels, for the record kept with each label ("" when none). */
    default String model() {
        return "";
    }

    /** The version of the prompt or method, kept with each label so labels from different prompts are not mixed. */
    default String promptVersion() {
        return "";
    }

    @Override
    void close();
}
