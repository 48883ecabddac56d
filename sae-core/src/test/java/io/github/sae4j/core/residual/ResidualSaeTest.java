package io.github.sae4j.core.residual;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.sae4j.api.activation.ActivationBatch;
import io.github.sae4j.api.activation.ActivationReadOptions;
import io.github.sae4j.api.activation.ActivationSource;
import io.github.sae4j.api.activation.ActivationSplit;
import io.github.sae4j.api.activation.ActivationStream;
import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.sae.LatentCodes;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.api.sae.TrainingStepResult;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.checkpoint.SaeCheckpoint;
import io.github.sae4j.core.eval.ReconstructionEvaluator;
import io.github.sae4j.core.io.Safetensors;
import io.github.sae4j.core.metrics.ReconstructionMetrics;
import io.github.sae4j.core.store.ActivationDType;
import io.github.sae4j.core.synth.SyntheticConfig;
import io.github.sae4j.core.synth.SyntheticDatasetWriter;
import io.github.sae4j.core.train.Trainer;
import io.github.sae4j.core.train.TrainerConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stage 1 on activations, stage 2 on its residuals, and the stack that applies both. */
class ResidualSaeTest {

    @TempDir
    static Path shared;

    static Path data;
    static Path stage1;
    static Path stage2;
    static Path stack;
    static Backend backend;
    static Device device;

    /** 32-dimensional rows from 128 features, about 4 active per row: more than stage 1's k=2 can reconstruct. */
    static final SyntheticConfig SYNTH = new SyntheticConfig(32, 128, 4, 0.3, 0.5, 1.5, 0.01, 1.0, 40_000, 64, 5);

    static TrainerConfig.Builder base() {
        return TrainerConfig.builder().data(data.toString()).architecture("topk").latents(128).setting("k", 2)
                .batchSize(256).learningRate(3e-3).validationFraction(0.05).validationEvery(1000)
                .validationTokens(2048).checkpointEvery(1000).logEvery(50).shuffleWindowRows(8192)
                .deadTokens(20_000).auxK(16).seed(7).backendOptions(Map.of("threads", "2"));
    }

    @BeforeAll
    static void trainBothStagesAndStackThem() throws IOException {
        data = shared.resolve("acts");
        SyntheticDatasetWriter.write(SYNTH, data, ActivationDType.F32, 16_384, n -> { });
        // Stage 1 mean-centred and stage 2 scaled, so that the stack must undo each stage's own normalization.
        stage1 = Trainer.start(base().steps(300).normalize("center").build(), shared.resolve("run1"), null)
                .run(List.of()).saeDirectory();
        stage2 = Trainer.start(base().steps(300).normalize("unit").residualOf(stage1.toString()).build(),
                shared.resolve("run2"), null).run(List.of()).saeDirectory();
        stack = shared.resolve("stack");
        StackCheckpoint.write(List.of(stage1, stage2), stack);
        backend = Plugins.openBackend("java", Map.of("threads", "2"));
        device = backend.devices().getFirst();
    }

    @AfterAll
    static void closeBackend() {
        backend.close();
    }

    private static ActivationReadOptions validation() {
        return new ActivationReadOptions(ActivationSplit.VALIDATION, 0.05, false, 0, 8192, false, null);
    }

    private static ReconstructionMetrics.Result evaluate(Sae sae, ActivationSource source, float[] rawMean)
            throws IOException {
        try (ActivationStream stream = source.open(validation())) {
            return ReconstructionEvaluator.evaluate(sae, stream::next, 512, rawMean, Long.MAX_VALUE);
        }
    }

    @Test
    void stage2RecordsWhichSaeItIsTheResidualOf() throws IOException {
        SaeSpec spec = SaeCheckpoint.readSpec(stage2);
        assertThat(spec.metadata()).containsEntry(ResidualActivationSource.RESIDUAL_OF, stage1.toString())
                .containsEntry("training_data", data.toString());
        assertThat(SaeCheckpoint.readSpec(stage1).metadata()).doesNotContainKey(ResidualActivationSource.RESIDUAL_OF);
    }

