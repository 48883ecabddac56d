package io.github.sae4j.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.sae4j.api.metrics.MetricsRecord;
import io.github.sae4j.api.metrics.MetricsSinkProvider;
import io.github.sae4j.api.sae.TrainingStepResult;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.checkpoint.SaeCheckpoint;
import io.github.sae4j.core.io.Safetensors;
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

/**
 * Data-parallel training over two logical devices of the java backend (each with one of the two threads), against
 * the same run on one device with both threads.
 */
class DataParallelTrainingTest {

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

    static TrainerConfig.Builder base(String architecture) {
        TrainerConfig.Builder b = TrainerConfig.builder().data(data.toString()).architecture(architecture).latents(128)
                .batchSize(256).learningRate(2e-3).validationFraction(0.05).validationEvery(1000)
                .validationTokens(1024).checkpointEvery(25).logEvery(5).shuffleWindowRows(8192)
                .deadTokens(2_000).auxK(16).seed(3).steps(60);
        return architecture.equals("topk") ? b.setting("k", 4) : b;
    }

    static TrainerConfig oneDevice(TrainerConfig.Builder b) {
        return b.backendOptions(Map.of("threads", "2")).build();
    }

    static TrainerConfig twoDevices(TrainerConfig.Builder b) {
        return b.backendOptions(Map.of("threads", "2", "devices", "2")).devices(List.of(0, 1)).build();
    }

    static List<MetricsSinkProvider> jsonl() {
        return List.of(Plugins.metricsSinks().get("jsonl"));
    }

    static Map<String, float[]> weights(Path run) throws IOException {
        try (Safetensors.Reader r = Safetensors.open(run.resolve(Trainer.FINAL_SAE).resolve(SaeCheckpoint.WEIGHTS))) {
            return Map.of("W_enc", r.readF32("W_enc"), "W_dec", r.readF32("W_dec"), "b_enc", r.readF32("b_enc"),
                    "b_dec", r.readF32("b_dec"));
        }
    }

    static double[] trainLosses(Path run) throws IOException {
        return JsonlMetricsSink.read(run.resolve("metrics.jsonl")).stream().filter(r -> r.phase().equals("train"))
                .mapToDouble(r -> r.values().get("loss")).toArray();
    }

    /** The largest |a - b| over the largest |a|. */
    static double relativeDifference(float[] a, float[] b) {
        double diff = 0;
        double scale = 0;
        for (int i = 0; i < a.length; i++) {
            diff = Math.max(diff, Math.abs(a[i] - b[i]));
            scale = Math.max(scale, Math.abs(a[i]));
        }
        return diff / scale;
    }

