package io.github.sae4j.core.interpret;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.sae4j.api.label.ActivatingExample;
import io.github.sae4j.api.label.LatentExamples;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TopActivationReaderTest {

    /** A file of many pages: every latent's lookup reads the same examples as a scan of the whole file. */
    @Test
    void aLookupByLatentFindsWhatAScanFinds(@TempDir Path dir) throws IOException {
        int latents = 1500;
        SplittableRandom random = new SplittableRandom(5);
        List<TopActivationWriter.Example> examples = new ArrayList<>();
        for (int l = 0; l < latents; l++) {
            int n = l % 7 == 3 ? 0 : 1 + random.nextInt(6); // some latents never fired
            for (int rank = 0; rank < n; rank++) {
                int tokens = 5 + random.nextInt(60);
                List<String> text = new ArrayList<>();
                float[] acts = new float[tokens];
                for (int t = 0; t < tokens; t++) {
                    text.add(" w" + random.nextInt(5000));
                    acts[t] = random.nextFloat();
                }
                examples.add(new TopActivationWriter.Example(l, rank, 1000L * l + rank, 10f - rank, String.join("", text),
                        text, acts));
            }
        }
        TopActivationWriter.write(dir, examples, new LatentStatistics(latents), Map.of());

        Map<Integer, List<ActivatingExample>> scanned = new java.util.HashMap<>();
        for (LatentExamples e : TopActivationReader.examples(dir, l -> true)) {
            scanned.put(e.latent(), e.examples());
        }
        for (int l = 0; l < latents; l += l < 20 || l > latents - 20 ? 1 : 17) {
            LatentExamples found = TopActivationReader.examples(dir, l);
            assertThat(found.latent()).isEqualTo(l);
            List<ActivatingExample> expected = scanned.getOrDefault(l, List.of());
            assertThat(found.examples()).as("latent %d", l).hasSameSizeAs(expected);
            for (int i = 0; i < expected.size(); i++) {
                assertThat(found.examples().get(i).sentenceId()).isEqualTo(expected.get(i).sentenceId());
                assertThat(found.examples().get(i).tokens()).isEqualTo(expected.get(i).tokens());
                assertThat(found.examples().get(i).activations()).containsExactly(expected.get(i).activations());
            }
        }
        assertThat(TopActivationReader.examples(dir, latents + 10).examples()).isEmpty();
    }
}
