package io.github.sae4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.sae4j.api.activation.ActivationBatch;
import io.github.sae4j.api.activation.ActivationReadOptions;
import io.github.sae4j.api.activation.ActivationStream;
import io.github.sae4j.core.store.ActivationDataset;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sae4j capture} on the embedded model and the demo corpus: datasets per hook point, and a capture killed
 * with {@code kill -9} that, run again, ends with exactly the rows of an uninterrupted one.
 */
class CaptureCommandTest {

    static final String HOOK = "blocks.3.hook_resid_post";

    @TempDir
    Path dir;

    private static List<String> captureArgs(Path out) {
        // Small shards (1 MB: 2,048 rows of 256 bf16 values) and short forwards, so there are many commit points.
        return List.of("capture", "--sentences", SentencesCommandTest.demoCorpus().toString(), "--hook", HOOK,
                "--out", out.toString(), "--max-sentences", "900", "--shard-mb", "1", "--forward-tokens", "512",
                "--threads", "1");
    }

    /** (sentence, position, token) of every row in stored order, and each row's first value. */
    private static List<String> rows(Path dataset, List<Float> firstValues) throws IOException {
        List<String> out = new ArrayList<>();
        try (ActivationDataset d = ActivationDataset.open(dataset);
             ActivationStream s = d.open(ActivationReadOptions.sequential())) {
            ActivationBatch b = new ActivationBatch(4096, d.header().dModel());
            while (s.next(b)) {
                for (int r = 0; r < b.rows(); r++) {
                    out.add(b.sentenceIds()[r] + "/" + b.positions()[r] + "/" + b.tokenIds()[r]);
                    firstValues.add(b.values()[r * b.dModel()]);
                }
            }
        }
        return out;
    }

    @Test
    void killNineThenRunAgainEndsWithTheRowsOfAnUninterruptedCapture() throws Exception {
        Path killed = dir.resolve("killed");
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--") || a.startsWith("-D") || a.startsWith("-Xmx")).toList());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Sae4j.class.getName());
        command.addAll(captureArgs(killed));
        Process child = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("child.log").toFile()).start();

        Path dataset = killed.resolve(HOOK);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (shards(dataset) < 3 && child.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(child.isAlive()).as("the child is still capturing: " + Files.readString(dir.resolve("child.log")))
                .isTrue();
        child.destroyForcibly();
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).as("killed by SIGKILL").isEqualTo(137);
        assertThat(Files.readString(killed.resolve("capture.json"))).contains("\"complete\" : false");

        CliRun again = CliRun.of(captureArgs(killed).toArray(String[]::new));
        assertThat(again.exitCode()).as(again.toString()).isZero();
        assertThat(again.out()).contains("continued after sentence");

        Path straight = dir.resolve("straight");
        CliRun uninterrupted = CliRun.of(captureArgs(straight).toArray(String[]::new));
        assertThat(uninterrupted.exitCode()).as(uninterrupted.toString()).isZero();

        List<Float> va = new ArrayList<>();
        List<Float> vb = new ArrayList<>();
        List<String> a = rows(straight.resolve(HOOK), va);
        List<String> b = rows(dataset, vb);
        assertThat(a).hasSizeGreaterThan(10_000);
        assertThat(b).as("rows after kill -9 and a second run").isEqualTo(a);
        // Sentences packed into other forwards give the same values; allow one bfloat16 step for a forward of a
        // few rows, which takes the matrix-vector path.
        for (int i = 0; i < va.size(); i++) {
            assertThat(vb.get(i)).as("row %d", i).isCloseTo(va.get(i),
                    org.assertj.core.api.Assertions.within(0.01f * Math.max(1f, Math.abs(va.get(i)))));
        }
        assertThat(Files.readString(killed.resolve("capture.json"))).contains("\"complete\" : true");
        try (var left = Files.list(dataset)) {
            assertThat(left.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList()).isEmpty();
        }

        // The finished capture trains directly: the capture directory of one hook point stands for its dataset.
        CliRun train = CliRun.of("train", "--data", straight.toString(), "--out", dir.resolve("sae").toString(),
                "--latents", "512", "-k", "8", "--steps", "20", "--batch-size", "256", "--quiet",
                "--backend-option", "threads=1");
        assertThat(train.exitCode()).as(train.toString()).isZero();
        assertThat(train.out()).contains("d_in=256");
    }

    private static long shards(Path dataset) throws IOException {
        if (!Files.isDirectory(dataset)) {
            return 0;
        }
        try (var files = Files.list(dataset)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".arrow")).count();
        }
    }

    @Test
    void badHooksAndForeignDirectoriesAreRefusedBeforeAnythingIsWritten() throws IOException {
        CliRun badHook = CliRun.of("capture", "--sentences", SentencesCommandTest.demoCorpus().toString(), "--hook",
                "blocks.9.hook_resid_post", "--out", dir.resolve("x").toString());
        assertThat(badHook.exitCode()).isEqualTo(1);
        assertThat(badHook.err()).contains("blocks.9.hook_resid_post").contains("blocks 0..5");
        assertThat(dir.resolve("x")).doesNotExist();

        Path foreign = Files.createDirectories(dir.resolve("foreign"));
        Files.writeString(foreign.resolve("notes.txt"), "mine");
        CliRun notEmpty = CliRun.of("capture", "--sentences", SentencesCommandTest.demoCorpus().toString(), "--hook",
                HOOK, "--out", foreign.toString());
        assertThat(notEmpty.exitCode()).isEqualTo(1);
        assertThat(notEmpty.err()).contains("not empty");

        CliRun missing = CliRun.of("capture", "--sentences", dir.resolve("nope.parquet").toString(), "--hook", HOOK,
                "--out", dir.resolve("y").toString());
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.err()).contains("nope.parquet");
    }

    @Test
    void trainingRunsOnLiveActivationsWithNothingStored() throws IOException {
        Path spec = Files.writeString(dir.resolve("live.json"), """
                {
                  "format": "sae4j.live.v1",
                  "model": "%s",
                  "sentences": "%s",
                  "hook_point": "blocks.3.hook_resid_post",
                  "model_options": { "threads": "1" }
                }
                """.formatted(ModelOptions.embeddedModel().toString().replace("\\", "/"),
                SentencesCommandTest.demoCorpus().toString().replace("\\", "/")));
        CliRun train = CliRun.of("train", "--data", spec.toString(), "--out", dir.resolve("sae").toString(),
                "--latents", "512", "-k", "8", "--steps", "15", "--batch-size", "256", "--validation-fraction", "0",
                "--shuffle-window", "4096", "--quiet", "--backend-option", "threads=1");
        assertThat(train.exitCode()).as(train.toString()).isZero();
        assertThat(train.out()).contains("d_in=256").contains("trained 15 steps");
        assertThat(dir.resolve("sae/sae/cfg.json")).content().contains("blocks.3.hook_resid_post");
    }
}

