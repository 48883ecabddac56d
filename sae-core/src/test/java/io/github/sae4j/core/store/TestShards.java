package io.github.sae4j.core.store;

import io.github.sae4j.api.activation.ActivationBatch;
import io.github.sae4j.api.activation.ActivationReadOptions;
import io.github.sae4j.api.activation.ActivationStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes small random activation datasets for tests, and remembers what it wrote (the values as stored, after
 * bfloat16 rounding) so tests can compare; reads streams back into arrays. Sentences of random length are appended one call each, so record
 * batches end at sentence boundaries, like a capture run.
 *
 * <pre>{@code
 * TestShards.Written data = TestShards.write(tempDir.resolve("acts"), 16, ActivationDType.BF16, 200, 1000, 128, 42);
 * try (ActivationDataset ds = ActivationDataset.open(data.directory())) { ... }
 * }</pre>
 */
public final class TestShards {

    /** The model name written into test datasets. */
    public static final String MODEL = "test/random-model";
    /** The hook point written into test datasets. */
    public static final String HOOK_POINT = "blocks.0.hook_resid_post";

    private TestShards() {
    }

    /**
     * What a dataset holds, row by row in stored order.
     *
     * @param values row-major {@code [rows, dModel]}, as stored (rounded to bfloat16 when the dtype is BF16)
     */
    public record Written(Path directory, DatasetHeader header, int rows, float[] values, long[] sentenceIds,
                          int[] positions, int[] tokenIds) {

        public int dModel() {
            return header.dModel();
        }

        /** Row {@code r}'s values. */
        public float[] row(int r) {
            float[] out = new float[dModel()];
            System.arraycopy(values, r * dModel(), out, 0, dModel());
            return out;
        }
    }

    /** A small bfloat16 dataset: d_model 16, 300 sentences of 1-24 tokens, shards of 1000 rows, batches of 128. */
    public static Written small(Path directory) throws IOException {
        return write(directory, 16, ActivationDType.BF16, 300, 1000, 128, 42);
    }

    /**
     * Writes {@code sentences} sentences of 1 to 24 tokens with random activations: each dimension has its own mean
     * and scale, so statistics are not trivial.
     */
    public static Written write(Path directory, int dModel, ActivationDType dtype, int sentences, int rowsPerShard,
                                int rowsPerBatch, long seed) throws IOException {
        return write(directory, new DatasetHeader(dModel, dtype, MODEL, HOOK_POINT, Map.of("layer", "0")), sentences,
                24, rowsPerShard, rowsPerBatch, seed);
    }

    /** As above, with a given header and longest sentence. */
    public static Written write(Path directory, DatasetHeader header, int sentences, int maxSentenceTokens,
                                int rowsPerShard, int rowsPerBatch, long seed) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        int d = header.dModel();
        int[] lengths = new int[sentences];
        int rows = 0;
        for (int s = 0; s < sentences; s++) {
            lengths[s] = 1 + random.nextInt(maxSentenceTokens);
            rows += lengths[s];
        }
        double[] mean = new double[d];
        double[] scale = new double[d];
        for (int j = 0; j < d; j++) {
            mean[j] = random.nextDouble(-2, 2);
            scale[j] = random.nextDouble(0.1, 3);
        }
        float[] values = new float[rows * d];
        long[] sentenceIds = new long[rows];
        int[] positions = new int[rows];
        int[] tokenIds = new int[rows];
        try (ActivationDatasetWriter writer = ActivationDatasetWriter.create(directory, header, rowsPerShard,
                rowsPerBatch)) {
            int row = 0;
            for (int s = 0; s < sentences; s++) {
                long sentenceId = 1000L + s;
                int start = row;
                for (int p = 0; p < lengths[s]; p++, row++) {
                    sentenceIds[row] = sentenceId;
                    positions[row] = p;
                    tokenIds[row] = random.nextInt(128_256);
                    for (int j = 0; j < d; j++) {
                        values[row * d + j] = (float) (mean[j] + scale[j] * gaussian(random));
                    }
                }
                writer.append(values, start * d, lengths[s], slice(sentenceIds, start, lengths[s]),
                        slice(positions, start, lengths[s]), slice(tokenIds, start, lengths[s]));
            }
        }
        if (header.dtype() == ActivationDType.BF16) {
            BFloat16.round(values, 0, values.length);
        }
        return new Written(directory, header, rows, values, sentenceIds, positions, tokenIds);
    }

    /** Rows read back from a stream, in the order it gave them. */
    public record Rows(int count, int dModel, float[] values, long[] sentenceIds, int[] positions, int[] tokenIds) {

        /** Row {@code r}'s values. */
        public float[] row(int r) {
            float[] out = new float[dModel];
            System.arraycopy(values, r * dModel, out, 0, dModel);
            return out;
        }
    }

    /** Reads up to {@code maxRows} rows (all, if the stream ends first) in batches of {@code batchCapacity}. */
    public static Rows read(ActivationStream stream, int dModel, int batchCapacity, int maxRows) throws IOException {
        ActivationBatch batch = new ActivationBatch(batchCapacity, dModel);
        float[] values = new float[1024 * dModel];
        long[] sentenceIds = new long[1024];
        int[] positions = new int[1024];
        int[] tokenIds = new int[1024];
        int count = 0;
        while (count < maxRows) {
            if (!stream.next(batch)) {
                break;
            }
            int n = Math.min(batch.rows(), maxRows - count);
            if (count + n > sentenceIds.length) {
                int capacity = Math.max(2 * sentenceIds.length, count + n);
                values = Arrays.copyOf(values, capacity * dModel);
                sentenceIds = Arrays.copyOf(sentenceIds, capacity);
                positions = Arrays.copyOf(positions, capacity);
                tokenIds = Arrays.copyOf(tokenIds, capacity);
            }
            System.arraycopy(batch.values(), 0, values, count * dModel, n * dModel);
            System.arraycopy(batch.sentenceIds(), 0, sentenceIds, count, n);
            System.arraycopy(batch.positions(), 0, positions, count, n);
            System.arraycopy(batch.tokenIds(), 0, tokenIds, count, n);
            count += n;
        }
        return new Rows(count, dModel, Arrays.copyOf(values, count * dModel), Arrays.copyOf(sentenceIds, count),
                Arrays.copyOf(positions, count), Arrays.copyOf(tokenIds, count));
    }

    /** Reads a whole dataset in stored order. */
    public static Rows readAll(Path dataset) throws IOException {
        try (ActivationDataset ds = ActivationDataset.open(dataset);
             ActivationStream stream = ds.open(ActivationReadOptions.sequential())) {
            return read(stream, ds.header().dModel(), 97, Integer.MAX_VALUE);
        }
    }

    private static double gaussian(SplittableRandom random) {
        // Box-Muller, written out: RandomGenerator.nextGaussian's algorithm is not fixed by its specification.
        double u = 1 - random.nextDouble();
        double v = random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    private static long[] slice(long[] a, int from, int n) {
        long[] out = new long[n];
        System.arraycopy(a, from, out, 0, n);
        return out;
    }

    private static int[] slice(int[] a, int from, int n) {
        int[] out = new int[n];
        System.arraycopy(a, from, out, 0, n);
        return out;
    }

    /** The first position of {@code needle} in {@code haystack} at or after {@code from}, or -1: finds a marker value in
     *  a shard's bytes, to corrupt it in place. */
    public static int indexOf(byte[] haystack, byte[] needle, int from) {
        outer:
        for (int i = from; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
