package io.github.sae4j.llama3.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.sae4j.api.model.GenerationOptions;
import io.github.sae4j.llama3.TestModels;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The same model from GGUF (F16, Q8_0) and from safetensors (BF16) through one code path: GGUF's interleaved q/k
 * rows and rope_freqs divisors must give the same logits, within the quantization's error.
 */
class GgufParityTest {

    static List<float[]> logits(Llama3Model m, List<int[]> seqs) {
        List<float[]> out = new ArrayList<>();
        m.forward(seqs, List.of(), (s, p, row) -> out.add(row.clone()));
        return out;
    }

    static double maxRelativeDiff(List<float[]> a, List<float[]> b) {
        double diff = 0;
        double scale = 1;
        for (int i = 0; i < a.size(); i++) {
            for (int v = 0; v < a.get(i).length; v++) {
                diff = Math.max(diff, Math.abs(a.get(i)[v] - b.get(i)[v]));
                scale = Math.max(scale, Math.abs(b.get(i)[v]));
            }
        }
        return diff / scale;
    }

    @Test
    void ggufF16AndQ8MatchSafetensors() {
        try (Llama3Model hf = TestModels.openTiny();
             Llama3Model f16 = TestModels.open(TestModels.tinyModel().resolve("tiny-llama3-F16.gguf"), 2, 2048);
             Llama3Model q8 = TestModels.open(TestModels.tinyModel().resolve("tiny-llama3-Q8_0.gguf"), 2, 2048)) {
            List<int[]> seqs = List.of(hf.tokenizer().encode("It is a truth universally acknowledged.", true),
                    hf.tokenizer().encode("The whale, the sea and the ship", false));
            for (int[] s : seqs) {
                assertThat(f16.tokenizer().encode(hf.tokenizer().decode(s), false))
                        .as("GGUF tokenizer metadata encodes like tokenizer.json")
                        .containsExactly(hf.tokenizer().encode(hf.tokenizer().decode(s), false));
            }
            List<float[]> ref = logits(hf, seqs);
            double f16Diff = maxRelativeDiff(logits(f16, seqs), ref);
            double q8Diff = maxRelativeDiff(logits(q8, seqs), ref);
            System.out.printf("GGUF vs safetensors logits: F16 %.2e, Q8_0 %.2e (relative to max |logit|)%n", f16Diff,
                    q8Diff);
            assertThat(f16Diff).as("F16 holds the BF16 weights exactly").isLessThan(1e-4);
            assertThat(q8Diff).as("Q8_0 error").isLessThan(2e-2);
            int[] prompt = seqs.get(0);
            GenerationOptions greedy = GenerationOptions.greedy(10).withStopTokens();
            assertThat(f16.generate(prompt, greedy, List.of(), null).tokens())
                    .containsExactly(hf.generate(prompt, greedy, List.of(), null).tokens());
            assertThat(f16.tokenizer().stopTokens()).contains(hf.tokenizer().stopTokens());
        }
    }
}
