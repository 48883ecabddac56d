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

    @Override
    void close();
}
