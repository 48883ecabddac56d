package io.github.sae4j.llama3.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.sae4j.api.model.GenerationOptions;
import io.github.sae4j.api.model.GenerationResult;
import io.github.sae4j.api.model.HookPoint;
import io.github.sae4j.api.model.ResidualHook;
import io.github.sae4j.api.model.ResidualSlice;
import io.github.sae4j.core.io.Safetensors;
import io.github.sae4j.llama3.TestModels;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.sae4j.api.backend.WeightFormat;
import io.github.sae4j.llama3.format.SafetensorsModel;
import io.github.sae4j.llama3.format.SafetensorsTestWriter;
import io.github.sae4j.llama3.format.TensorData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java forward pass against the PyTorch reference's golden outputs ({@code tools/reference/make_golden.py}):
 * the residual after every layer and the logits, within 1e-4 x max(1, max|ref|) per tensor (the golden README's
 * tolerance for float32 with another summation order); greedy continuations token for token. The shipped BF16
 * weights, and copies converted to F32 (sharded, with an index) and F16, all meet it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GoldenForwardTest {

    static final double TOLERANCE = 1e-4;

    Llama3Model model;
    Safetensors.Reader golden;

    @BeforeAll
    void open() throws IOException {
        model = TestModels.openTiny();
        golden = Safetensors.open(TestModels.golden());
    }

    @AfterAll
    void close() throws IOException {
        model.close();
        golden.close();
    }

    /** What one sequence's forward produced: hidden[layer][position * d + i] and logits rows. */
    static final class Captured {
        final float[][] hidden;
        final Map<Integer, float[]> logits = new HashMap<>();

        Captured(int layers, int positions, int d) {
            hidden = new float[layers + 1][positions * d];
        }
    }

    /** Runs the sequences in ONE forward call, capturing resid_pre of layer 0 and resid_post of every layer. */
    static List<Captured> run(Llama3Model model, List<int[]> sequences) {
        int layers = model.config().layers();
        int d = model.config().hidden();
        List<Captured> out = new ArrayList<>();
        for (int[] s : sequences) {
            out.add(new Captured(layers, s.length, d));
        }
        List<ResidualHook> hooks = new ArrayList<>();
        hooks.add(capture(new HookPoint(0, HookPoint.Site.RESID_PRE), out, 0));
        for (int l = 0; l < layers; l++) {
            hooks.add(capture(new HookPoint(l, HookPoint.Site.RESID_POST), out, l + 1));
        }
        model.forward(sequences, hooks, (seq, pos, row) -> out.get(seq).logits.put(pos, row.clone()));
        return out;
    }

    static ResidualHook capture(HookPoint point, List<Captured> out, int slot) {
        return new ResidualHook() {
            @Override
            public HookPoint point() {
                return point;
            }

            @Override
            public void onResidual(ResidualSlice r) {
                System.arraycopy(r.data(), r.offset(), out.get(r.sequence()).hidden[slot],
                        r.firstPosition() * r.dModel(), r.positions() * r.dModel());
            }
        };
    }

    void check(String name, Captured got) throws IOException {
        int[] ids = golden.readI32(name + ".ids");
        int n = ids.length;
        int d = model.config().hidden();
        int layers = model.config().layers();
        float[] hidden = golden.readF32(name + ".hidden");
        for (int l = 0; l <= layers; l++) {
            float[] ref = Arrays.copyOfRange(hidden, l * n * d, (l + 1) * n * d);
            assertClose(name + ".hidden[" + l + "]", got.hidden[l], ref);
        }
        int[] positions = golden.readI32(name + ".logit_positions");
        float[] logits = golden.readF32(name + ".logits");
        int vocab = model.config().vocabSize();
        for (int k = 0; k < positions.length; k++) {
            assertClose(name + ".logits@" + positions[k], got.logits.get(positions[k]),
                    Arrays.copyOfRange(logits, k * vocab, (k + 1) * vocab));
        }
        float[] lse = golden.readF32(name + ".logsumexp");
        int[] top = golden.readI32(name + ".top_ids");
        float[] mine = new float[n];
        for (int p = 0; p < n; p++) {
            float[] row = got.logits.get(p);
            assertThat(row).as("%s logits at position %d", name, p).isNotNull();
            mine[p] = (float) logSumExp(row);
            assertThat(Sampler.argmax(row)).as("%s top-1 at %d", name, p).isEqualTo(top[p * 5]);
        }
        assertClose(name + ".logsumexp", mine, lse);
    }

    static double logSumExp(float[] row) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : row) {
            max = Math.max(max, v);
        }
        double s = 0;
        for (float v : row) {
            s += Math.exp(v - max);
        }
        return max + Math.log(s);
    }

    static void assertClose(String what, float[] got, float[] ref) {
        assertThat(got).as(what + " length").hasSameSizeAs(ref);
        double maxRef = 1;
        double maxDiff = 0;
        for (int i = 0; i < ref.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
            maxDiff = Math.max(maxDiff, Math.abs((double) got[i] - ref[i]));
        }
        assertThat(maxDiff).as("%s: max |java - torch| relative to max(1, max|ref|) = %.3g", what, maxRef)
                .isLessThanOrEqualTo(TOLERANCE * maxRef);
    }

    int[] ids(String name) throws IOException {
        return golden.readI32(name + ".ids");
    }

    @Test
    void singleSequencesWithAndWithoutBosMatchTheReference() throws IOException {
        for (String name : List.of("single_bos", "single_nobos", "chat")) {
            check(name, run(model, List.of(ids(name))).get(0));
        }
    }

    @Test
    void aBatchOfDifferentLengthsMatchesEachSequenceAlone() throws IOException {
        List<int[]> batch = List.of(ids("batch.0"), ids("batch.1"), ids("batch.2"), ids("batch.3"));
        List<Captured> got = run(model, batch);
        for (int i = 0; i < batch.size(); i++) {
            check("batch." + i, got.get(i));
        }
        List<Captured> bos = run(model, List.of(ids("batch_bos.0"), ids("batch_bos.1")));
        check("batch_bos.0", bos.get(0));
        check("batch_bos.1", bos.get(1));
    }

    @Test
    void chunksSmallerThanTheBatchGiveTheSameNumbers() throws IOException {
        try (Llama3Model small = TestModels.open(TestModels.tinyModel(), 1, 8)) {
            List<int[]> batch = List.of(ids("batch.0"), ids("batch.1"), ids("batch.3"));
            List<Captured> got = run(small, batch);
            check("batch.0", got.get(0));
            check("batch.1", got.get(1));
            check("batch.3", got.get(2));
        }
    }

    /** Writes the tiny model's weights in another dtype, as one file or as shards with an index. */
    static Path convert(Path dir, WeightFormat format, int shards) throws IOException {
        Files.createDirectories(dir);
        for (String f : List.of("config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json")) {
            Files.copy(TestModels.tinyModel().resolve(f), dir.resolve(f));
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode index = json.createObjectNode();
        index.putObject("metadata").put("total_size", 0);
        ObjectNode map = index.putObject("weight_map");
        try (SafetensorsModel src = SafetensorsModel.open(TestModels.tinyModel())) {
            List<String> names = new ArrayList<>(src.names());
            for (int s = 0; s < shards; s++) {
                SafetensorsTestWriter w = new SafetensorsTestWriter();
                String file = shards == 1 ? "model.safetensors"
                        : String.format("model-%05d-of-%05d.safetensors", s + 1, shards);
                for (int i = s; i < names.size(); i += shards) {
                    TensorData t = src.tensor(names.get(i));
                    w.tensor(t.name(), format, t.shape(), t.toFloats());
                    map.put(t.name(), file);
                }
                w.write(dir.resolve(file));
            }
        }
        if (shards > 1) {
            json.writeValue(dir.resolve("model.safetensors.index.json").toFile(), index);
        }
        return dir;
    }

    @Test
    void f32WeightsInShardsAndF16WeightsMatchTheReference(@TempDir Path dir) throws IOException {
        List<int[]> batch = List.of(ids("batch.0"), ids("batch.3"), ids("single_bos"));
        for (Path copy : List.of(convert(dir.resolve("f32"), WeightFormat.F32, 3),
                convert(dir.resolve("f16"), WeightFormat.F16, 1))) {
            try (Llama3Model m = TestModels.open(copy, 2, 2048)) {
                List<Captured> got = run(m, batch);
                check("batch.0", got.get(0));
                check("batch.3", got.get(1));
                check("single_bos", got.get(2));
            }
        }
    }

    @Test
    void greedyContinuationsAreIdenticalAloneAndBatched() throws IOException {
        List<int[]> prompts = new ArrayList<>();
        List<int[]> expected = new ArrayList<>();
        for (int g = 0; g < 3; g++) {
            prompts.add(golden.readI32("gen." + g + ".prompt_ids"));
            expected.add(golden.readI32("gen." + g + ".new_ids"));
        }
        GenerationOptions greedy = GenerationOptions.greedy(20).withStopTokens();
        for (int g = 0; g < 3; g++) {
            GenerationResult r = model.generate(prompts.get(g), greedy, List.of(), null);
            assertThat(r.tokens()).as("gen.%d", g).containsExactly(expected.get(g));
            assertThat(r.stopReason()).isEqualTo(GenerationResult.StopReason.LENGTH);
        }
        List<GenerationResult> batched = model.generate(prompts, greedy, List.of(), null);
        for (int g = 0; g < 3; g++) {
            assertThat(batched.get(g).tokens()).as("batched gen.%d", g).containsExactly(expected.get(g));
        }
    }

}
