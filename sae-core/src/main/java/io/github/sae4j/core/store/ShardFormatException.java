package io.github.sae4j.core.store;

import java.io.IOException;
import java.nio.file.Path;

/**
 * An activation shard or its sidecar is missing, truncated, corrupt or inconsistent. The message names the file,
 * what is wrong with it and what to do.
 */
public class ShardFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    /** The usual remedy, appended to messages about damaged files. */
    static final String RECREATE = "re-create the dataset with sae4j synth or sae4j capture";

    private final transient Path file;

    public ShardFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public ShardFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The shard or sidecar at fault. */
    public Path file() {
        return file;
    }
}
