package io.github.sae4j.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.sae4j.api.metrics.MetricsRecord;
import io.github.sae4j.api.sae.TrainingStepResult;
import io.github.sae4j.core.metrics.JsonlMetricsSink;
import io.github.sae4j.core.store.ActivationDType;
import io.github.sae4j.core.synth.SyntheticConfig;
import io.github.sae4j.core.synth.SyntheticDatasetWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Whole runs with the latents split over logical devices of the java backend, against one device. */
class LatentShardedTrainingTest {

    @TempDir
    static Path shared;

    static Path data;

    /** 32-dimensional rows from 128 unit features, about 3 active per row. */
    @BeforeAll
    static void writeData() throws IOException {
        data = shared.resolve("acts");
        SyntheticDatasetWriter.write(new SyntheticConfig(32, 128, 3, 0.3, 0.5, 1.5, 0.01, 1.0, 40_000, 64, 5),
                data, ActivationDType.BF16, 16_384, n -> { });
    }

    static TrainerConfig.Builder base() {
        return TrainerConfig.builder().data(data.toString()).architecture("topk").setting("k", 4).latents(130)
                .batchSize(256).learningRate(2e-3).validationFraction(0.05).validationEvery(20)
                .validationTokens(1024).checkpointEvery(25).logEvery(5).shuffleWindowRows(8192)
                .deadTokens(2_000).auxK(16).seed(3).steps(60).backendOptions(Map.of("threads", "3", "devices", "3"));
    }

    static TrainerConfig sharded(TrainerConfig.Builder b, int devices) {
        return b.devices(devices == 2 ? List.of(0, 1) : List.of(0, 1, 2)).shardLatents(true).build();
    }

    /**
     * The same run on one device and with 130 latents split 44/43/43 over three: every step selects the same
     * latents, and the loss and gradients differ by float summation order only (see LatentShardingTest), which AdamW
     * carries on. After 60 steps the weights agree to 3e-7 of the largest and the loss curves to 2e-8 (observed);
     * 1e-4 leaves room for the rounding to grow elsewhere and is far below what a wrong latent or a lost slice gives
     * (1e-2 and more).
     */
    @Test
    void aShardedRunEndsWithTheWeightsOfTheUnshardedRun(@TempDir Path one, @TempDir Path three) throws IOException {
        Trainer.start(base().build(), one, null).run(DataParallelTrainingTest.jsonl());
        Trainer.start(sharded(base(), 3), three, null).run(DataParallelTrainingTest.jsonl());

        Map<String, float[]> a = DataParallelTrainingTest.weights(one);
        Map<String, float[]> b = DataParallelTrainingTest.weights(three);
        for (String name : a.keySet()) {
            double d = DataParallelTrainingTest.relativeDifference(a.get(name), b.get(name));
            System.out.printf("topk %s: 1 device vs latents on 3 differ by %.2g of the largest weight%n", name, d);
            assertThat(d).as("%s sharded over 3 devices vs 1, relative to the largest", name).isLessThan(1e-4);
        }
        double curve = DataParallelTrainingTest.relativeDifference(DataParallelTrainingTest.trainLosses(one),
                DataParallelTrainingTest.trainLosses(three));
        System.out.printf("topk: loss curves differ by %.2g (relative)%n", curve);
        assertThat(curve).as("train loss curve, relative").isLessThan(1e-4);
        assertThat(Files.readString(three.resolve(Trainer.CONFIG_FILE))).contains("\"shard_latents\" : true");
        assertThat(Files.readString(one.resolve(Trainer.CONFIG_FILE))).doesNotContain("shard_latents");
    }

    private record CrashAt(long step) implements Trainer.Listener {
        @Override
        public void onStep(long s, TrainingStepResult result, double learningRate, double deadFraction) {
            if (s == step) {
                throw new IllegalStateException("simulated crash at step " + s);
            }
        }
    }

    @Test
    void aResumedShardedRunEndsBitIdenticalToAnUninterruptedOne(@TempDir Path straight, @TempDir Path interrupted)
            throws IOException {
        // Many latents, a large learning rate and a short dead threshold: latents die, so the sharded AuxK runs.
        TrainerConfig config = sharded(base().latents(512).learningRate(3e-2).deadTokens(768), 2);
        Trainer.start(config, straight, null).run(DataParallelTrainingTest.jsonl());
        assertThatThrownBy(() -> Trainer.start(config, interrupted, new CrashAt(37)).run(DataParallelTrainingTest.jsonl()))
                .hasMessageContaining("simulated crash");
        Trainer.resume(interrupted, null).run(DataParallelTrainingTest.jsonl());

        Map<String, float[]> a = DataParallelTrainingTest.weights(straight);
        Map<String, float[]> b = DataParallelTrainingTest.weights(interrupted);
        for (String name : a.keySet()) {
            assertThat(Arrays.equals(a.get(name), b.get(name)))
                    .as("%s identical, bit for bit, after resuming a sharded run at step 25", name).isTrue();
        }
        List<MetricsRecord> records = JsonlMetricsSink.read(straight.resolve("metrics.jsonl"));
        assertThat(records.stream().filter(r -> r.phase().equals("train"))
                .mapToDouble(r -> r.values().get("auxk")).max().orElse(0))
                .as("AuxK had dead latents to work on").isPositive();
        assertThat(DataParallelTrainingTest.trainLosses(interrupted))
                .containsExactly(DataParallelTrainingTest.trainLosses(straight));
    }

    @Test
    void badShardingSettingsFailWithClearErrors(@TempDir Path parent) {
        assertThatThrownBy(() -> base().shardLatents(true).build())
                .hasMessageContaining("shard_latents=true").hasMessageContaining("--devices 0,1");
        assertThatThrownBy(() -> base().architecture("relu").settings(Map.of()).devices(List.of(0, 1))
                .shardLatents(true).build())
                .hasMessageContaining("shard_latents=true").hasMessageContaining("topk only");
        assertThatThrownBy(() -> base().latents(2).setting("k", 1).devices(List.of(0, 1, 2)).shardLatents(true).build())
                .hasMessageContaining("2 latents on 3 devices").hasMessageContaining("at most 2 devices");
        Path run = parent.resolve("run");
        assertThatThrownBy(() -> Trainer.start(sharded(base().backendOptions(Map.of("threads", "2")), 2), run, null)
                .run(DataParallelTrainingTest.jsonl()))
                .hasMessageContaining("has no device 1");
        assertThat(run).as("nothing written for a run that could not start").doesNotExist();
    }
}
