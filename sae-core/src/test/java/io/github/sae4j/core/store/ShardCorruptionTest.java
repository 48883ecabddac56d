package io.github.sae4j.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.sae4j.api.activation.ActivationReadOptions;
import io.github.sae4j.api.activation.ActivationSourceProvider;
import io.github.sae4j.api.activation.ActivationStream;
import io.github.sae4j.api.plugin.PluginRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Damaged shards give a ShardFormatException that names the file and the problem, never an Arrow internal error. */
class ShardCorruptionTest {

    @TempDir
    Path tmp;

    private TestShards.Written dataset(String name, ActivationDType dtype) throws IOException {
        return TestShards.write(tmp.resolve(name), 8, dtype, 60, 200, 40, 9);
    }

    private static void readEverything(Path path) throws IOException {
        try (ActivationDataset ds = ActivationDataset.open(path);
             ActivationStream s = ds.open(ActivationReadOptions.sequential())) {
            TestShards.read(s, ds.header().dModel(), 64, Integer.MAX_VALUE);
        }
    }

    private static void truncate(Path file, long cut) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, (int) (bytes.length - cut)));
    }

    private static void editSidecar(Path sidecar, String field, long value) throws IOException {
        ObjectNode o = (ObjectNode) Json.MAPPER.readTree(sidecar.toFile());
        o.put(field, value);
        Files.write(sidecar, Json.bytes(o));
    }

    @Test
    void truncatedShardIsCaughtByItsSidecarSize() throws IOException {
        TestShards.Written written = dataset("ds", ActivationDType.BF16);
        Path shard = written.directory().resolve("shard-000001.arrow");
        truncate(shard, 100);
        assertThatThrownBy(() -> ActivationDataset.open(written.directory()))
                .isInstanceOf(ShardFormatException.class)
                .hasMessageContaining("shard-000001.arrow").hasMessageContaining("truncated")
                .hasMessageContaining("re-create the dataset");
    }

    @Test
    void truncatedShardWithAMatchingSidecarIsCaughtByTheMagicBytes() throws IOException {
        TestShards.Written written = dataset("ds", ActivationDType.BF16);
        Path shard = written.directory().resolve("shard-000000.arrow");
        for (long cut : new long[] {1, 7, 300}) {
            Path copy = tmp.resolve("cut" + cut);
            Files.createDirectories(copy);
            Files.copy(shard, copy.resolve("shard-000000.arrow"));
            Files.copy(ShardFormat.sidecarOf(shard), copy.resolve("shard-000000.json"));
            truncate(copy.resolve("shard-000000.arrow"), cut);
            editSidecar(copy.resolve("shard-000000.json"), "file_size", Files.size(copy.resolve("shard-000000.arrow")));
            assertThatThrownBy(() -> ActivationShardReader.open(copy.resolve("shard-000000.arrow")))
                    .isInstanceOf(ShardFormatException.class)
                    .hasMessageContaining("shard-000000.arrow").hasMessageContaining("magic");
        }
    }

    @Test
    void garbageIsNotAShard() throws IOException {
        Path dir = tmp.resolve("garbage");
        Files.createDirectories(dir);
        byte[] junk = new byte[5000];
        new SplittableRandom(1).nextBytes(junk);
        Files.write(dir.resolve("shard-000000.arrow"), junk);
        TestShards.Written written = dataset("ds", ActivationDType.BF16);
        Files.copy(written.directory().resolve("shard-000000.json"), dir.resolve("shard-000000.json"));
        editSidecar(dir.resolve("shard-000000.json"), "file_size", junk.length);
        assertThatThrownBy(() -> ActivationDataset.open(dir))
                .isInstanceOf(ShardFormatException.class).hasMessageContaining("does not start with the Arrow IPC file magic");

        Files.writeString(dir.resolve("shard-000000.json"), "{ not json");
        assertThatThrownBy(() -> ActivationDataset.open(dir))
                .isInstanceOf(ShardFormatException.class).hasMessageContaining("shard-000000.json")
                .hasMessageContaining("not valid JSON");
    }

    @Test
    void aMissingSidecarIsNamed() throws IOException {
        TestShards.Written written = dataset("ds", ActivationDType.BF16);
        Files.delete(written.directory().resolve("shard-000001.json"));
        assertThatThrownBy(() -> ActivationDataset.open(written.directory()))
                .isInstanceOf(ShardFormatException.class)
                .hasMessageContaining("shard-000001.json").hasMessageContaining("is missing");
        assertThatThrownBy(() -> ActivationDataset.open(written.directory().resolve("shard-000001.arrow")))
                .isInstanceOf(ShardFormatException.class).hasMessageContaining("shard-000001.json");
    }

    @Test
    void aSidecarWithAnotherDModelIsRejected() throws IOException {
        TestShards.Written written = dataset("ds", ActivationDType.BF16);
        Path sidecar = written.directory().resolve("shard-000000.json");
        ObjectNode o = (ObjectNode) Json.MAPPER.readTree(sidecar.toFile());
        o.put("d_model", 9);
        ObjectNode stats = (ObjectNode) o.get("statistics");
        stats.set("mean", Json.array(new double[9]));
        stats.set("m2", Json.array(new double[9]));
        Files.write(sidecar, Json.bytes(o));
        assertThatThrownBy(() -> ActivationDataset.open(written.directory()))
                .isInstanceOf(ShardFormatException.class)
                .hasMessageContaining("shard-000000.arrow").hasMessageContaining("d_model 8")
                .hasMessageContaining("sidecar records 9");
    }

    @Test
    void aSidecarWithWrongBatchRowsIsRejected() throws IOException {
        TestShards.Written written = dataset("ds", ActivationDType.BF16);
        Path sidecar = written.directory().resolve("shard-000000.json");
        editSidecar(sidecar, "rows", 3);
        assertThatThrownBy(() -> ActivationDataset.open(written.directory()))
                .isInstanceOf(ShardFormatException.class).hasMessageContaining("'batch_rows' adds up to");
    }

    @Test
    void shardsOfDifferentDatasetsDoNotMix() throws IOException {
        TestShards.Written a = dataset("a", ActivationDType.BF16);
        DatasetHeader other = new DatasetHeader(8, ActivationDType.BF16, TestShards.MODEL, "blocks.9.hook_resid_post",
                Map.of());
        TestShards.Written b = TestShards.write(tmp.resolve("b"), other, 30, 24, 200, 40, 3);
        Path mixed = tmp.resolve("mixed");
        Files.createDirectories(mixed);
        Files.copy(a.directory().resolve("shard-000000.arrow"), mixed.resolve("shard-000000.arrow"));
        Files.copy(a.directory().resolve("shard-000000.json"), mixed.resolve("shard-000000.json"));
        Files.copy(b.directory().resolve("shard-000000.arrow"), mixed.resolve("shard-000001.arrow"));
        Files.copy(b.directory().resolve("shard-000000.json"), mixed.resolve("shard-000001.json"));
        ObjectNode o = (ObjectNode) Json.MAPPER.readTree(mixed.resolve("shard-000001.json").toFile());
        o.put("shard", "shard-000001.arrow");
        Files.write(mixed.resolve("shard-000001.json"), Json.bytes(o));
        assertThatThrownBy(() -> ActivationDataset.open(mixed))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("shard-000000.arrow").hasMessageContaining("shard-000001.arrow")
                .hasMessageContaining("hook_point").hasMessageContaining("blocks.9.hook_resid_post");
    }

    @Test
    void aRenamedShardIsCaughtByItsSidecar() throws IOException {
        TestShards.Written a = dataset("a", ActivationDType.BF16);
        Files.move(a.directory().resolve("shard-000001.arrow"), a.directory().resolve("shard-000007.arrow"));
        Files.move(a.directory().resolve("shard-000001.json"), a.directory().resolve("shard-000007.json"));
        Files.delete(a.directory().resolve("dataset.json"));
        assertThatThrownBy(() -> ActivationDataset.open(a.directory()))
                .isInstanceOf(ShardFormatException.class).hasMessageContaining("shard-000007.json")
                .hasMessageContaining("sits beside");
    }

    @Test
    void datasetJsonMustListTheShardsPresent() throws IOException {
        TestShards.Written a = dataset("a", ActivationDType.BF16);
        Path last = a.directory().resolve("shard-000001.arrow");
        Path aside = tmp.resolve("aside.arrow");
        Files.move(last, aside);
        assertThatThrownBy(() -> ActivationDataset.open(a.directory()))
                .isInstanceOf(ShardFormatException.class).hasMessageContaining("dataset.json")
                .hasMessageContaining("lists shard-000001.arrow");
        Files.move(aside, last);
        Files.copy(last, a.directory().resolve("shard-000099.arrow"), StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> ActivationDataset.open(a.directory()))
                .isInstanceOf(ShardFormatException.class).hasMessageContaining("does not list shard-000099.arrow");
    }

    @Test
    void nonFiniteValuesInACraftedShardAreReportedWithRowAndDimension() throws IOException {
        for (ActivationDType dtype : ActivationDType.values()) {
            Path dir = tmp.resolve("nan-" + dtype);
            DatasetHeader header = new DatasetHeader(4, dtype, "m", "h", Map.of());
            float marker = 1.5f;
            try (ActivationDatasetWriter w = ActivationDatasetWriter.create(dir, header, 100, 8)) {
                float[] v = new float[20 * 4];
                java.util.Arrays.fill(v, 0.5f);
                v[13 * 4 + 2] = marker;
                w.append(v, 0, 20, new long[20], new int[20], new int[20]);
            }
            // Overwrite the one marker value with NaN bits in place: same size, so the sidecar still matches.
            Path shard = dir.resolve("shard-000000.arrow");
            byte[] bytes = Files.readAllBytes(shard);
            byte[] pattern = dtype == ActivationDType.BF16 ? new byte[] {(byte) 0xC0, 0x3F} : new byte[] {0, 0, (byte) 0xC0, 0x3F};
            byte[] nan = dtype == ActivationDType.BF16 ? new byte[] {(byte) 0xC0, 0x7F} : new byte[] {0, 0, (byte) 0xC0, 0x7F};
            int at = TestShards.indexOf(bytes, pattern, 0);
            assertThat(at).as("marker found").isPositive();
            assertThat(TestShards.indexOf(bytes, pattern, at + 1)).as("marker unique").isNegative();
            System.arraycopy(nan, 0, bytes, at, nan.length);
            Files.write(shard, bytes);

            try (ActivationShardReader r = ActivationShardReader.open(shard)) {
                assertThat(r.batchRows(1)).isEqualTo(8);
                r.readBatch(0, new float[8 * 4], new long[8], new int[8], new int[8], 0);
                assertThatThrownBy(() -> r.readBatch(1, new float[8 * 4], new long[8], new int[8], new int[8], 0))
                        .isInstanceOf(ShardFormatException.class)
                        .hasMessageContaining("shard-000000.arrow").hasMessageContaining("row 13")
                        .hasMessageContaining("dimension 2").hasMessageContaining("not finite");
            }
            assertThatThrownBy(() -> readEverything(dir)).isInstanceOf(ShardFormatException.class)
                    .hasMessageContaining("row 13").hasMessageContaining("dimension 2");
        }
    }

    /**
     * Flips random bytes (the sidecar still matching the size) and reads everything: the only acceptable outcomes
     * are a clean read (a changed value) or a ShardFormatException. For a longer run add -Dsae4j.fuzzTrials=20000 to
     * the JVM flags: {@code ./mvnw -pl sae-core test -Dtest=ShardCorruptionTest "-Dsae4j.jvm.flags=... -Dsae4j.fuzzTrials=20000"}.
     */
    @Test
    void randomByteDamageGivesShardFormatExceptionOrAValidRead() throws IOException {
        TestShards.Written written = TestShards.write(tmp.resolve("ds"), 4, ActivationDType.BF16, 20, 1000, 16, 4);
        Path shard = written.directory().resolve("shard-000000.arrow");
        byte[] original = Files.readAllBytes(shard);
        Path dir = tmp.resolve("damaged");
        Files.createDirectories(dir);
        Files.copy(ShardFormat.sidecarOf(shard), dir.resolve("shard-000000.json"));
        SplittableRandom random = new SplittableRandom(17);
        int failures = 0;
        for (int trial = 0; trial < Integer.getInteger("sae4j.fuzzTrials", 400); trial++) {
            byte[] bytes = original.clone();
            int flips = 1 + random.nextInt(3);
            for (int f = 0; f < flips; f++) {
                bytes[random.nextInt(bytes.length)] ^= (byte) (1 + random.nextInt(255));
            }
            Files.write(dir.resolve("shard-000000.arrow"), bytes);
            try {
                readEverything(dir);
            } catch (ShardFormatException e) {
                failures++;
                assertThat(e.getMessage()).contains("shard-000000.arrow");
            } catch (Throwable t) {
                fail("trial " + trial + ": expected a ShardFormatException but got " + t, t);
            }
        }
        assertThat(failures).as("most damage is detected").isGreaterThan(50);
    }

    @Test
    void theProviderIsRegisteredAndRecognisesShards() throws IOException {
        TestShards.Written written = dataset("ds", ActivationDType.BF16);
        ActivationSourceProvider provider = PluginRegistry.load(ActivationSourceProvider.class, "activation source")
                .get("arrow-shards");
        assertThat(provider).isInstanceOf(ArrowShardSourceProvider.class);
        assertThat(provider.canOpen(written.directory())).isTrue();
        assertThat(provider.canOpen(written.directory().resolve("shard-000000.arrow"))).isTrue();
        assertThat(provider.canOpen(written.directory().resolve("shard-000000.json"))).isFalse();
        assertThat(provider.canOpen(tmp.resolve("nowhere"))).isFalse();
        Files.createDirectories(tmp.resolve("empty"));
        assertThat(provider.canOpen(tmp.resolve("empty"))).isFalse();
        try (var source = provider.open(written.directory())) {
            assertThat(source.info().dModel()).isEqualTo(8);
            assertThat(source.info().tokens()).isEqualTo(written.rows());
            assertThat(source.info().hookPoint()).isEqualTo(TestShards.HOOK_POINT);
            assertThat(source.info().metadata()).containsEntry("dtype", "bfloat16").containsEntry("layer", "0");
        }
        assertThatThrownBy(() -> provider.open(tmp.resolve("empty"))).isInstanceOf(IOException.class)
                .hasMessageContaining("holds no activation shards");
    }
}
