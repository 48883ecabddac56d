package io.github.sae4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.sae4j.core.store.ActivationDType;
import io.github.sae4j.core.store.ActivationDatasetWriter;
import io.github.sae4j.core.store.DatasetHeader;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input gives a clear error that names the file and the fix, exit code 1, and no half-written output. */
class CliBadInputTest {

    @TempDir
    static Path shared;

    static Path data;

    @BeforeAll
    static void writeData() {
        data = shared.resolve("acts");
        CliRun synth = CliRun.of("synth", "--out", data.toString(), "--rows", "20000", "--d-model", "16", "--features",
                "48");
        assertThat(synth.exitCode()).as(synth.toString()).isZero();
    }

    private static String[] train(Path acts, Path out, String... more) {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("train", "--data", acts.toString(),
                "--out", out.toString(), "--latents", "64", "--batch-size", "128", "--steps", "20", "--quiet"));
        if (!Arrays.asList(more).contains("-k")) {
            args.addAll(java.util.List.of("-k", "4"));
        }
        args.addAll(Arrays.asList(more));
        return args.toArray(String[]::new);
    }

    @Test
    void impossibleSettingsFailBeforeAnythingIsWritten(@TempDir Path dir) {
        Path run = dir.resolve("run");
        CliRun tooLargeK = CliRun.of(train(data, run, "-k", "65"));
        assertThat(tooLargeK.exitCode()).isEqualTo(1);
        assertThat(tooLargeK.err()).contains("k=65").contains("64 latents");
        CliRun negativeRate = CliRun.of(train(data, run, "--lr", "-0.1"));
        assertThat(negativeRate.err()).contains("learning_rate=-0.1").contains("positive");
        CliRun unknownBackend = CliRun.of(train(data, run, "--backend", "tpu"));
        assertThat(unknownBackend.err()).contains("No backend named 'tpu' is installed").contains("Installed backends:")
                .contains("java");
        if (!Files.exists(Path.of("/dev/nvidia0"))) {
            CliRun noGpu = CliRun.of(train(data, run, "--backend", "cuda"));
            assertThat(noGpu.exitCode()).isEqualTo(1);
            assertThat(noGpu.err()).contains("backend 'cuda' cannot run here").contains("use --backend java");
        }
        CliRun unknownArch = CliRun.of(train(data, run, "--arch", "jumprelu"));
        assertThat(unknownArch.err()).contains("No SAE architecture named 'jumprelu'").contains("relu, stack, topk");
        CliRun missingData = CliRun.of(train(dir.resolve("nowhere"), run));
        assertThat(missingData.err()).contains("nowhere").contains("sae4j synth");
        assertThat(run).as("no run directory for a run that could not start").doesNotExist();
    }

    @Test
    void badDeviceListsFailBeforeAnythingIsWritten(@TempDir Path dir) {
        Path run = dir.resolve("run");
        CliRun missing = CliRun.of(train(data, run, "--devices", "0,1"));
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.err()).contains("has no device 1").contains("0: CPU").contains("devices=N");
        CliRun twice = CliRun.of(train(data, run, "--devices", "0,1,1", "--backend-option", "devices=3"));
        assertThat(twice.err()).contains("devices=[0, 1, 1]").contains("device 1 is listed twice");
        CliRun both = CliRun.of(train(data, run, "--device", "1", "--devices", "0,1"));
        assertThat(both.err()).contains("--device").contains("--devices").contains("not both");
        CliRun smallBatch = CliRun.of("train", "--data", data.toString(), "--out", run.toString(), "--latents", "64",
                "-k", "4", "--batch-size", "1", "--steps", "2", "--devices", "0,1", "--backend-option", "devices=2");
        assertThat(smallBatch.err()).contains("batch_size=1").contains("number of devices (2");
        assertThat(run).as("no run directory for a run that could not start").doesNotExist();
    }

    @Test
    void twoLogicalDevicesTrainAndAreRecordedForResume(@TempDir Path dir) throws IOException {
        Path run = dir.resolve("run");
        CliRun trained = CliRun.of(train(data, run, "--devices", "0,1", "--backend-option", "devices=2",
                "--backend-option", "threads=2"));
        assertThat(trained.exitCode()).as(trained.toString()).isZero();
        assertThat(Files.readString(run.resolve("train-config.json"))).contains("\"devices\" : [ 0, 1 ]");
        assertThat(run.resolve("sae").resolve("sae.safetensors")).exists();
    }

    @Test
    void aTruncatedShardIsNamed(@TempDir Path dir) throws IOException {
        Path copy = dir.resolve("acts");
        Files.createDirectories(copy);
        try (var files = Files.list(data)) {
            for (Path f : files.toList()) {
                Files.copy(f, copy.resolve(f.getFileName()));
            }
        }
        Path shard = copy.resolve("shard-000000.arrow");
        try (RandomAccessFile f = new RandomAccessFile(shard.toFile(), "rw")) {
            f.setLength(f.length() - 1000);
        }
        CliRun run = CliRun.of(train(copy, dir.resolve("run")));
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("shard-000000.arrow");
        assertThat(dir.resolve("run")).doesNotExist();
    }

    @Test
    void nanInActivationsNamesTheShardAndRow(@TempDir Path dir) throws IOException {
        Path acts = dir.resolve("acts");
        float marker = 1.2345678f;
        try (ActivationDatasetWriter w = ActivationDatasetWriter.create(acts,
                new DatasetHeader(8, ActivationDType.F32, "m", "h", Map.of()), 100_000, 512)) {
            float[] v = new float[4096 * 8];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) Math.sin(i);
            }
            v[3000 * 8 + 5] = marker;
            w.append(v, 0, 4096, new long[4096], new int[4096], new int[4096]);
        }
        Path shard = acts.resolve("shard-000000.arrow");
        byte[] bytes = Files.readAllBytes(shard);
        int bits = Float.floatToRawIntBits(marker);
        byte[] pattern = {(byte) bits, (byte) (bits >> 8), (byte) (bits >> 16), (byte) (bits >> 24)};
        int at = io.github.sae4j.core.store.TestShards.indexOf(bytes, pattern, 0);
        assertThat(at).as("marker found").isPositive();
        int nan = Float.floatToRawIntBits(Float.NaN);
        bytes[at] = (byte) nan;
        bytes[at + 1] = (byte) (nan >> 8);
        bytes[at + 2] = (byte) (nan >> 16);
        bytes[at + 3] = (byte) (nan >> 24);
        Files.write(shard, bytes);

        CliRun run = CliRun.of("train", "--data", acts.toString(), "--out", dir.resolve("run").toString(), "--latents",
                "32", "-k", "2", "--batch-size", "256", "--steps", "40", "--quiet", "--validation-fraction", "0");
        assertThat(run.exitCode()).as(run.toString()).isEqualTo(1);
        assertThat(run.err()).contains("shard-000000.arrow").contains("row 3000").contains("dimension 5");
    }

    @Test
    void anSaeIsNotEvaluatedOnActivationsOfAnotherWidth(@TempDir Path dir) {
        Path run = dir.resolve("run");
        assertThat(CliRun.of(train(data, run)).exitCode()).isZero();
        Path other = dir.resolve("wide");
        assertThat(CliRun.of("synth", "--out", other.toString(), "--rows", "5000", "--d-model", "24").exitCode()).isZero();
        CliRun eval = CliRun.of("eval", "--sae", run.resolve("sae").toString(), "--data", other.toString());
        assertThat(eval.exitCode()).isEqualTo(1);
        assertThat(eval.err()).contains("reads d_in=16").contains("d_model=24");
    }

    @Test
    void resumeKeepsTheSavedSettings(@TempDir Path dir) {
        Path run = dir.resolve("run");
        CliRun resumeNothing = CliRun.of("train", "--resume", "--out", run.toString());
        assertThat(resumeNothing.err()).contains("holds no run");
        assertThat(CliRun.of(train(data, run)).exitCode()).isZero();
        CliRun again = CliRun.of(train(data, run));
        assertThat(again.err()).contains("already holds a run").contains("--resume");
        CliRun withSettings = CliRun.of("train", "--resume", "--out", run.toString(), "--lr", "0.1");
        assertThat(withSettings.err()).contains("--resume continues with the settings saved").contains("--lr");
        CliRun finished = CliRun.of("train", "--resume", "--out", run.toString(), "--quiet");
        assertThat(finished.exitCode()).as(finished.toString()).isZero();
    }

    @Test
    void infoOnSomethingUnknownSaysWhatItReads(@TempDir Path dir) throws IOException {
        Path text = dir.resolve("notes.txt");
        Files.writeString(text, "hello");
        CliRun info = CliRun.of("info", text.toString());
        assertThat(info.exitCode()).isEqualTo(1);
        assertThat(info.err()).contains("notes.txt").contains(".arrow shards");
        assertThat(CliRun.of("info", dir.resolve("missing").toString()).err()).contains("no such file");
    }

    @org.junit.jupiter.api.Test
    void everyCommandPrintsItsHelpWithoutComplainingAboutRequiredOptions() {
        for (String command : java.util.List.of("sentences", "capture", "train", "eval", "generate", "chat", "info",
                "synth", "bench", "demo", "plugins")) {
            CliRun run = CliRun.of(command, "--help");
            org.assertj.core.api.Assertions.assertThat(run.exitCode()).as(command + ": " + run).isZero();
            org.assertj.core.api.Assertions.assertThat(run.out()).as(command).contains("Usage: sae4j " + command);
            org.assertj.core.api.Assertions.assertThat(run.err()).as(command).doesNotContain("Missing required");
        }
    }
}

