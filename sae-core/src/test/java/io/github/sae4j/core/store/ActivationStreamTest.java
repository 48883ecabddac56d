package io.github.sae4j.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.sae4j.api.activation.ActivationBatch;
import io.github.sae4j.api.activation.ActivationReadOptions;
import io.github.sae4j.api.activation.ActivationSplit;
import io.github.sae4j.api.activation.ActivationStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ActivationStreamTest {

    @TempDir
    static Path tmp;

    /** 4 shards of at most 500 rows in record batches of at most 64: about 40 chunks of varying size. */
    static TestShards.Written data;
    static ActivationDataset dataset;

    @BeforeAll
    static void writeDataset() throws IOException {
        data = TestShards.write(tmp.resolve("ds"), 6, ActivationDType.BF16, 160, 500, 64, 21);
        dataset = ActivationDataset.open(data.directory());
    }

    @AfterAll
    static void closeDataset() throws IOException {
        dataset.close();
    }

    private static ActivationReadOptions shuffled(long seed, int windowRows, boolean repeat) {
        return new ActivationReadOptions(ActivationSplit.ALL, 0, true, seed, windowRows, repeat, null);
    }

    private static TestShards.Rows read(ActivationReadOptions options, int batch, int maxRows) throws IOException {
        try (ActivationStream s = dataset.open(options)) {
            return TestShards.read(s, 6, batch, maxRows);
        }
    }

    /** (sentence id, position) identifies a row: TestShards writes each pair once. */
    private static List<Long> keys(TestShards.Rows rows) {
        List<Long> keys = new ArrayList<>(rows.count());
        for (int i = 0; i < rows.count(); i++) {
            keys.add(rows.sentenceIds()[i] * 1000 + rows.positions()[i]);
        }
        return keys;
    }

    private static Map<Long, float[]> writtenRows() {
        Map<Long, float[]> m = new HashMap<>();
        for (int r = 0; r < data.rows(); r++) {
            m.put(data.sentenceIds()[r] * 1000 + data.positions()[r], data.row(r));
        }
        return m;
    }

    private static void assertBitwiseEqual(TestShards.Rows a, TestShards.Rows b) {
        assertThat(a.count()).isEqualTo(b.count());
        assertThat(a.sentenceIds()).isEqualTo(b.sentenceIds());
        assertThat(a.positions()).isEqualTo(b.positions());
        assertThat(a.tokenIds()).isEqualTo(b.tokenIds());
        for (int i = 0; i < a.values().length; i++) {
            assertThat(Float.floatToRawIntBits(a.values()[i])).isEqualTo(Float.floatToRawIntBits(b.values()[i]));
        }
    }

    @Test
    void sequentialReadsEveryRowInStoredOrder() throws IOException {
        TestShards.Rows rows = read(ActivationReadOptions.sequential(), 37, Integer.MAX_VALUE);
        assertThat(rows.count()).isEqualTo(data.rows());
        assertThat(rows.sentenceIds()).isEqualTo(data.sentenceIds());
        assertThat(rows.positions()).isEqualTo(data.positions());
        assertThat(rows.values()).isEqualTo(data.values());
    }

    @Test
    void sequentialRepeatStartsOverAtTheEnd() throws IOException {
        ActivationReadOptions options = new ActivationReadOptions(ActivationSplit.ALL, 0, false, 0, 10, true, null);
        TestShards.Rows rows = read(options, 100, data.rows() + 50);
        assertThat(Arrays.copyOfRange(rows.sentenceIds(), data.rows(), data.rows() + 50))
                .isEqualTo(Arrays.copyOfRange(data.sentenceIds(), 0, 50));
    }

    @Test
    void trainAndValidationAreDisjointCoverEverythingAndKeepSentencesWhole() throws IOException {
        ActivationReadOptions base = ActivationReadOptions.sequential();
        List<Long> train = keys(read(new ActivationReadOptions(ActivationSplit.TRAIN, 0.2, false, 0, 1, false, null), 50,
                Integer.MAX_VALUE));
        List<Long> validation = keys(read(new ActivationReadOptions(ActivationSplit.VALIDATION, 0.2, false, 0, 1, false,
                null), 50, Integer.MAX_VALUE));
        List<Long> all = keys(read(base, 50, Integer.MAX_VALUE));
        assertThat(validation).isNotEmpty();
        assertThat(train.size()).isGreaterThan(validation.size());
        Set<Long> overlap = new HashSet<>(train);
        overlap.retainAll(validation);
        assertThat(overlap).isEmpty();
        List<Long> union = new ArrayList<>(train);
        union.addAll(validation);
        assertThat(union).containsExactlyInAnyOrderElementsOf(all);
        Set<Long> trainSentences = new HashSet<>();
        train.forEach(k -> trainSentences.add(k / 1000));
        validation.forEach(k -> assertThat(trainSentences).doesNotContain(k / 1000));
        assertThat(dataset.rows(ActivationSplit.VALIDATION, 0.2)).isEqualTo(validation.size());
    }

    @Test
    void theSplitDoesNotDependOnSeedOrShuffle() throws IOException {
        Set<Long> sequential = new HashSet<>(keys(read(new ActivationReadOptions(ActivationSplit.VALIDATION, 0.25, false,
                0, 1, false, null), 64, Integer.MAX_VALUE)));
        for (long seed : new long[] {1, 99}) {
            Set<Long> shuffled = new HashSet<>(keys(read(new ActivationReadOptions(ActivationSplit.VALIDATION, 0.25,
                    true, seed, 100, false, null), 64, Integer.MAX_VALUE)));
            assertThat(shuffled).isEqualTo(sequential);
        }
    }

    @Test
    void tinyAndHugeFractionsStillLeaveAChunkOnEachSide() {
        List<String> names = List.of("shard-000000.arrow", "shard-000001.arrow");
        List<int[]> rows = List.of(new int[] {10, 10, 10}, new int[] {10, 10});
        boolean[][] tiny = ReadPlan.validationChunks(names, rows, 1e-12);
        boolean[][] huge = ReadPlan.validationChunks(names, rows, 1 - 1e-12);
        assertThat(count(tiny)).isEqualTo(1);
        assertThat(count(huge)).isEqualTo(4);
        assertThat(count(ReadPlan.validationChunks(names, rows, 0))).isZero();
        assertThat(count(ReadPlan.validationChunks(List.of("a.arrow"), List.of(new int[] {5}), 0.9)))
                .as("a single chunk trains").isZero();
    }

    private static int count(boolean[][] v) {
        int n = 0;
        for (boolean[] row : v) {
            for (boolean b : row) {
                n += b ? 1 : 0;
            }
        }
        return n;
    }

    @Test
    void anEmptySplitEndsAtOnceOrRefusesToRepeat() throws IOException {
        assertThat(read(new ActivationReadOptions(ActivationSplit.VALIDATION, 0, false, 0, 1, false, null), 10, 100)
                .count()).isZero();
        assertThatThrownBy(() -> dataset.open(new ActivationReadOptions(ActivationSplit.VALIDATION, 0, true, 0, 1, true,
                null))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("VALIDATION split")
                .hasMessageContaining("empty");
    }

    @Test
    void shuffledIsAPermutationOfTheSplitThatDependsOnlyOnTheSeed() throws IOException {
        TestShards.Rows a = read(shuffled(1, 200, false), 50, Integer.MAX_VALUE);
        TestShards.Rows again = read(shuffled(1, 200, false), 77, Integer.MAX_VALUE);
        TestShards.Rows b = read(shuffled(2, 200, false), 50, Integer.MAX_VALUE);
        assertThat(keys(a)).containsExactlyInAnyOrderElementsOf(keys(read(ActivationReadOptions.sequential(), 50,
                Integer.MAX_VALUE)));
        assertThat(keys(a)).doesNotContainSequence(keys(read(ActivationReadOptions.sequential(), 50, 30)));
        assertBitwiseEqual(a, again);
        assertThat(keys(b)).containsExactlyInAnyOrderElementsOf(keys(a)).isNotEqualTo(keys(a));
        // Values travel with their provenance.
        Map<Long, float[]> expected = writtenRows();
        List<Long> k = keys(a);
        for (int i = 0; i < a.count(); i++) {
            assertThat(a.row(i)).isEqualTo(expected.get(k.get(i)));
        }
    }

    @Test
    void eachEpochIsANewPermutation() throws IOException {
        TestShards.Rows rows = read(shuffled(5, 150, true), 64, 2 * data.rows());
        List<Long> k = keys(rows);
        List<Long> first = k.subList(0, data.rows());
        List<Long> second = k.subList(data.rows(), 2 * data.rows());
        assertThat(second).containsExactlyInAnyOrderElementsOf(first).isNotEqualTo(first);
    }

    @Test
    void prefetchingDoesNotChangeTheOrder() throws IOException {
        TestShards.Rows prefetched = read(shuffled(3, 120, true), 41, 3 * data.rows() / 2);
        try (ActivationStream s = dataset.open(shuffled(3, 120, true), false)) {
            assertBitwiseEqual(TestShards.read(s, 6, 41, 3 * data.rows() / 2), prefetched);
        }
    }

    @Test
    void resumingFromACursorGivesExactlyTheRowsThatComeNext() throws IOException {
        for (ActivationReadOptions options : List.of(
                new ActivationReadOptions(ActivationSplit.ALL, 0, false, 0, 1, true, null),
                new ActivationReadOptions(ActivationSplit.TRAIN, 0.2, false, 0, 1, false, null),
                new ActivationReadOptions(ActivationSplit.TRAIN, 0.2, true, 8, 170, true, null),
                shuffled(9, 64, false))) {
            int total = (int) (options.repeat() ? 2.5 * data.rows() : data.rows());
            // Row by row, remembering the cursor before each row.
            List<String> cursors = new ArrayList<>();
            TestShards.Rows uninterrupted;
            try (ActivationStream s = dataset.open(options)) {
                ActivationBatch one = new ActivationBatch(1, 6);
                cursors.add(s.cursor());
                int n = 0;
                while (n < total && s.next(one)) {
                    cursors.add(s.cursor());
                    n++;
                }
            }
            uninterrupted = read(options, 53, total);
            assertThat(cursors).hasSize(uninterrupted.count() + 1);

            // Resume at every window start (and so at every epoch boundary), and at a few rows inside windows.
            List<Integer> at = new ArrayList<>();
            for (int i = 0; i < cursors.size(); i++) {
                if (cursors.get(i).contains(":row=0:") || i % 211 == 5) {
                    at.add(i);
                }
            }
            assertThat(at).hasSizeGreaterThan(10);
            for (int i : at) {
                int wanted = Math.min(90, uninterrupted.count() - i);
                try (ActivationStream resumed = dataset.open(options.withResumeCursor(cursors.get(i)))) {
                    TestShards.Rows next = TestShards.read(resumed, 6, 31, wanted);
                    TestShards.Rows expected = slice(uninterrupted, i, wanted);
                    assertBitwiseEqual(next, expected);
                }
            }
        }
    }

    private static TestShards.Rows slice(TestShards.Rows r, int from, int n) {
        return new TestShards.Rows(n, 6, Arrays.copyOfRange(r.values(), from * 6, (from + n) * 6),
                Arrays.copyOfRange(r.sentenceIds(), from, from + n), Arrays.copyOfRange(r.positions(), from, from + n),
                Arrays.copyOfRange(r.tokenIds(), from, from + n));
    }

    @Test
    void aCursorTakenAtTheEndResumesToAnEndedStream() throws IOException {
        ActivationReadOptions options = shuffled(4, 100, false);
        String end;
        try (ActivationStream s = dataset.open(options)) {
            TestShards.read(s, 6, 100, Integer.MAX_VALUE);
            end = s.cursor();
        }
        assertThat(end).startsWith("v1:epoch=1:window=0:row=0:plan=");
        assertThat(read(options.withResumeCursor(end), 10, 100).count()).isZero();
    }

    @Test
    void cursorsThatDoNotFitAreRejectedClearly() throws IOException {
        ActivationReadOptions options = shuffled(4, 100, true);
        String cursor;
        try (ActivationStream s = dataset.open(options)) {
            s.next(new ActivationBatch(10, 6));
            cursor = s.cursor();
        }
        assertThat(cursor).matches("v1:epoch=0:window=0:row=10:plan=[0-9a-f]{16}");
        assertThatThrownBy(() -> dataset.open(options.withResumeCursor("epoch 3")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is not an sae4j activation cursor");
        assertThatThrownBy(() -> dataset.open(shuffled(5, 100, true).withResumeCursor(cursor)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("another dataset or other read options");
        assertThatThrownBy(() -> dataset.open(options.withSplit(ActivationSplit.TRAIN).withResumeCursor(cursor)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("another dataset or other read options");
        String farWindow = cursor.replace("window=0", "window=999");
        assertThatThrownBy(() -> dataset.open(options.withResumeCursor(farWindow)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("window 999 of epoch 0");
        String farRow = cursor.replace("row=10", "row=99999");
        assertThatThrownBy(() -> dataset.open(options.withResumeCursor(farRow)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("row 99999");
    }

    @Test
    void aWindowNeverExceedsTheWindowSizePlusOneChunk() throws IOException {
        int windowRows = 150;
        int maxChunk = 0;
        for (Path shard : dataset.shards()) {
            try (ActivationShardReader r = ActivationShardReader.open(shard)) {
                for (int b = 0; b < r.batchCount(); b++) {
                    maxChunk = Math.max(maxChunk, r.batchRows(b));
                }
            }
        }
        try (ActivationStream s = dataset.open(shuffled(6, windowRows, true))) {
            TestShards.read(s, 6, 64, 3 * data.rows());
            ShardActivationStream stream = (ShardActivationStream) s;
            assertThat(stream.largestWindowRows()).isGreaterThanOrEqualTo(windowRows)
                    .isLessThan(windowRows + maxChunk);
            assertThat(stream.bufferRows()).isLessThan(windowRows + maxChunk);
        }
        ReadPlan plan = dataset.plan(shuffled(6, windowRows, true));
        for (long epoch = 0; epoch < 3; epoch++) {
            List<ReadPlan.Window> windows = plan.windows(epoch);
            for (int w = 0; w < windows.size(); w++) {
                assertThat(windows.get(w).rows()).isLessThan(windowRows + maxChunk);
                if (w < windows.size() - 1) {
                    assertThat(windows.get(w).rows()).as("only the last window may be short").isGreaterThanOrEqualTo(windowRows);
                }
            }
        }
    }

    @Test
    void streamsAreIndependentAndClosedWithTheDataset() throws IOException {
        ActivationDataset ds = ActivationDataset.open(data.directory());
        ActivationStream a = ds.open(ActivationReadOptions.sequential());
        ActivationStream b = ds.open(ActivationReadOptions.sequential());
        ActivationBatch batch = new ActivationBatch(10, 6);
        a.next(batch);
        a.next(batch);
        b.next(batch);
        assertThat(batch.sentenceIds()[0]).isEqualTo(data.sentenceIds()[0]);
        assertThatThrownBy(() -> a.next(new ActivationBatch(10, 7))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("d_model 7");
        ds.close();
        assertThatThrownBy(() -> a.next(batch)).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> ds.open(ActivationReadOptions.sequential())).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aSingleShardOpensOnItsOwn() throws IOException {
        try (ActivationDataset one = ActivationDataset.open(dataset.shards().get(1))) {
            assertThat(one.shards()).containsExactly(dataset.shards().get(1));
            TestShards.Rows rows;
            try (ActivationStream s = one.open(ActivationReadOptions.sequential())) {
                rows = TestShards.read(s, 6, 100, Integer.MAX_VALUE);
            }
            assertThat((long) rows.count()).isEqualTo(one.rows());
            long start;
            try (ActivationShardReader first = ActivationShardReader.open(dataset.shards().getFirst())) {
                start = first.rows();
            }
            assertThat(rows.sentenceIds()[0]).isEqualTo(data.sentenceIds()[(int) start]);
        }
    }
}
