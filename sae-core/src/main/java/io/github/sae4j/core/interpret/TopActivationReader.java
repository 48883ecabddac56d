package io.github.sae4j.core.interpret;

import io.github.sae4j.api.label.ActivatingExample;
import io.github.sae4j.api.label.LatentExamples;
import io.github.sae4j.core.parquet.ParquetGroups;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntPredicate;
import org.apache.parquet.filter2.compat.FilterCompat;
import org.apache.parquet.filter2.predicate.FilterApi;

/** Reads what {@code sae4j top-activations} wrote: examples per latent and per-latent statistics. */
public final class TopActivationReader {

    /** One row of {@code latents.parquet}. */
    public record LatentRow(int latent, long firingTokens, double density, double meanActivation, boolean dead,
                            int[] histogram) {
    }

    private TopActivationReader() {
    }

    /** The examples of the latents {@code wanted} accepts, by latent, best first. */
    public static List<LatentExamples> examples(Path dir, IntPredicate wanted) throws IOException {
        return examples(dir, wanted, FilterCompat.NOOP);
    }

    /**
     * One latent's examples, best first (none if it never fired), reading only the pages that hold them: the file is
     * sorted by latent, so this takes milliseconds where a scan of a large file takes seconds.
     */
    public static LatentExamples examples(Path dir, int latent) throws IOException {
        List<LatentExamples> found = examples(dir, l -> l == latent,
                FilterCompat.get(FilterApi.eq(FilterApi.intColumn("latent"), latent)));
        return found.isEmpty() ? new LatentExamples(latent, List.of()) : found.getFirst();
    }

    private static List<LatentExamples> examples(Path dir, IntPredicate wanted, FilterCompat.Filter filter)
            throws IOException {
        Path file = dir.resolve(TopActivationWriter.EXAMPLES_FILE);
        if (!Files.isRegularFile(file)) {
            throw new IOException(dir + " holds no " + TopActivationWriter.EXAMPLES_FILE + "; run sae4j top-activations "
                    + "--out " + dir + " first");
        }
        Map<Integer, List<ActivatingExample>> byLatent = new TreeMap<>();
        ParquetGroups.forEach(file, filter, row -> {
            int latent = row.getInteger("latent", 0);
            if (!wanted.test(latent)) {
                return;
            }
            int n = ParquetGroups.listSize(row, "tokens");
            List<String> tokens = new ArrayList<>(n);
            float[] acts = new float[n];
            for (int i = 0; i < n; i++) {
                tokens.add(ParquetGroups.listElement(row, "tokens", i).getString("element", 0));
                acts[i] = ParquetGroups.listElement(row, "activations", i).getFloat("element", 0);
            }
            byLatent.computeIfAbsent(latent, l -> new ArrayList<>()).add(new ActivatingExample(
                    row.getLong("sentence_id", 0), tokens, acts, row.getFloat("score", 0)));
        });
        List<LatentExamples> out = new ArrayList<>();
        byLatent.forEach((l, ex) -> out.add(new LatentExamples(l, ex)));
        return out;
    }

    /** Every row of {@code latents.parquet}, by latent. */
    public static List<LatentRow> latents(Path dir) throws IOException {
        List<LatentRow> out = new ArrayList<>();
        ParquetGroups.forEach(dir.resolve(TopActivationWriter.LATENTS_FILE), row -> {
            int bins = ParquetGroups.listSize(row, "histogram");
            int[] h = new int[bins];
            for (int i = 0; i < bins; i++) {
                h[i] = ParquetGroups.listElement(row, "histogram", i).getInteger("element", 0);
            }
            out.add(new LatentRow(row.getInteger("latent", 0), row.getLong("firing_tokens", 0),
                    row.getDouble("density", 0), row.getDouble("mean_activation", 0), row.getBoolean("dead", 0), h));
        });
        return out;
    }
}
