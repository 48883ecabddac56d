package io.github.sae4j.api.label;

import java.util.List;

/** The top-activating examples of one latent, best first. */
public record LatentExamples(int latent, List<ActivatingExample> examples) {

    public LatentExamples {
        examples = List.copyOf(examples);
    }
}
