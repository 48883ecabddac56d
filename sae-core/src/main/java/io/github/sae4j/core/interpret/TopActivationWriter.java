package io.github.sae4j.core.interpret;

import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.model.Tokenizer;
import io.github.sae4j.api.sae.LatentCodes;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.core.io.AtomicFiles;
import io.github.sae4j.core.parquet.ParquetRows;
import io.github.sae4j.core.store.ActivationDataset;
import io.github.sae4j.core.store.ActivationShardReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;

/**
 * Writes a mining result: {@code top-activations.parquet} (each latent's top sentences with the latent's activation
 * at every token, for highlighting) and {@code latents.parquet} (per-latent statistics). The per-token activations
 * come from a second pass that re-encodes only the sentences some latent kept; token texts come from the model's
 * tokenizer (or {@code #id} without one).
 */
public final class TopActivationWriter {

    public static final String EXAMPLES_FILE = "top-activations.parquet";
    public static final String LATENTS_FILE = "latents.parquet";

    static final MessageType EXAMPLES = Types.buildMessage()
            .required(PrimitiveTypeName.INT32).named("latent")
            .required(PrimitiveTypeName.INT32).named("rank")
            .required(PrimitiveTypeName.INT64).named("sentence_id")
            .required(PrimitiveTypeName.FLOAT).named("score")
            .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("text")
            .requiredList().requiredElement(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType())
            .named("tokens")
            .requiredList().requiredElement(PrimitiveTypeName.FLOAT).named("activations")
            .named("top_activations");

    static final MessageType LATENTS = Types.buildMessage()
            .required(PrimitiveTypeName.INT32).named("latent")
            .required(PrimitiveTypeName.INT64).named("firing_tokens")
            .required(PrimitiveTypeName.DOUBLE).named("density")
            .required(PrimitiveTypeName.DOUBLE).named("mean_activation")
            .required(PrimitiveTypeName.BOOLEAN).named("dead")
            .requiredList().requiredElement(PrimitiveTypeName.INT32).named("histogram")
            .named("latents");

    /** One example row. */
    public record Example(int latent, int rank, long sentenceId, float score, String text, List<String> tokens,
                          float[] activations) {
    }

    private TopActivationWriter() {
    }

    /** Re-encodes the kept sentences and returns every latent's examples, best first. */
    public static List<Example> examples(ActivationDataset dataset, Sae sae, TopSentences top, Tokenizer tokenizer)
            throws IOException {
        int latents = top.latents();
        // sentence id -> (latent, rank, score) triples of the lists that kept it
        Map<Long, List<float[]>> wanted = new HashMap<>();
        long[] ids = new long[top.capacity()];
        float[] scores = new float[top.capacity()];
        for (int l = 0; l < latents; l++) {
            int n = top.ranked(l, ids, scores);
            for (int r = 0; r < n; r++) {
                wanted.computeIfAbsent(ids[r], k -> new ArrayList<>()).add(new float[] {l, r, scores[r]});
            }
        }
        List<Example> out = new ArrayList<>();
        int d = sae.spec().dIn();
        for (Path shardPath : dataset.shards()) {
            try (ActivationShardReader shard = ActivationShardReader.open(shardPath)) {
                for (int b = 0; b < shard.batchCount(); b++) {
                    int rows = shard.batchRows(b);
                    float[] values = new float[rows * d];
                    long[] sentences = new long[rows];
                    int[] positions = new int[rows];
                    int[] tokens = new int[rows];
                    shard.readBatch(b, values, sentences, positions, tokens, 0);
                    // The wanted sentences of this batch, encoded together in one product.
                    List<int[]> ranges = new ArrayList<>();
                    int wantedRows = 0;
                    for (int start = 0; start < rows; ) {
                        int end = start;
                        while (end < rows && sentences[end] == sentences[start]) {
                            end++;
                        }
                        if (wanted.containsKey(sentences[start])) {
                            ranges.add(new int[] {start, end, wantedRows});
                            wantedRows += end - start;
                        }
                        start = end;
                    }
                    if (ranges.isEmpty()) {
                        continue;
                    }
                    float[] x = new float[wantedRows * d];
                    for (int[] range : ranges) {
                        System.arraycopy(values, range[0] * d, x, range[2] * d, (range[1] - range[0]) * d);
                    }
                    Codes codes = encode(sae, x, wantedRows);
                    for (int[] range : ranges) {
                        long id = sentences[range[0]];
                        out.addAll(sentenceExamples(codes, range[2], range[1] - range[0], id,
                                Arrays.copyOfRange(tokens, range[0], range[1]), wanted.get(id), tokenizer));
                    }
                }
            }
        }
        out.sort((a, b) -> a.latent() != b.latent() ? Integer.compare(a.latent(), b.latent())
                : Integer.compare(a.rank(), b.rank()));
        return out;
    }