    @Test
    void theStackExplainsMoreVarianceThanStage1AndItsL0IsTheSumOfTheStages() throws IOException {
        try (ActivationSource acts = Plugins.openActivations(data);
             Sae first = SaeCheckpoint.load(stage1, device, Plugins.architectures());
             Sae second = SaeCheckpoint.load(stage2, device, Plugins.architectures());
             Sae both = SaeCheckpoint.load(stack, device, Plugins.architectures())) {
            float[] mean = acts.info().statistics().meanAsFloats();
            ReconstructionMetrics.Result r1 = evaluate(first, acts, mean);
            ReconstructionMetrics.Result rStack = evaluate(both, acts, mean);
            ReconstructionMetrics.Result r2;
            try (ResidualActivationSource residuals = new ResidualActivationSource(Plugins.openActivations(data),
                    first, stage1.toString())) {
                r2 = evaluate(second, residuals, null);
            }
            System.out.printf("FVU: stage 1 %.4f, stage 2 on residuals %.4f, stack %.4f; L0 %.2f + %.2f = %.2f%n",
                    r1.fvu(), r2.fvu(), rStack.fvu(), r1.l0(), r2.l0(), rStack.l0());
            assertThat(both).isInstanceOf(StackSae.class);
            assertThat(both.spec().dSae()).isEqualTo(256);
            assertThat(r1.fvu()).as("stage 1 leaves variance for stage 2").isGreaterThan(0.05);
            assertThat(rStack.fvu()).as("the stack's FVU is below stage 1's").isLessThan(0.9 * r1.fvu());
            // SSE_stack = SSE_2 and SSE_2 / sum ||r||^2 = NMSE_2 with sum ||r||^2 = SSE_1 = FVU_1 * Var(x).
            assertThat(rStack.fvu()).as("FVU_stack = FVU_1 * NMSE_2 (stage 2 measured on stage 1's residuals)")
                    .isCloseTo(r1.fvu() * r2.normalizedMse(), within(1e-3 * rStack.fvu()));
            assertThat(rStack.tokens()).isEqualTo(r1.tokens());
            assertThat(rStack.l0()).as("L0 of the stack = L0_1 + L0_2").isCloseTo(r1.l0() + r2.l0(), within(1e-3));
        }
    }

    @Test
    void theStacksReconstructionIsTheSumOfTheStagesReconstructions() throws IOException {
        try (ActivationSource acts = Plugins.openActivations(data);
             ActivationStream stream = acts.open(validation());
             Sae first = SaeCheckpoint.load(stage1, device, Plugins.architectures());
             Sae second = SaeCheckpoint.load(stage2, device, Plugins.architectures());
             Sae both = SaeCheckpoint.load(stack, device, Plugins.architectures())) {
            int rows = 200;
            int dIn = SYNTH.dModel();
            ActivationBatch batch = new ActivationBatch(rows, dIn);
            assertThat(stream.next(batch)).isTrue();
            float[] x = Arrays.copyOf(batch.values(), rows * dIn);

            // By hand, through the public spec: normalize, encode, decode, denormalize, stage by stage.
            int[] active = new int[1];
            float[] xHat1 = reconstructRaw(first, x, rows, active);
            float[] residual = new float[x.length];
            for (int i = 0; i < x.length; i++) {
                residual[i] = x[i] - xHat1[i];
            }
            float[] xHat2 = reconstructRaw(second, residual, rows, active);

            float[] stacked;
            int stackActive;
            try (Tensor in = device.upload(x, rows, dIn); Tensor out = device.allocate(in.dtype(), rows, dIn);
                 LatentCodes codes = both.encode(in)) {
                both.decode(codes, out);
                stacked = out.toFloatArray();
                stackActive = countActive(codes);
                LatentCodes.Sparse sparse = (LatentCodes.Sparse) codes;
                assertThat(sparse.values().cols()).as("k of the stack = k_1 + k_2").isEqualTo(4);
                int[] indices = sparse.indices().toIntArray();
                for (int r = 0; r < rows; r++) {
                    assertThat(indices[r * 4]).as("stage 1's latents come first").isBetween(-1, 127);
                    assertThat(indices[r * 4 + 2]).as("stage 2's latents follow").isBetween(128, 255);
                }
            }
            double maxError = 0;
            double maxValue = 0;
            for (int i = 0; i < x.length; i++) {
                maxError = Math.max(maxError, Math.abs(stacked[i] - (xHat1[i] + xHat2[i])));
                maxValue = Math.max(maxValue, Math.abs(x[i]));
            }
            assertThat(maxError).as("|x_hat_stack - (x_hat_1 + x_hat_2)|, with |x| up to %.3f", maxValue)
                    .isLessThan(1e-4 * Math.max(1, maxValue));
            assertThat(stackActive).as("active latents of the stack = those of stage 1 + those of stage 2")
                    .isEqualTo(active[0]);
        }
    }

