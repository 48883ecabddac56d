package io.github.sae4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.sae4j.core.io.Safetensors;
import io.github.sae4j.core.train.TrainingCheckpoint;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} in the middle of training, then {@code train --resume}: the run continues from the last complete
 * checkpoint and ends with the same weights, bit for bit, as a run that was never interrupted.
 */
class KillAndResumeTest {

    private static List<String> trainArgs(Path data, Path out) {
        return List.of("train", "--data", data.toString(), "--out", out.toString(), "--latents", "256", "-k", "4",
                "--batch-size", "512", "--steps", "600", "--lr", "3e-3", "--checkpoint-every", "25",
                "--validation-every", "300", "--dead-tokens", "10000", "--aux-k", "64", "--seed", "9", "--quiet",
                "--backend-option", "threads=1");
    }

    @Test
    void killNineThenResumeEndsWithTheUninterruptedWeights(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("acts");
        assertThat(CliRun.of("synth", "--out", data.toString(), "--rows", "60000", "--d-model", "48", "--features",
                "128").exitCode()).isZero();

        Path killed = dir.resolve("killed");
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--") || a.startsWith("-D") || a.startsWith("-Xmx")).toList());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Sae4j.class.getName());
        command.addAll(trainArgs(data, killed));
        Process child = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("child.log").toFile()).start();

        // Wait for a checkpoint beyond the first, then kill -9: likely while another is being written.
        Path checkpoints = killed.resolve("checkpoints");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (TrainingCheckpoint.list(checkpoints).size() < 2 && child.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(child.isAlive()).as("the child is still training: " + Files.readString(dir.resolve("child.log")))
                .isTrue();
        child.destroyForcibly();
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).as("killed by SIGKILL").isEqualTo(137);
        assertThat(killed.resolve("sae")).as("the killed run never finished").doesNotExist();
        long killedAt = TrainingCheckpoint.readState(TrainingCheckpoint.latest(checkpoints).orElseThrow()).step();
        assertThat(killedAt).isLessThan(600);

        CliRun resumed = CliRun.of("train", "--resume", "--out", killed.toString());
        assertThat(resumed.exitCode()).as(resumed.toString()).isZero();
        assertThat(resumed.out()).contains("resuming from");

        Path straight = dir.resolve("straight");
        CliRun uninterrupted = CliRun.of(trainArgs(data, straight).toArray(String[]::new));
        assertThat(uninterrupted.exitCode()).as(uninterrupted.toString()).isZero();

        try (Safetensors.Reader a = Safetensors.open(straight.resolve("sae/sae.safetensors"));
             Safetensors.Reader b = Safetensors.open(killed.resolve("sae/sae.safetensors"))) {
            for (String name : List.of("W_enc", "W_dec", "b_enc", "b_dec")) {
                assertThat(Arrays.equals(a.readF32(name), b.readF32(name)))
                        .as("%s after kill -9 at about step %d and resume equals the uninterrupted run", name, killedAt)
                        .isTrue();
            }
        }
        try (var left = Files.list(checkpoints)) {
            assertThat(left.map(p -> p.getFileName().toString()).filter(n -> n.contains(".partial")).toList())
                    .as("temporary checkpoint directories are cleaned up").isEmpty();
        }
    }
}
