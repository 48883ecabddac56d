import io.github.sae4j.openwebtext.corpus.Corpus;
import io.github.sae4j.openwebtext.parquet.CorpusParquetWriter;
import io.github.sae4j.openwebtext.parquet.ParquetTable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.apache.arrow.dataset.file.FileFormat;
import org.apache.arrow.dataset.file.FileSystemDatasetFactory;
import org.apache.arrow.dataset.jni.NativeMemoryPool;
import org.apache.arrow.dataset.scanner.ScanOptions;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VarCharVector;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;

/**
 * Reads the text column of one OpenWebText-style Parquet file with parquet-java (sae4j's ParquetTable) and with
 * Arrow's dataset module (JNI, C++ reader), turning every value into a Java String in both, and prints millions of
 * characters per second and rows/s for each (the text is nearly all ASCII: a character is about a byte). Best of REPEATS runs after one warm-up.
 *
 *   ParquetReadBenchmark WORK_DIR DEMO_CORPUS_DIR TARGET_MB REPEATS
 */
public final class ParquetReadBenchmark {

    public static void main(String[] args) throws Exception {
        Path work = Path.of(args[0]);
        Path demo = Path.of(args[1]);
        long targetBytes = Long.parseLong(args[2]) << 20;
        int repeats = Integer.parseInt(args[3]);
        Path file = work.resolve("bench-openwebtext.parquet");
        long textBytes = makeFile(demo, file, targetBytes);
        System.out.printf("file %s: %.1f MB on disk, %.1f MB of UTF-8 text (snappy, like Hugging Face's openwebtext)%n",
                file, Files.size(file) / 1e6, textBytes / 1e6);

        List<String> lines = new ArrayList<>();
        for (String lib : List.of("parquet-java", "arrow-dataset")) {
            double best = Double.MAX_VALUE;
            long[] result = null;
            for (int r = 0; r <= repeats; r++) {
                long t0 = System.nanoTime();
                result = lib.equals("parquet-java") ? parquetJava(file) : arrowDataset(file);
                double s = (System.nanoTime() - t0) / 1e9;
                if (r > 0) {
                    best = Math.min(best, s);
                }
            }
            lines.add(String.format("%-14s %8d rows %8.1f M chars  best %.3f s  %7.1f M chars/s  %9.0f rows/s", lib,
                    result[0], result[1] / 1e6, best, result[1] / 1e6 / best, result[0] / best));
        }
        lines.forEach(System.out::println);
    }

    /** Demo-corpus documents, shuffled and repeated with a running number, until the text reaches the target. */
    static long makeFile(Path demo, Path file, long targetBytes) throws Exception {
        List<String> docs = new ArrayList<>();
        try (var r = Corpus.at(demo, null).documents()) {
            for (var d = r.next(); d != null; d = r.next()) {
                // Cut documents to OpenWebText's typical length (a few KB).
                String t = d.text();
                for (int i = 0; i < t.length(); i += 4000) {
                    docs.add(t.substring(i, Math.min(t.length(), i + 4000)));
                }
            }
        }
        Random random = new Random(42);
        long bytes = 0;
        try (CorpusParquetWriter w = new CorpusParquetWriter(file, "text", CompressionCodecName.SNAPPY, Map.of())) {
            for (int n = 0; bytes < targetBytes; n++) {
                String doc = n + " " + docs.get(random.nextInt(docs.size()));
                w.write(doc);
                bytes += doc.getBytes(StandardCharsets.UTF_8).length;
            }
        }
        return bytes;
    }

    static long[] parquetJava(Path file) throws Exception {
        long rows = 0;
        long bytes = 0;
        try (ParquetTable t = ParquetTable.open(file); var cursor = t.rows(List.of("text"))) {
            while (cursor.next()) {
                String s = cursor.string(0);
                rows++;
                bytes += s.length();
            }
        }
        return new long[] {rows, bytes};
    }

    static long[] arrowDataset(Path file) throws Exception {
        long rows = 0;
        long bytes = 0;
        try (BufferAllocator allocator = new RootAllocator();
             var factory = new FileSystemDatasetFactory(allocator, NativeMemoryPool.getDefault(), FileFormat.PARQUET,
                     file.toUri().toString());
             var dataset = factory.finish();
             var scanner = dataset.newScan(new ScanOptions(32768, Optional.of(new String[] {"text"})));
             var reader = scanner.scanBatches()) {
            while (reader.loadNextBatch()) {
                VarCharVector v = (VarCharVector) reader.getVectorSchemaRoot().getVector("text");
                for (int i = 0; i < v.getValueCount(); i++) {
                    if (!v.isNull(i)) {
                        String s = new String(v.get(i), StandardCharsets.UTF_8);
                        bytes += s.length();
                    }
                    rows++;
                }
            }
        }
        return new long[] {rows, bytes};
    }
}
