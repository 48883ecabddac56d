package io.github.sae4j.core.eval;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.sae4j.api.activation.ActivationSource;
import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.checkpoint.SaeCheckpoint;
import io.github.sae4j.core.store.ActivationDType;
import io.github.sae4j.core.synth.SyntheticConfig;
import io.github.sae4j.core.synth.SyntheticDatasetWriter;
import io.github.sae4j.core.train.Trainer;
import io.github.sae4j.core.train.TrainerConfig;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DecoderFinetuneTest {

    @Test
    void theEncoderStaysFrozenL0StaysTheSameAndTheReconstructionDoesNotGetWorse(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("acts");
        SyntheticDatasetWriter.write(new SyntheticConfig(32, 96, 3, 0.3, 0.5, 1.5, 0.01, 1.0, 40_000, 64, 8), data,
                ActivationDType.F32, 32_768, n -> { });
        Trainer.Outcome trained = Trainer.start(TrainerConfig.builder().data(data.toString()).architecture("topk")
                .latents(128).setting("k", 4).batchSize(256).learningRate(3e-3).steps(150).validationFraction(0.05)
                .validationEvery(150).validationTokens(4096).checkpointEvery(150).logEvery(50).seed(2)
                .backendOptions(Map.of("threads", "1")).build(), dir.resolve("run"), null)
                .run(Plugins.metricsSinks().installed());
        try (Backend b = Plugins.openBackend("java", Map.of("threads", "1"));
             Sae sae = SaeCheckpoint.load(trained.saeDirectory(), b.devices().getFirst(), Plugins.architectures());
             ActivationSource source = Plugins.openActivations(data)) {
            float[] encoder = sae.parameter("W_enc").value().toFloatArray();
            float[] bias = sae.parameter("b_enc").value().toFloatArray();
            DecoderFinetune.Outcome r = DecoderFinetune.run(sae, source, 256, 200, 1e-3, 0, 0.05, 4096);
            assertThat(sae.parameter("W_enc").value().toFloatArray()).containsExactly(encoder);
            assertThat(sae.parameter("b_enc").value().toFloatArray()).containsExactly(bias);
            assertThat(r.after().l0()).isEqualTo(r.before().l0());
            assertThat(r.after().fvu()).isLessThanOrEqualTo(r.before().fvu() + 1e-3);
            assertThat(r.tokens()).isEqualTo(200L * 256);
        }
    }
}