    /** x_hat in raw units, on the host; adds the active latents to {@code active[0]}. */
    private static float[] reconstructRaw(Sae sae, float[] raw, int rows, int[] active) {
        int dIn = sae.spec().dIn();
        float[] x = raw.clone();
        sae.spec().normalize(x, 0, rows);
        try (Tensor in = device.upload(x, rows, dIn); Tensor out = device.allocate(in.dtype(), rows, dIn);
             LatentCodes codes = sae.encode(in)) {
            sae.decode(codes, out);
            active[0] += countActive(codes);
            float[] xHat = out.toFloatArray();
            sae.spec().denormalize(xHat, 0, rows);
            return xHat;
        }
    }

    private static int countActive(LatentCodes codes) {
        return switch (codes) {
            case LatentCodes.Sparse s -> (int) device.ops().countAbove(s.values(), 0f);
            case LatentCodes.Dense d -> (int) device.ops().countAbove(d.activations(), 0f);
        };
    }

    @Test
    void aResidualStreamContinuesFromItsCursorWithTheSameRows() throws IOException {
        try (ResidualActivationSource residuals = ResidualActivationSource.open(Plugins.openActivations(data), stage1,
                device)) {
            assertThat(residuals.info().metadata()).containsEntry("residual_of", stage1.toString());
            assertThat(residuals.info().statistics()).isNull();
            ActivationReadOptions shuffled = new ActivationReadOptions(ActivationSplit.TRAIN, 0.05, true, 3, 4096,
                    true, null);
            ActivationBatch batch = new ActivationBatch(256, SYNTH.dModel());
            float[] expected;
            String cursor;
            try (ActivationStream stream = residuals.open(shuffled)) {
                for (int i = 0; i < 3; i++) {
                    stream.next(batch);
                }
                cursor = stream.cursor();
                stream.next(batch);
                expected = batch.values().clone();
            }
            try (ActivationStream stream = residuals.open(shuffled.withResumeCursor(cursor))) {
                stream.next(batch);
                assertThat(batch.values()).as("the batch after the cursor, read again").containsExactly(expected);
            }
        }
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
    void trainingOnResidualsResumesToTheSameWeights(@TempDir Path straight, @TempDir Path interrupted)
            throws IOException {
        TrainerConfig config = base().steps(90).checkpointEvery(40).residualOf(stage1.toString()).build();
        Trainer.start(config, straight, null).run(List.of());
        assertThatThrownBy(() -> Trainer.start(config, interrupted, new CrashAt(57)).run(List.of()))
                .hasMessageContaining("simulated crash");
        Trainer resumed = Trainer.resume(interrupted, null);
        assertThat(resumed.config().residualOf()).isEqualTo(stage1.toString());
        resumed.run(List.of());
        try (Safetensors.Reader a = Safetensors.open(straight.resolve("sae").resolve(SaeCheckpoint.WEIGHTS));
             Safetensors.Reader b = Safetensors.open(interrupted.resolve("sae").resolve(SaeCheckpoint.WEIGHTS))) {
            for (String name : List.of("W_enc", "W_dec", "b_enc", "b_dec")) {
                assertThat(Arrays.equals(a.readF32(name), b.readF32(name)))
                        .as("%s identical after resuming at step 40", name).isTrue();
            }
        }
    }

    @Test
    void aConfigWithoutResidualOfSerializesAsBefore() throws IOException {
        String json = TrainerConfig.json().writeValueAsString(base().steps(10).build());
        assertThat(json).doesNotContain("residual_of");
        String residual = TrainerConfig.json().writeValueAsString(base().steps(10).residualOf("x").build());
        assertThat(TrainerConfig.json().readValue(residual, TrainerConfig.class).residualOf()).isEqualTo("x");
    }

    @Test
    void aStackRefusesToBeTrained(@TempDir Path run) {
        assertThatThrownBy(() -> Trainer.start(base().architecture("stack").steps(10).build(), run, null)
                .run(List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sae4j stack").hasMessageContaining("--residual-of");
    }
}
