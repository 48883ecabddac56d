package io.github.sae4j.core.interpret;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.core.backend.java.JavaBackend;
import io.github.sae4j.core.sae.TopKArchitecture;
import io.github.sae4j.core.store.ActivationDType;
import io.github.sae4j.core.store.ActivationDataset;
import io.github.sae4j.core.store.ActivationDatasetWriter;
import io.github.sae4j.core.store.DatasetHeader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mining stored activations with an SAE whose encoder is the identity (latent i reads dimension i, k = 2): which
 * sentences are each latent's best is known from how the data was built.
 */
class TopActivationMinerTest {

    static final int D = 6;
    static JavaBackend backend;
    static Sae sae;

    @TempDir
    static Path dir;
    static Path data;

    @BeforeAll
    static void setUp() throws IOException {
        backend = new JavaBackend(1);
        SaeSpec spec = new TopKArchitecture().spec(D, D, Map.of("k", 2), 1.0, Map.of());
        sae = new TopKArchitecture().create(spec, backend.device());
        float[] identity = new float[D * D];
        for (int i = 0; i < D; i++) {
            identity[i * D + i] = 1f;
        }
        sae.parameter("W_enc").value().copyFrom(identity);
        sae.parameter("W_dec").value().copyFrom(identity);
        sae.parameter("b_enc").value().copyFrom(new float[D]);
        sae.parameter("b_dec").value().copyFrom(new float[D]);

        // 300 sentences of 1-6 tokens over 3 shards. Dimension 0 is large everywhere (it wins every token's argmax);
        // dimension 1 is small except in sentences 7, 123 and 250, where one token has 2 + id/1000; dimension 5 is
        // never positive (a dead latent).
        data = dir.resolve("acts");
        SplittableRandom r = new SplittableRandom(4);
        try (ActivationDatasetWriter w = ActivationDatasetWriter.create(data,
                new DatasetHeader(D, ActivationDType.F32, "test", "blocks.0.hook_resid_post", Map.of()), 400, 64)) {
            for (long s = 0; s < 300; s++) {
                int tokens = 1 + (int) (s % 6);
                float[] v = new float[tokens * D];
                long[] ids = new long[tokens];
                int[] pos = new int[tokens];
                for (int t = 0; t < tokens; t++) {
                    v[t * D] = 10f + r.nextFloat();
                    v[t * D + 1] = 0.01f * r.nextFloat();
                    v[t * D + 2] = r.nextFloat();
                    v[t * D + 5] = -1f;
                    ids[t] = s;
                    pos[t] = t;
                }
                if (s == 7 || s == 123 || s == 250) {
                    v[(tokens - 1) * D + 1] = 2f + s / 1000f;
                }
                w.append(v, 0, tokens, ids, pos, new int[tokens]);
            }
        }
    }

    @AfterAll
    static void tearDown() {
        sae.close();
        backend.close();
    }

    @Test
    void latentsThatNeverWinATokensArgmaxGetTheirTrueTopSentences() throws IOException {
        try (ActivationDataset d = ActivationDataset.open(data)) {
            assertThat(d.shards()).hasSizeGreaterThan(2);
            TopActivationMiner.Result r = TopActivationMiner.mine(d, sae, Aggregation.MAX, 3, 50, null, n -> { });
            // k = 2: each token keeps dimension 0 and its next largest; latent 1 fires where it beats dimension 2.
            assertThat(TopSentencesTest.ranked(r.top(), 1)).containsExactly(250L, 123L, 7L);
            assertThat(r.statistics().dead()).contains(5);
            assertThat(r.statistics().tokens()).isEqualTo(d.rows());
            assertThat(r.statistics().density(0)).isEqualTo(1.0);
        }
    }

    @Test
    void anInterruptedRunResumesFromItsPartialsWithTheSameResult(@TempDir Path state) throws IOException {
        try (ActivationDataset d = ActivationDataset.open(data)) {
            TopActivationMiner.Result first = TopActivationMiner.mine(d, sae, Aggregation.MEAN, 4, 32, state, n -> { });
            assertThat(first.shardsMined()).isEqualTo(d.shards().size());
            TopActivationMiner.Result again = TopActivationMiner.mine(d, sae, Aggregation.MEAN, 4, 32, state, n -> { });
            assertThat(again.shardsResumed()).isEqualTo(d.shards().size());
            assertThat(again.shardsMined()).isZero();
            for (int l = 0; l < D; l++) {
                assertThat(TopSentencesTest.ranked(again.top(), l)).containsExactly(TopSentencesTest.ranked(first.top(), l));
                assertThat(again.statistics().firingTokens(l)).isEqualTo(first.statistics().firingTokens(l));
            }
            assertThatThrownBy(() -> TopActivationMiner.mine(d, sae, Aggregation.MEAN, 4, 32, state.resolve("x"), n -> {
                throw new IllegalStateException("stop");
            })).hasMessage("stop");
        }
    }

