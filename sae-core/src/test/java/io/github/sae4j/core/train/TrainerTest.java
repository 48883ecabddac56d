package io.github.sae4j.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.sae4j.api.metrics.MetricsRecord;
import io.github.sae4j.api.sae.TrainingStepResult;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.checkpoint.SaeCheckpoint;
import io.github.sae4j.core.io.Safetensors;
import io.github.sae4j.core.metrics.JsonlMetricsSink;
import io.github.sae4j.core.store.ActivationDType;
import io.github.sae4j.core.synth.GroundTruth;
import io.github.sae4j.core.synth.SyntheticConfig;
import io.github.sae4j.core.synth.SyntheticDatasetWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training end to end on synthetic activations with a known dictionary. */
class TrainerTest {

    @TempDir
    static Path shared;

    static Path data;

    /** 48-dimensional rows from 192 unit features, about 3 active per row. */
    static final SyntheticConfig SYNTH = new SyntheticConfig(48, 192, 3, 0.3, 0.5, 1.5, 0.01, 1.0, 120_000, 64, 11);

    @BeforeAll
    static void writeData() throws IOException {
        data = shared.resolve("acts");
        SyntheticDatasetWriter.write(SYNTH, data, ActivationDType.BF16, 32_768, n -> { });
    }

    static TrainerConfig.Builder base() {
        return TrainerConfig.builder().data(data.toString()).architecture("topk").latents(384).setting("k", 4)
                .batchSize(256).learningRate(2e-3).validationFraction(0.05).validationEvery(200)
                .validationTokens(4096).checkpointEvery(100).logEvery(20).shuffleWindowRows(16_384)
                .deadTokens(20_000).auxK(32).seed(3).backendOptions(java.util.Map.of("threads", "2"));
    }

    private static float[] decoder(Path saeDir) throws IOException {
        try (Safetensors.Reader r = Safetensors.open(saeDir.resolve(SaeCheckpoint.WEIGHTS))) {
            return r.readF32("W_dec");
        }
    }

    @Test
    void topKRecoversMostGroundTruthFeatures(@TempDir Path run) throws IOException {
        Trainer.Outcome outcome = Trainer.start(base().steps(1500).build(), run, null)
                .run(Plugins.metricsSinks().installed());
        GroundTruth truth = GroundTruth.read(data.resolve(GroundTruth.FILE));
        double recovered = truth.fractionRecovered(decoder(outcome.saeDirectory()), 384, 0.9);
        System.out.printf("TopK on synthetic data: %.1f%% of %d ground-truth features recovered (max cosine > 0.9),"
                + " validation FVU %.4f%n", 100 * recovered, truth.features(), outcome.validation().fvu());
        assertThat(recovered).as("fraction of ground-truth features with a decoder row at cosine > 0.9").isGreaterThan(0.8);
        assertThat(outcome.validation().fvu()).isLessThan(0.2);
        assertThat(outcome.validation().l0()).isLessThanOrEqualTo(4.0);
        assertThat(run.resolve("metrics.png")).exists();
        List<MetricsRecord> records = JsonlMetricsSink.read(run.resolve("metrics.jsonl"));
        assertThat(records).extracting(MetricsRecord::phase).contains("train", "val");
    }

    /**
     * Trains on many features with a large learning rate and a short dead threshold, the regime where TopK latents
     * die, and returns the dead fraction of the last step and the validation FVU.
     */
    private static double[] deadFractionAfterTraining(Path manyFeatures, Path run, int auxK) throws IOException {
        TrainerConfig config = base().data(manyFeatures.toString()).latents(768).setting("k", 4).learningRate(3e-2)
                .steps(600).deadTokens(5_000).auxK(auxK).validationEvery(600).checkpointEvery(600).build();
        Trainer.Outcome outcome = Trainer.start(config, run, null).run(Plugins.metricsSinks().installed());
        List<MetricsRecord> train = JsonlMetricsSink.read(run.resolve("metrics.jsonl")).stream()
                .filter(r -> r.phase().equals("train")).toList();
        return new double[] {train.getLast().values().get("dead_fraction"), outcome.validation().fvu()};
    }