    static double relativeDifference(double[] a, double[] b) {
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.abs(a[i]));
        }
        return worst;
    }

    /**
     * ReLU+L1's loss is a mean over rows, so the row-weighted mean of the slices' gradients is the full batch's
     * gradient, summed in another order: the runs differ by float rounding only. The observed difference after 60
     * AdamW steps is at most 5e-7 of the largest weight (float epsilon is 6e-8); 1e-5 leaves room for the rounding to
     * grow on other JVMs and CPUs while still failing on any real difference (a wrong weight or a lost slice is
     * 1e-2 or more).
     */
    @Test
    void reluOnTwoDevicesEndsWithTheWeightsAndLossesOfOneDevice(@TempDir Path one, @TempDir Path two)
            throws IOException {
        Trainer.start(oneDevice(base("relu")), one, null).run(jsonl());
        Trainer.start(twoDevices(base("relu")), two, null).run(jsonl());

        Map<String, float[]> a = weights(one);
        Map<String, float[]> b = weights(two);
        for (String name : a.keySet()) {
            double d = relativeDifference(a.get(name), b.get(name));
            System.out.printf("relu %s: 1 vs 2 devices differ by %.2g of the largest weight%n", name, d);
            assertThat(d).as("%s on 2 devices vs 1, relative to the largest weight", name).isLessThan(1e-5);
        }
        double[] lossesOne = trainLosses(one);
        double[] lossesTwo = trainLosses(two);
        assertThat(lossesTwo).hasSameSizeAs(lossesOne);
        assertThat(relativeDifference(lossesOne, lossesTwo)).as("train loss curve, relative").isLessThan(1e-5);
    }

    /**
     * TopK's loss is the FVU, normalized by the variance of the batch it sees, and AuxK's by the variance of the error;
     * on two devices each replica normalizes by its own slice's (as data-parallel training does elsewhere), so the
     * runs differ by a sampling effect of order 1/sqrt(rows per slice), not by rounding. The curves agree to a few
     * percent and the weights to about 1% of the largest.
     */
    @Test
    void topKOnTwoDevicesFollowsTheLossCurveOfOneDevice(@TempDir Path one, @TempDir Path two) throws IOException {
        Trainer.start(oneDevice(base("topk")), one, null).run(jsonl());
        Trainer.start(twoDevices(base("topk")), two, null).run(jsonl());

        double curve = relativeDifference(trainLosses(one), trainLosses(two));
        Map<String, float[]> a = weights(one);
        Map<String, float[]> b = weights(two);
        double weights = 0;
        for (String name : a.keySet()) {
            weights = Math.max(weights, relativeDifference(a.get(name), b.get(name)));
        }
        System.out.printf("topk: 1 vs 2 devices: loss curves differ by %.2g (relative), weights by %.2g of the largest%n",
                curve, weights);
        assertThat(curve).as("train loss curve, relative").isLessThan(0.05);
        assertThat(weights).as("weights, relative to the largest").isLessThan(0.05);
    }

    /** A listener that crashes the run at a given step, as a kill would. */
    private record CrashAt(long step) implements Trainer.Listener {
        @Override
        public void onStep(long s, TrainingStepResult result, double learningRate, double deadFraction) {
            if (s == step) {
                throw new IllegalStateException("simulated crash at step " + s);
            }
        }
    }

    @Test
    void aResumedTwoDeviceRunEndsBitIdenticalToAnUninterruptedOne(@TempDir Path straight, @TempDir Path interrupted)
            throws IOException {
        // Many latents, a large learning rate and a short dead threshold: latents die, so AuxK (with the trainer's
        // global dead mask) runs too.
        TrainerConfig config = twoDevices(base("topk").latents(512).learningRate(3e-2).deadTokens(768));
        Trainer.start(config, straight, null).run(jsonl());
        assertThatThrownBy(() -> Trainer.start(config, interrupted, new CrashAt(37)).run(jsonl()))
                .hasMessageContaining("simulated crash");
        assertThat(Files.readString(interrupted.resolve(Trainer.CONFIG_FILE)))
                .as("the devices are recorded, so that --resume uses them").contains("\"devices\" : [ 0, 1 ]");
        Trainer.resume(interrupted, null).run(jsonl());

        Map<String, float[]> a = weights(straight);
        Map<String, float[]> b = weights(interrupted);
        for (String name : a.keySet()) {
            assertThat(Arrays.equals(a.get(name), b.get(name)))
                    .as("%s identical, bit for bit, after resuming a 2-device run at step 25", name).isTrue();
        }
        List<MetricsRecord> records = JsonlMetricsSink.read(straight.resolve("metrics.jsonl"));
        assertThat(records.stream().filter(r -> r.phase().equals("train"))
                .mapToDouble(r -> r.values().get("auxk")).max().orElse(0))
                .as("AuxK had dead latents to work on").isPositive();
        assertThat(trainLosses(interrupted)).containsExactly(trainLosses(straight));
    }

    @Test
    void aSingleDeviceConfigIsWrittenAsBefore() throws IOException {
        String json = TrainerConfig.json().writeValueAsString(base("topk").devices(List.of(1)).build());
        assertThat(json).as("one device in --devices is --device").doesNotContain("\"devices\"")
                .contains("\"device\" : 1");
        TrainerConfig two = twoDevices(base("topk"));
        assertThat(TrainerConfig.json().readValue(TrainerConfig.json().writeValueAsString(two), TrainerConfig.class))
                .isEqualTo(two);
    }

    @Test
    void badDeviceListsFailWithClearErrors(@TempDir Path parent) {
        assertThatThrownBy(() -> base("topk").devices(List.of(0, 1, 1)).build())
                .hasMessageContaining("devices=[0, 1, 1]").hasMessageContaining("device 1 is listed twice");
        assertThatThrownBy(() -> base("topk").devices(List.of(0, -1)).build())
                .hasMessageContaining("devices=[0, -1]").hasMessageContaining(">= 0");
        assertThatThrownBy(() -> base("topk").batchSize(2).devices(List.of(0, 1, 2)).build())
                .hasMessageContaining("batch_size=2").hasMessageContaining("number of devices (3");

        Path run = parent.resolve("run");
        assertThatThrownBy(() -> Trainer.start(base("topk").backendOptions(Map.of("threads", "2"))
                .devices(List.of(0, 1)).build(), run, null).run(jsonl()))
                .hasMessageContaining("has no device 1").hasMessageContaining("0: CPU, 2 threads")
                .hasMessageContaining("devices=N");
        assertThatThrownBy(() -> Trainer.start(base("topk").backendOptions(Map.of("threads", "1", "devices", "2"))
                .devices(List.of(0, 1)).build(), run, null).run(jsonl()))
                .hasMessageContaining("threads=1 and devices=2").hasMessageContaining("at least one of the threads");
        assertThat(run).as("nothing written for a run that could not start").doesNotExist();
    }
}