    /** A batch's codes on the host: sparse (k per row) or dense (every latent per row). */
    private record Codes(int[] indices, float[] values, int width, boolean dense) {
    }

    private static Codes encode(Sae sae, float[] x, int rows) {
        sae.spec().normalize(x, 0, rows);
        try (Tensor t = sae.device().upload(x, rows, sae.spec().dIn()); LatentCodes codes = sae.encode(t)) {
            return switch (codes) {
                case LatentCodes.Sparse s -> new Codes(s.indices().toIntArray(), s.values().toFloatArray(),
                        s.values().cols(), false);
                case LatentCodes.Dense dense -> new Codes(null, dense.activations().toFloatArray(),
                        dense.activations().cols(), true);
            };
        }
    }

    private static List<Example> sentenceExamples(Codes codes, int firstRow, int n, long sentence, int[] tokens,
                                                  List<float[]> entries, Tokenizer tokenizer) {
        Map<Integer, float[]> perLatent = new HashMap<>();
        for (float[] e : entries) {
            perLatent.put((int) e[0], new float[n]);
        }
        int w = codes.width();
        for (int r = 0; r < n; r++) {
            int row = firstRow + r;
            if (codes.dense()) {
                int rr = r;
                perLatent.forEach((l, acts) -> acts[rr] = Math.max(0f, codes.values()[row * w + l]));
                continue;
            }
            for (int j = 0; j < w; j++) {
                int l = codes.indices()[row * w + j];
                float[] acts = l < 0 ? null : perLatent.get(l);
                if (acts != null && codes.values()[row * w + j] > 0f) {
                    acts[r] = codes.values()[row * w + j];
                }
            }
        }
        List<String> tokenTexts = new ArrayList<>(n);
        for (int tok : tokens) {
            tokenTexts.add(tokenizer == null ? "#" + tok : tokenizer.tokenText(tok));
        }
        String text = tokenizer == null ? String.join(" ", tokenTexts) : tokenizer.decode(tokens);
        List<Example> out = new ArrayList<>();
        for (float[] e : entries) {
            out.add(new Example((int) e[0], (int) e[1], sentence, e[2], text, tokenTexts, perLatent.get((int) e[0])));
        }
        return out;
    }

    /** Writes both files into {@code dir} (each atomically). */
    public static void write(Path dir, List<Example> examples, LatentStatistics stats, Map<String, String> metadata)
            throws IOException {
        Files.createDirectories(dir);
        AtomicFiles.writeFile(dir.resolve(EXAMPLES_FILE), tmp -> {
            try (ParquetRows<Example> w = new ParquetRows<>(Files.newOutputStream(tmp), EXAMPLES, metadata,
                    (out, e) -> {
                        ParquetRows.field(out, "latent", 0, () -> out.addInteger(e.latent()));
                        ParquetRows.field(out, "rank", 1, () -> out.addInteger(e.rank()));
                        ParquetRows.field(out, "sentence_id", 2, () -> out.addLong(e.sentenceId()));
                        ParquetRows.field(out, "score", 3, () -> out.addFloat(e.score()));
                        ParquetRows.field(out, "text", 4, () -> out.addBinary(Binary.fromString(e.text())));
                        ParquetRows.stringList(out, "tokens", 5, e.tokens());
                        ParquetRows.floatList(out, "activations", 6, e.activations());
                    })) {
                for (Example e : examples) {
                    w.write(e);
                }
            }
        });
        AtomicFiles.writeFile(dir.resolve(LATENTS_FILE), tmp -> {
            try (ParquetRows<Integer> w = new ParquetRows<>(Files.newOutputStream(tmp), LATENTS, metadata,
                    (out, l) -> {
                        ParquetRows.field(out, "latent", 0, () -> out.addInteger(l));
                        ParquetRows.field(out, "firing_tokens", 1, () -> out.addLong(stats.firingTokens(l)));
                        ParquetRows.field(out, "density", 2, () -> out.addDouble(stats.density(l)));
                        ParquetRows.field(out, "mean_activation", 3, () -> out.addDouble(stats.meanActivation(l)));
                        ParquetRows.field(out, "dead", 4, () -> out.addBoolean(stats.firingTokens(l) == 0));
                        ParquetRows.intList(out, "histogram", 5, stats.histogram(l));
                    })) {
                for (int l = 0; l < stats.latents(); l++) {
                    w.write(l);
                }
            }
        });
    }
}
