package io.github.sae4j.core.store;

import io.github.sae4j.api.activation.ActivationSource;
import io.github.sae4j.api.activation.ActivationSourceProvider;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/** Finds sae4j's Arrow activation datasets: a directory of {@code shard-NNNNNN.arrow} files, or one such file. */
public final class ArrowShardSourceProvider implements ActivationSourceProvider {

    @Override
    public String name() {
        return "arrow-shards";
    }

    @Override
    public String description() {
        return "sae4j activation datasets: Arrow IPC shards with JSON sidecars (bfloat16 or float32)";
    }

    /** A directory with a shard file or a dataset.json, or a file that starts with the Arrow file magic. */
    @Override
    public boolean canOpen(Path path) {
        try {
            if (Files.isDirectory(path)) {
                return Files.exists(path.resolve(ShardFormat.DATASET_FILE)) || !ShardFormat.listShards(path).isEmpty();
            }
            if (Files.isRegularFile(path) && path.getFileName().toString().endsWith(".arrow")) {
                try (InputStream in = Files.newInputStream(path)) {
                    return Arrays.equals(in.readNBytes(ShardFormat.MAGIC.length), ShardFormat.MAGIC);
                }
            }
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public ActivationSource open(Path path) throws IOException {
        return ActivationDataset.open(path);
    }
}