    @Test
    void auxKRevivesLatentsThatAreDeadWithoutIt(@TempDir Path dir) throws IOException {
        Path manyFeatures = dir.resolve("acts");
        SyntheticDatasetWriter.write(new SyntheticConfig(48, 768, 3, 0.3, 0.5, 1.5, 0.01, 1.0, 120_000, 64, 11),
                manyFeatures, ActivationDType.BF16, 65_536, n -> { });
        double[] without = deadFractionAfterTraining(manyFeatures, dir.resolve("without"), 0);
        double[] with = deadFractionAfterTraining(manyFeatures, dir.resolve("with"), 256);
        System.out.printf("dead latents after 600 steps: %.1f%% without AuxK (FVU %.3f), %.1f%% with AuxK (FVU %.3f)%n",
                100 * without[0], without[1], 100 * with[0], with[1]);
        assertThat(without[0]).as("without AuxK many latents die").isGreaterThan(0.3);
        assertThat(with[0]).as("AuxK keeps most of them alive").isLessThan(0.6 * without[0]);
        assertThat(with[1]).as("and the revived latents explain more variance").isLessThan(without[1]);
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
    void aResumedRunEndsWithTheSameWeightsAsAnUninterruptedOne(@TempDir Path straight, @TempDir Path interrupted)
            throws IOException {
        TrainerConfig config = base().steps(130).checkpointEvery(50).deadTokens(3_000).build();
        Trainer.start(config, straight, null).run(Plugins.metricsSinks().installed());

        assertThatThrownBy(() -> Trainer.start(config, interrupted, new CrashAt(77)).run(Plugins.metricsSinks().installed()))
                .hasMessageContaining("simulated crash");
        assertThat(TrainingCheckpoint.latest(interrupted.resolve(Trainer.CHECKPOINTS))).get()
                .satisfies(p -> assertThat(p.getFileName().toString()).isEqualTo("step-000000050"));
        Trainer.resume(interrupted, null).run(Plugins.metricsSinks().installed());

        try (Safetensors.Reader a = Safetensors.open(straight.resolve("sae").resolve(SaeCheckpoint.WEIGHTS));
             Safetensors.Reader b = Safetensors.open(interrupted.resolve("sae").resolve(SaeCheckpoint.WEIGHTS))) {
            for (String name : List.of("W_enc", "W_dec", "b_enc", "b_dec")) {
                assertThat(java.util.Arrays.equals(a.readF32(name), b.readF32(name)))
                        .as("%s identical, bit for bit, after resuming at step 50", name).isTrue();
            }
        }
        List<MetricsRecord> straightTrain = JsonlMetricsSink.read(straight.resolve("metrics.jsonl"));
        List<MetricsRecord> resumedTrain = JsonlMetricsSink.read(interrupted.resolve("metrics.jsonl"));
        assertThat(resumedTrain).as("metrics.jsonl reads as one run: no duplicated steps")
                .extracting(r -> r.phase() + r.step()).containsExactlyElementsOf(
                        straightTrain.stream().map(r -> r.phase() + r.step()).toList());
    }

    @Test
    void aNewRunRefusesADirectoryThatHoldsOne(@TempDir Path run) throws IOException {
        Trainer.start(base().steps(3).build(), run, null).run(List.of());
        assertThatThrownBy(() -> Trainer.start(base().steps(3).build(), run, null))
                .hasMessageContaining("already holds a run").hasMessageContaining("--resume");
    }

    @Test
    void impossibleSettingsFailBeforeAnyFileIsWritten(@TempDir Path parent) {
        Path run = parent.resolve("run");
        assertThatThrownBy(() -> Trainer.start(base().latents(8).setting("k", 9).steps(5).build(), run, null)
                .run(Plugins.metricsSinks().installed()))
                .hasMessageContaining("k=9").hasMessageContaining("8 latents");
        assertThatThrownBy(() -> Trainer.start(base().backend("tpu").steps(5).build(), run, null)
                .run(Plugins.metricsSinks().installed()))
                .hasMessageContaining("No backend named 'tpu'").hasMessageContaining("java");
        assertThat(run).doesNotExist();
    }

    @Test
    void reluL1TrainsToo(@TempDir Path run) throws IOException {
        TrainerConfig config = base().architecture("relu").settings(java.util.Map.of("l1_coefficient", 0.05))
                .learningRate(1e-3).steps(300).normalize("scalar").build();
        Trainer.Outcome outcome = Trainer.start(config, run, null).run(List.of());
        assertThat(outcome.validation().fvu()).isLessThan(0.5);
        assertThat(Files.readString(run.resolve("sae").resolve("cfg.json"))).contains("\"architecture\" : \"relu\"");
    }

    @Test
    void meanCenteringAndUnitScalingAreRecordedInCfgJsonAndAppliedAtEvaluation(@TempDir Path runs) throws IOException {
        var stats = io.github.sae4j.core.store.ActivationDataset.open(data).statistics();
        double plainFvu = Trainer.start(base().steps(400).build(), runs.resolve("none"), null)
                .run(Plugins.metricsSinks().installed()).validation().fvu();
        for (String normalize : List.of("center", "unit")) {
            Path run = runs.resolve(normalize);
            Trainer.Outcome outcome = Trainer.start(base().steps(400).normalize(normalize).build(), run, null)
                    .run(Plugins.metricsSinks().installed());
            io.github.sae4j.api.sae.SaeSpec spec = SaeCheckpoint.readSpec(outcome.saeDirectory());
            var cfg = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(outcome.saeDirectory().resolve("cfg.json").toFile());
            assertThat(spec.metadata()).containsEntry("normalize", normalize);
            if (normalize.equals("center")) {
                assertThat(cfg.get("normalize_activations").asText()).isEqualTo("center");
                assertThat(spec.inputShift()).containsExactly(stats.meanAsFloats());
                assertThat(spec.inputScale()).isEqualTo(1.0);
            } else {
                assertThat(cfg.get("normalize_activations").asText()).isEqualTo("constant_scale");
                assertThat(spec.inputShift()).isNull();
                assertThat(spec.inputScale() * spec.inputScale() * stats.meanSquaredNorm()).isCloseTo(1.0,
                        org.assertj.core.api.Assertions.within(1e-6));
            }
            // Metrics are in raw units whatever the normalization: each reconstructs about as well as no normalization.
            assertThat(outcome.validation().fvu()).as(normalize + " FVU vs " + plainFvu).isCloseTo(plainFvu,
                    org.assertj.core.api.Assertions.within(0.1));
            float[] x = {1f, -2f};
            var tiny = new io.github.sae4j.api.sae.SaeSpec("topk", 2, 4, java.util.Map.of(), 2.0, java.util.Map.of(),
                    new float[] {0.5f, 1f});
            tiny.normalize(x, 0, 1);
            assertThat(x).containsExactly(1f, -6f);
            tiny.denormalize(x, 0, 1);
            assertThat(x).containsExactly(1f, -2f);
        }
    }
}

