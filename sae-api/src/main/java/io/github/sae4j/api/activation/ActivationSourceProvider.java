package io.github.sae4j.api.activation;

import io.github.sae4j.api.plugin.Plugin;
import java.io.IOException;
import java.nio.file.Path;

/** Opens activation sources of one format (for example sae4j's Arrow shard directories). */
public interface ActivationSourceProvider extends Plugin {

    /** Whether {@code path} looks like this provider's format (cheap: names and magic bytes). */
    boolean canOpen(Path path);

    /**
     * Opens the source.
     *
     * @throws IOException naming the file and what is wrong with it
     */
    ActivationSource open(Path path) throws IOException;
}
