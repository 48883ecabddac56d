package io.github.sae4j.nd4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.store.ActivationDType;
import io.github.sae4j.core.synth.SyntheticConfig;
import io.github.sae4j.core.synth.SyntheticDatasetWriter;
import io.github.sae4j.core.train.Trainer;
import io.github.sae4j.core.train.TrainerConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same synthetic TopK run on {@code java} and on {@code nd4j}: only the dense products differ (OpenBLAS sums
 * in another order), so after 300 steps the metrics agree to within 1% of the FVU, 0.1 of L0 and 2 points of the
 * dead fraction.
 */
class Nd4jTrainingTest {

    @Test
    void aRunOnNd4jEndsWithTheMetricsOfTheSameRunOnJava(@TempDir Path dir) throws IOException {
        String reason = new Nd4jBackendProvider().unavailableReason();
        Assumptions.assumeTrue(reason == null, () -> "ND4J cannot run on this machine: " + reason);
        Path data = dir.resolve("acts");
        SyntheticDatasetWriter.write(new SyntheticConfig(48, 192, 3, 0.3, 0.5, 1.5, 0.01, 1.0, 60_000, 64, 5), data,
                ActivationDType.BF16, 32_768, n -> { });
        Trainer.Outcome[] outcomes = new Trainer.Outcome[2];
        String[] backends = {"java", Nd4jBackendProvider.NAME};
        for (int i = 0; i < 2; i++) {
            TrainerConfig config = TrainerConfig.builder().data(data.toString()).architecture("topk").latents(384)
                    .setting("k", 4).batchSize(256).learningRate(2e-3).steps(300).validationFraction(0.05)
                    .validationEvery(300).validationTokens(4096).checkpointEvery(300).logEvery(50)
                    .deadTokens(20_000).auxK(32).seed(3).backend(backends[i]).backendOptions(Map.of("threads", "2"))
                    .build();
            outcomes[i] = Trainer.start(config, dir.resolve(backends[i]), null).run(Plugins.metricsSinks().installed());
        }
        var java = outcomes[0].validation();
        var nd4j = outcomes[1].validation();
        System.out.printf("java: FVU %.5f L0 %.3f dead %.4f; nd4j: FVU %.5f L0 %.3f dead %.4f%n", java.fvu(), java.l0(),
                java.deadFraction(), nd4j.fvu(), nd4j.l0(), nd4j.deadFraction());
        assertThat(nd4j.fvu()).isCloseTo(java.fvu(), within(0.01 * java.fvu() + 1e-4));
        assertThat(nd4j.l0()).isCloseTo(java.l0(), within(0.1));
        assertThat(nd4j.deadFraction()).isCloseTo(java.deadFraction(), within(0.02));
    }
}
