package io.github.sae4j.core.synth;

import io.github.sae4j.core.io.AtomicFiles;
import io.github.sae4j.core.store.ActivationDType;
import io.github.sae4j.core.store.ActivationDatasetWriter;
import io.github.sae4j.core.store.DatasetHeader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongConsumer;

/** Writes synthetic activations as a shard dataset, with the ground truth beside it. */
public final class SyntheticDatasetWriter {

    private SyntheticDatasetWriter() {
    }

    /**
     * Writes {@code config.rows()} rows into {@code directory} (which must not hold shards yet) and
     * {@code ground_truth.safetensors}. On failure nothing is left behind that this call created.
     *
     * @param progress called with the rows written so far
     */
    public static void write(SyntheticConfig config, Path directory, ActivationDType dtype, int rowsPerShard,
                             LongConsumer progress) throws IOException {
        boolean created = !Files.exists(directory);
        SyntheticActivations generator = new SyntheticActivations(config);
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("generator", "sae4j synth");
        metadata.put("features", String.valueOf(config.features()));
        metadata.put("mean_active", String.valueOf(config.meanActive()));
        metadata.put("frequency_exponent", String.valueOf(config.frequencyExponent()));
        metadata.put("noise_std", String.valueOf(config.noiseStd()));
        metadata.put("offset_norm", String.valueOf(config.offsetNorm()));
        metadata.put("seed", String.valueOf(config.seed()));
        DatasetHeader header = new DatasetHeader(config.dModel(), dtype, "synthetic", "synthetic", metadata);
        ActivationDatasetWriter writer = ActivationDatasetWriter.create(directory, header, rowsPerShard,
                SyntheticActivations.BLOCK);
        boolean done = false;
        try {
            int block = SyntheticActivations.BLOCK;
            float[] values = new float[block * config.dModel()];
            long[] sentences = new long[block];
            int[] positions = new int[block];
            int[] tokens = new int[block];
            for (long b = 0; b < generator.blocks(); b++) {
                int rows = generator.blockRows(b);
                generator.generateBlock(b, values, sentences, positions, tokens);
                writer.append(values, 0, rows, sentences, positions, tokens);
                progress.accept(writer.rowsWritten());
            }
            writer.close();
            GroundTruth.write(directory.resolve(GroundTruth.FILE), generator);
            done = true;
        } finally {
            if (!done) {
                writer.abort();
                if (created) {
                    AtomicFiles.deleteRecursively(directory);
                }
            }
        }
    }
}
