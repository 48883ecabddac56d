package io.github.sae4j.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.sae4j.api.activation.ActivationReadOptions;
import io.github.sae4j.api.activation.ActivationStatistics;
import io.github.sae4j.api.activation.ActivationStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ActivationDatasetWriterTest {

    @TempDir
    Path tmp;

    private static final DatasetHeader HEADER = new DatasetHeader(4, ActivationDType.BF16, "m", "blocks.1.hook_resid_post",
            Map.of("layer", "1"));

    private static List<String> fileNames(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static void assertSameRows(TestShards.Rows read, TestShards.Written written) {
        assertThat(read.count()).isEqualTo(written.rows());
        assertThat(read.sentenceIds()).isEqualTo(written.sentenceIds());
        assertThat(read.positions()).isEqualTo(written.positions());
        assertThat(read.tokenIds()).isEqualTo(written.tokenIds());
        for (int i = 0; i < read.values().length; i++) {
            assertThat(Float.floatToRawIntBits(read.values()[i])).as("value %d", i)
                    .isEqualTo(Float.floatToRawIntBits(written.values()[i]));
        }
    }

    @Test
    void bf16RoundTripKeepsValuesAsRoundedAndProvenance() throws IOException {
        TestShards.Written written = TestShards.write(tmp.resolve("bf16"), 12, ActivationDType.BF16, 80, 400, 64, 1);
        assertSameRows(TestShards.readAll(written.directory()), written);
    }

    @Test
    void f32RoundTripIsExact() throws IOException {
        TestShards.Written written = TestShards.write(tmp.resolve("f32"), 12, ActivationDType.F32, 80, 400, 64, 2);
        assertSameRows(TestShards.readAll(written.directory()), written);
        try (ActivationDataset ds = ActivationDataset.open(written.directory())) {
            assertThat(ds.header().dtype()).isEqualTo(ActivationDType.F32);
        }
    }

    @Test
    void shardReaderReadsEachBatchAtAnyOffset() throws IOException {
        TestShards.Written written = TestShards.small(tmp.resolve("ds"));
        int d = written.dModel();
        try (ActivationDataset ds = ActivationDataset.open(written.directory());
             ActivationShardReader reader = ActivationShardReader.open(ds.shards().get(1))) {
            long firstRow = ActivationShardReader.open(ds.shards().getFirst()).rows();
            int last = reader.batchCount() - 1;
            int rows = reader.batchRows(last);
            float[] values = new float[(rows + 5) * d];
            long[] sid = new long[rows + 5];
            int[] pos = new int[rows + 5];
            int[] tok = new int[rows + 5];
            reader.readBatch(last, values, sid, pos, tok, 5);
            int start = (int) (firstRow + reader.rows() - rows);
            for (int r = 0; r < rows; r++) {
                assertThat(sid[5 + r]).isEqualTo(written.sentenceIds()[start + r]);
                assertThat(values[(5 + r) * d + d - 1]).isEqualTo(written.values()[(start + r) * d + d - 1]);
            }
            assertThatThrownBy(() -> reader.readBatch(last, new float[d], sid, pos, tok, 0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("do not fit");
        }
    }

    @Test
    void rollsOverToNewShardsWithoutSplittingAppends() throws IOException {
        TestShards.Written written = TestShards.write(tmp.resolve("ds"), 4, ActivationDType.BF16, 200, 100, 32, 3);
        try (ActivationDataset ds = ActivationDataset.open(written.directory())) {
            assertThat(ds.shards()).hasSizeGreaterThan(written.rows() / 100);
            assertThat(ds.rows()).isEqualTo(written.rows());
            long start = 0;
            for (Path shard : ds.shards()) {
                try (ActivationShardReader r = ActivationShardReader.open(shard)) {
                    assertThat(r.rows()).isBetween(1L, 100L);
                    // A sentence (one append) never straddles two shards.
                    if (start > 0) {
                        assertThat(written.sentenceIds()[(int) start]).isNotEqualTo(written.sentenceIds()[(int) start - 1]);
                    }
                    start += r.rows();
                }
            }
        }
        assertThat(fileNames(written.directory())).contains("dataset.json", "shard-000000.arrow", "shard-000000.json")
                .noneMatch(n -> n.endsWith(".tmp"));
    }

    @Test
    void recordBatchesEndAtAppendBoundaries() throws IOException {
        TestShards.Written written = TestShards.write(tmp.resolve("ds"), 4, ActivationDType.BF16, 300, 10_000, 50, 4);
        long row = 0;
        try (ActivationDataset ds = ActivationDataset.open(written.directory())) {
            for (Path shard : ds.shards()) {
                try (ActivationShardReader r = ActivationShardReader.open(shard)) {
                    for (int b = 0; b < r.batchCount(); b++) {
                        assertThat(r.batchRows(b)).isBetween(1, 50);
                        row += r.batchRows(b);
                        if (row < written.rows()) {
                            assertThat(written.sentenceIds()[(int) row]).as("the sentence after batch %d", b)
                                    .isNotEqualTo(written.sentenceIds()[(int) row - 1]);
                        }
                    }
                }
            }
        }
        assertThat(row).isEqualTo(written.rows());
    }

    @Test
    void anAppendLargerThanABatchFillsWholeBatches() throws IOException {
        Path dir = tmp.resolve("ds");
        try (ActivationDatasetWriter w = ActivationDatasetWriter.create(dir, HEADER, 1000, 128)) {
            append(w, 10, 1);
            append(w, 300, 2);
            append(w, 5, 3);
            assertThat(w.rowsWritten()).isEqualTo(315);
        }
        try (ActivationShardReader r = ActivationShardReader.open(dir.resolve("shard-000000.arrow"))) {
            List<Integer> rows = new ArrayList<>();
            for (int b = 0; b < r.batchCount(); b++) {
                rows.add(r.batchRows(b));
            }
            // The 10 rows are flushed rather than split; the last 5 fit beside the 300's tail of 44.
            assertThat(rows).containsExactly(10, 128, 128, 49);
        }
    }

    private static void append(ActivationDatasetWriter w, int rows, long sentence) throws IOException {
        float[] v = new float[rows * 4];
        for (int i = 0; i < v.length; i++) {
            v[i] = i * 0.25f;
        }
        long[] sid = new long[rows];
        java.util.Arrays.fill(sid, sentence);
        int[] pos = new int[rows];
        for (int i = 0; i < rows; i++) {
            pos[i] = i;
        }
        w.append(v, 0, rows, sid, pos, new int[rows]);
    }

    @Test
    void statisticsEqualATwoPassComputationOverStoredValues() throws IOException {
        TestShards.Written written = TestShards.write(tmp.resolve("ds"), 6, ActivationDType.BF16, 150, 300, 64, 5);
        int d = 6;
        double[] mean = new double[d];
        double[] var = new double[d];
        for (int r = 0; r < written.rows(); r++) {
            for (int j = 0; j < d; j++) {
                mean[j] += written.values()[r * d + j];
            }
        }
        for (int j = 0; j < d; j++) {
            mean[j] /= written.rows();
        }
        for (int r = 0; r < written.rows(); r++) {
            for (int j = 0; j < d; j++) {
                double x = written.values()[r * d + j] - mean[j];
                var[j] += x * x;
            }
        }
        for (int j = 0; j < d; j++) {
            var[j] /= written.rows();
        }
        try (ActivationDataset ds = ActivationDataset.open(written.directory())) {
            assertThat(ds.shards()).hasSizeGreaterThan(2);
            ActivationStatistics s = ds.statistics();
            assertThat(s.count()).isEqualTo(written.rows());
            for (int j = 0; j < d; j++) {
                assertThat(s.mean()[j]).isCloseTo(mean[j], within(1e-12));
                assertThat(s.variance()[j]).isCloseTo(var[j], within(1e-12));
            }
            assertThat(ds.info().statistics().mean()).isEqualTo(s.mean());
            assertThat(ds.info().tokens()).isEqualTo(written.rows());

            // dataset.json holds the same merge of the same per-shard states.
            JsonNode summary = Json.MAPPER.readTree(written.directory().resolve("dataset.json").toFile());
            assertThat(summary.get("rows").asLong()).isEqualTo(written.rows());
            assertThat(summary.get("shards")).hasSize(ds.shards().size());
            for (int j = 0; j < d; j++) {
                assertThat(summary.get("statistics").get("mean").get(j).asDouble()).isEqualTo(s.mean()[j]);
                assertThat(summary.get("statistics").get("variance").get(j).asDouble()).isEqualTo(s.variance()[j]);
            }
        }
    }

    @Test
    void sidecarAndSchemaDescribeTheShard() throws IOException {
        TestShards.Written written = TestShards.small(tmp.resolve("ds"));
        Path shard = written.directory().resolve("shard-000000.arrow");
        JsonNode side = Json.MAPPER.readTree(written.directory().resolve("shard-000000.json").toFile());
        assertThat(side.get("format").asText()).isEqualTo("sae4j.activations.v1");
        assertThat(side.get("shard").asText()).isEqualTo("shard-000000.arrow");
        assertThat(side.get("d_model").asInt()).isEqualTo(16);
        assertThat(side.get("dtype").asText()).isEqualTo("bfloat16");
        assertThat(side.get("model").asText()).isEqualTo(TestShards.MODEL);
        assertThat(side.get("hook_point").asText()).isEqualTo(TestShards.HOOK_POINT);
        assertThat(side.get("metadata").get("layer").asText()).isEqualTo("0");
        assertThat(side.get("file_size").asLong()).isEqualTo(Files.size(shard));
        assertThat(side.get("statistics").get("m2")).hasSize(16);
        assertThat(side.get("statistics").get("variance")).hasSize(16);
        long sum = 0;
        for (JsonNode n : side.get("batch_rows")) {
            sum += n.asLong();
        }
        assertThat(sum).isEqualTo(side.get("rows").asLong()).isEqualTo(side.get("statistics").get("count").asLong());

        try (RootAllocator allocator = new RootAllocator();
             FileChannel ch = FileChannel.open(shard);
             ArrowFileReader reader = new ArrowFileReader(ch, allocator)) {
            Schema schema = reader.getVectorSchemaRoot().getSchema();
            assertThat(schema.getCustomMetadata()).containsEntry("sae4j.format", "sae4j.activations.v1")
                    .containsEntry("d_model", "16").containsEntry("dtype", "bfloat16")
                    .containsEntry("model", TestShards.MODEL).containsEntry("hook_point", TestShards.HOOK_POINT)
                    .containsEntry("layer", "0");
            assertThat(schema.findField("activation").getMetadata()).containsEntry("sae4j.dtype", "bfloat16");
            assertThat(schema.getFields()).extracting(f -> f.getName())
                    .containsExactly("sentence_id", "position", "token_id", "activation");
        }
    }

    @Test
    void rejectsNonFiniteValuesNamingRowAndDimensionAndWritesNothingOfThatCall() throws IOException {
        Path dir = tmp.resolve("ds");
        try (ActivationDatasetWriter w = ActivationDatasetWriter.create(dir, HEADER, 1000, 128)) {
            append(w, 3, 7);
            float[] v = new float[2 * 4];
            v[6] = Float.NaN;
            assertThatThrownBy(() -> w.append(v, 0, 2, new long[] {41, 42}, new int[] {0, 9}, new int[2]))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("row 1").hasMessageContaining("sentence 42").hasMessageContaining("position 9")
                    .hasMessageContaining("dimension 2").hasMessageContaining("NaN");
            v[6] = Float.NEGATIVE_INFINITY;
            assertThatThrownBy(() -> w.append(v, 0, 2, new long[] {41, 42}, new int[] {0, 9}, new int[2]))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("infinite");
            v[6] = 3.4e38f;
            assertThatThrownBy(() -> w.append(v, 0, 2, new long[] {41, 42}, new int[] {0, 9}, new int[2]))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("beyond the bfloat16 range");
            assertThat(w.rowsWritten()).isEqualTo(3);
            append(w, 2, 8);
        }
        TestShards.Rows rows = TestShards.readAll(dir);
        assertThat(rows.sentenceIds()).containsExactly(7, 7, 7, 8, 8);
    }

    @Test
    void float32KeepsValuesBeyondTheBf16Range() throws IOException {
        Path dir = tmp.resolve("ds");
        DatasetHeader f32 = new DatasetHeader(1, ActivationDType.F32, "m", "h", Map.of());
        try (ActivationDatasetWriter w = ActivationDatasetWriter.create(dir, f32, 10, 10)) {
            w.append(new float[] {3.4e38f, -Float.MAX_VALUE}, 0, 2, new long[2], new int[2], new int[2]);
        }
        assertThat(TestShards.readAll(dir).values()).containsExactly(3.4e38f, -Float.MAX_VALUE);
    }

    @Test
    void abortLeavesOnlyCommittedShards() throws IOException {
        Path dir = tmp.resolve("ds");
        ActivationDatasetWriter w = ActivationDatasetWriter.create(dir, HEADER, 10, 4);
        append(w, 3, 1);
        w.abort();
        assertThat(fileNames(dir)).isEmpty();

        ActivationDatasetWriter w2 = ActivationDatasetWriter.create(dir, HEADER, 10, 4);
        append(w2, 10, 1);
        append(w2, 3, 2);
        w2.abort();
        w2.abort();
        w2.close();
        assertThat(fileNames(dir)).containsExactly("shard-000000.arrow", "shard-000000.json");
        assertThat(TestShards.readAll(dir).count()).isEqualTo(10);
        assertThatThrownBy(() -> append(w2, 1, 3)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("aborted");
    }

    @Test
    void refusesADirectoryThatAlreadyHoldsADataset() throws IOException {
        TestShards.Written written = TestShards.small(tmp.resolve("ds"));
        assertThatThrownBy(() -> ActivationDatasetWriter.create(written.directory(), HEADER, 10, 10))
                .isInstanceOf(IOException.class).hasMessageContaining(written.directory().toString())
                .hasMessageContaining("already holds");
    }

    @Test
    void anEmptyDatasetOpensWithNoRows() throws IOException {
        Path dir = tmp.resolve("ds");
        ActivationDatasetWriter.create(dir, HEADER, 10, 10).close();
        assertThat(fileNames(dir)).containsExactly("dataset.json");
        try (ActivationDataset ds = ActivationDataset.open(dir);
             ActivationStream s = ds.open(ActivationReadOptions.sequential())) {
            assertThat(ds.rows()).isZero();
            assertThat(ds.header()).isEqualTo(HEADER);
            assertThat(TestShards.read(s, 4, 10, 100).count()).isZero();
        }
    }

    @Test
    void headerRejectsReservedMetadataKeys() {
        assertThatThrownBy(() -> new DatasetHeader(4, ActivationDType.BF16, "m", "h", Map.of("d_model", "5")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reserved");
    }
}
