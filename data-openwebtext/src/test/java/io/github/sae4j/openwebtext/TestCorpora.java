package io.github.sae4j.openwebtext;

import io.github.sae4j.openwebtext.parquet.CorpusParquetWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;

/** Small corpora for tests, in the formats the module reads. */
final class TestCorpora {

    private TestCorpora() {
    }

    /** An OpenWebText-style Parquet with the documents in column {@code text} (null values allowed). */
    static Path parquet(Path file, String... documents) throws IOException {
        return parquet(file, "text", CompressionCodecName.SNAPPY, Arrays.asList(documents));
    }

    static Path parquet(Path file, String column, CompressionCodecName codec, List<String> documents)
            throws IOException {
        try (CorpusParquetWriter w = new CorpusParquetWriter(file, column, codec, Map.of())) {
            for (String d : documents) {
                w.write(d);
            }
        }
        return file;
    }

    static Path text(Path file, String content) throws IOException {
        Files.writeString(file, content);
        return file;
    }
}
