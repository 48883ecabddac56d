package io.github.sae4j.core.store;

import io.github.sae4j.api.activation.ActivationBatch;
import io.github.sae4j.api.activation.ActivationReadOptions;
import io.github.sae4j.api.activation.ActivationSplit;
import io.github.sae4j.api.activation.ActivationStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Measures how fast activation shards are written and read: a benchmark program, not a test. Writes a dataset of
 * {@code rows} rows at d_model 768 to a temporary directory (appending 64-row sentences from a pool of random values
 * made beforehand, so the time is the writer's), then times reading it three ways, each a few times after a warm-up
 * (the OS page cache holds the files, so this measures decoding, not the disk):
 * <ol>
 *   <li>{@link ActivationShardReader#readBatch} over every batch (decode to float32, check finiteness);</li>
 *   <li>a sequential {@link ActivationStream} into batches of 4096 rows;</li>
 *   <li>a shuffled stream (windows of 65536 rows, prefetched), the training path.</li>
 * </ol>
 * MB/s counts the bytes stored per row (values plus 16 bytes of provenance).
 *
 * <pre>{@code
 * ./mvnw -q -pl sae-core -am test-compile
 * ./mvnw -q -pl sae-core dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java --add-modules=jdk.incubator.vector --add-opens=java.base/java.nio=ALL-UNNAMED \
 *   --sun-misc-unsafe-memory-access=allow \
 *   -cp sae-core/target/test-classes:sae-core/target/classes:$(cat sae-core/target/cp.txt) \
 *   io.github.sae4j.core.store.ShardReadBenchmark [rows] [bfloat16|float32]
 * }</pre>
 */
public final class ShardReadBenchmark {

    private static final int D_MODEL = 768;

    private ShardReadBenchmark() {
    }

    public static void main(String[] args) throws IOException {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 262_144;
        ActivationDType dtype = args.length > 1 ? ActivationDType.fromWireName(args[1]) : ActivationDType.BF16;
        Path dir = Files.createTempDirectory("sae4j-bench");
        try {
            write(dir, rows, dtype);
            double bytesPerRow = D_MODEL * dtype.bytesPerValue() + 16;
            for (int round = 0; round < 4; round++) {
                String tag = round == 0 ? "warm-up " : "round " + round;
                report(tag + " shard reader     ", rows, bytesPerRow, timeShardReader(dir));
                report(tag + " stream sequential", rows, bytesPerRow, timeStream(dir, false));
                report(tag + " stream shuffled  ", rows, bytesPerRow, timeStream(dir, true));
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void write(Path dir, int rows, ActivationDType dtype) throws IOException {
        DatasetHeader header = new DatasetHeader(D_MODEL, dtype, "bench", "blocks.6.hook_resid_post", Map.of());
        SplittableRandom random = new SplittableRandom(1);
        int sentence = 64;
        int poolRows = 16 * sentence;
        float[] pool = new float[poolRows * D_MODEL];
        for (int i = 0; i < pool.length; i++) {
            pool[i] = (float) random.nextDouble(-4, 4);
        }
        long[] sid = new long[sentence];
        int[] pos = new int[sentence];
        int[] tok = new int[sentence];
        for (int i = 0; i < sentence; i++) {
            pos[i] = i;
            tok[i] = random.nextInt(128_000);
        }
        long t0 = System.nanoTime();
        try (ActivationDatasetWriter w = ActivationDatasetWriter.create(dir.resolve("ds"), header, 65_536, 4096)) {
            for (int r = 0; r < rows; r += sentence) {
                int n = Math.min(sentence, rows - r);
                Arrays.fill(sid, r / sentence);
                w.append(pool, (r % poolRows) * D_MODEL, n, sid, pos, tok);
            }
        }
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("wrote %d rows x %d (%s) in %.2f s: %.0f k rows/s (with fsync per shard)%n", rows, D_MODEL,
                dtype.wireName(), s, rows / s / 1e3);
    }

    private static long timeShardReader(Path dir) throws IOException {
        long t0 = System.nanoTime();
        float[] values = new float[4096 * D_MODEL];
        long[] sid = new long[4096];
        int[] pos = new int[4096];
        int[] tok = new int[4096];
        double sink = 0;
        try (ActivationDataset ds = ActivationDataset.open(dir.resolve("ds"))) {
            for (Path shard : ds.shards()) {
                try (ActivationShardReader r = ActivationShardReader.open(shard)) {
                    for (int b = 0; b < r.batchCount(); b++) {
                        r.readBatch(b, values, sid, pos, tok, 0);
                        sink += values[b];
                    }
                }
            }
        }
        if (sink == 42.4242) {
            System.out.println();
        }
        return System.nanoTime() - t0;
    }

    private static long timeStream(Path dir, boolean shuffle) throws IOException {
        long t0 = System.nanoTime();
        ActivationReadOptions options = new ActivationReadOptions(ActivationSplit.ALL, 0, shuffle, 7, 65_536, false,
                null);
        ActivationBatch batch = new ActivationBatch(4096, D_MODEL);
        double sink = 0;
        try (ActivationDataset ds = ActivationDataset.open(dir.resolve("ds"));
             ActivationStream s = ds.open(options)) {
            while (s.next(batch)) {
                sink += batch.values()[batch.rows() - 1];
            }
        }
        if (sink == 42.4242) {
            System.out.println();
        }
        return System.nanoTime() - t0;
    }

    private static void report(String what, int rows, double bytesPerRow, long nanos) {
        double s = nanos / 1e9;
        System.out.printf("%s %8.0f k rows/s %8.0f MB/s%n", what, rows / s / 1e3, rows * bytesPerRow / s / 1e6);
    }
}