    @Test
    void partialsOfAnotherSaeInTheStateDirectoryAreRefused(@TempDir Path state) throws IOException {
        SaeSpec spec = new TopKArchitecture().spec(D, 8, Map.of("k", 2), 1.0, Map.of());
        try (Sae other = new TopKArchitecture().create(spec, backend.device());
             ActivationDataset d = ActivationDataset.open(data)) {
            other.initialize(1, null);
            TopActivationMiner.mine(d, sae, Aggregation.MAX, 3, 50, state, n -> { });
            assertThatThrownBy(() -> TopActivationMiner.mine(d, other, Aggregation.MAX, 3, 50, state, n -> { }))
                    .hasMessageContaining("from another SAE").hasMessageContaining(state.toString());
        }
    }

    @Test
    void anSaeForOtherActivationsIsRefused() throws IOException {
        SaeSpec spec = new TopKArchitecture().spec(D + 1, 8, Map.of("k", 2), 1.0, Map.of());
        try (Sae other = new TopKArchitecture().create(spec, backend.device());
             ActivationDataset d = ActivationDataset.open(data)) {
            assertThatThrownBy(() -> TopActivationMiner.mine(d, other, Aggregation.MAX, 3, 50, null, n -> { }))
                    .hasMessageContaining("reads 7-dimensional").hasMessageContaining("holds 6-dimensional");
        }
    }

    @Test
    void examplesCarryEveryTokensActivationAndTheFilesReadBack(@TempDir Path out) throws IOException {
        try (ActivationDataset d = ActivationDataset.open(data)) {
            TopActivationMiner.Result r = TopActivationMiner.mine(d, sae, Aggregation.MAX, 3, 50, null, n -> { });
            var examples = TopActivationWriter.examples(d, sae, r.top(), null);
            var latent1 = examples.stream().filter(e -> e.latent() == 1).toList();
            assertThat(latent1).extracting(TopActivationWriter.Example::sentenceId).containsExactly(250L, 123L, 7L);
            var best = latent1.getFirst();
            // sentence 250 has 5 tokens; the latent fires on the last one with 2.25
            assertThat(best.activations()).hasSize(5);
            assertThat(best.activations()[4]).isEqualTo(2.25f);
            assertThat(best.score()).isEqualTo(2.25f);
            assertThat(best.tokens()).hasSize(5).allMatch(t -> t.startsWith("#"));

            TopActivationWriter.write(out, examples, r.statistics(), Map.of("sae4j.format", "test"));
            List<org.apache.parquet.example.data.Group> rows = ParquetTestReader.read(out.resolve(
                    TopActivationWriter.EXAMPLES_FILE));
            assertThat(rows).hasSize(examples.size());
            var first1 = rows.stream().filter(g -> g.getInteger("latent", 0) == 1).findFirst().orElseThrow();
            assertThat(first1.getLong("sentence_id", 0)).isEqualTo(250L);
            var acts = first1.getGroup("activations", 0);
            assertThat(acts.getFieldRepetitionCount("list")).isEqualTo(5);
            assertThat(acts.getGroup("list", 4).getFloat("element", 0)).isEqualTo(2.25f);
            List<org.apache.parquet.example.data.Group> latents = ParquetTestReader.read(out.resolve(
                    TopActivationWriter.LATENTS_FILE));
            assertThat(latents).hasSize(D);
            assertThat(latents.get(5).getBoolean("dead", 0)).isTrue();
            assertThat(latents.get(0).getDouble("density", 0)).isEqualTo(1.0);

            var read = TopActivationReader.examples(out, l -> l == 1);
            assertThat(read).hasSize(1);
            assertThat(read.getFirst().examples()).extracting(io.github.sae4j.api.label.ActivatingExample::sentenceId)
                    .containsExactly(250L, 123L, 7L);
            assertThat(read.getFirst().examples().getFirst().activations()).containsExactly(best.activations());
            assertThat(TopActivationReader.latents(out).get(5).dead()).isTrue();
        }
    }
}

