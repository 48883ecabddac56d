package io.github.sae4j.llama3.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.sae4j.api.model.ChatMessage;
import io.github.sae4j.api.model.GenerationOptions;
import io.github.sae4j.api.model.GenerationResult;
import io.github.sae4j.api.model.HookPoint;
import io.github.sae4j.api.model.ResidualHook;
import io.github.sae4j.api.model.ResidualSlice;
import io.github.sae4j.api.model.TokenStream;
import io.github.sae4j.llama3.TestModels;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** KV-cached generation: sampling, seeds, batching, streaming, stop tokens, the context limit, chat. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GenerationTest {

    Llama3Model model;

    @BeforeAll
    void open() {
        model = TestModels.openTiny();
    }

    @AfterAll
    void close() {
        model.close();
    }

    int[] prompt(String text) {
        return model.tokenizer().encode(text, true);
    }

    @Test
    void theKvCacheGivesTheLogitsOfAFullForward() {
        int[] p = prompt("The old captain looked at the sea");
        GenerationResult r = model.generate(p, GenerationOptions.greedy(12).withStopTokens(), List.of(), null);
        int[] all = new int[p.length + r.tokens().length];
        System.arraycopy(p, 0, all, 0, p.length);
        System.arraycopy(r.tokens(), 0, all, p.length, r.tokens().length);
        int[] argmax = new int[all.length];
        model.forward(List.of(all), List.of(), (s, pos, row) -> argmax[pos] = Sampler.argmax(row));
        for (int i = 0; i < r.tokens().length; i++) {
            assertThat(argmax[p.length - 1 + i]).as("token %d", i).isEqualTo(r.tokens()[i]);
        }
    }

    @Test
    void aTokenStreamYieldsWhatTheCallbackSeesAndStopsWhenClosedEarly() {
        int[] p = prompt("The whale");
        GenerationOptions options = new GenerationOptions(20, 0.9f, 0.95f, 0, 3, new int[0]);
        List<Integer> called = new ArrayList<>();
        StringBuilder calledText = new StringBuilder();
        GenerationResult expected = model.generate(p, options, List.of(), (t, text) -> {
            called.add(t);
            calledText.append(text);
        });
        List<Integer> pulled = new ArrayList<>();
        StringBuilder pulledText = new StringBuilder();
        try (TokenStream stream = model.stream(p, options, List.of())) {
            assertThatThrownBy(stream::result).isInstanceOf(IllegalStateException.class);
            while (stream.hasNext()) {
                TokenStream.Token t = stream.next();
                pulled.add(t.id());
                pulledText.append(t.text());
            }
            assertThat(stream.result().tokens()).containsExactly(expected.tokens());
            assertThat(stream.result().stopReason()).isEqualTo(expected.stopReason());
        }
        assertThat(pulled).isEqualTo(called);
        assertThat(pulledText.toString()).isEqualTo(calledText.toString()).isEqualTo(expected.text());

        try (TokenStream stream = model.stream(p, GenerationOptions.greedy(500), List.of())) {
            assertThat(stream.next()).isNotNull();
        }
        // closed after one token: the model is free again and gives the same greedy text as before
        GenerationResult again = model.generate(p, GenerationOptions.greedy(5), List.of(), null);
        assertThat(again.tokens()).hasSize(5);
    }

    @Test
    void theSameSeedGivesTheSameSampleAloneOrInABatchAndAnotherSeedDiffers() {
        GenerationOptions sampled = new GenerationOptions(24, 1.0f, 0.95f, 0, 7, new int[0]);
        int[] a = prompt("Once upon a time");
        int[] b = prompt("The people of the United States");
        GenerationResult aloneA = model.generate(a, sampled, List.of(), null);
        GenerationResult aloneB = model.generate(b, sampled, List.of(), null);
        List<GenerationResult> both = model.generate(List.of(a, b), sampled, List.of(), null);
        assertThat(both.get(0).tokens()).containsExactly(aloneA.tokens());
        assertThat(both.get(1).tokens()).containsExactly(aloneB.tokens());
        assertThat(model.generate(a, sampled, List.of(), null).tokens()).containsExactly(aloneA.tokens());
        boolean differs = false;
        for (long seed = 8; seed < 12 && !differs; seed++) {
            differs = !java.util.Arrays.equals(model.generate(a, sampled.withSeed(seed), List.of(), null).tokens(),
                    aloneA.tokens());
        }
        assertThat(differs).as("other seeds give other samples").isTrue();
    }

    @Test
    void topKOneIsGreedy() {
        int[] p = prompt("The little dog");
        GenerationOptions topOne = new GenerationOptions(10, 1.5f, 1f, 1, 3, new int[0]);
        assertThat(model.generate(p, topOne, List.of(), null).tokens())
                .containsExactly(model.generate(p, GenerationOptions.greedy(10).withStopTokens(), List.of(), null).tokens());
    }

    @Test
    void streamedDeltasAddUpToTheText() {
        StringBuilder streamed = new StringBuilder();
        List<Integer> tokens = new ArrayList<>();
        GenerationResult r = model.generate(prompt("Call me"), new GenerationOptions(30, 0.9f, 0.9f, 0, 1, new int[0]),
                List.of(), (t, text) -> {
                    tokens.add(t);
                    streamed.append(text);
                });
        assertThat(tokens).containsExactly(java.util.Arrays.stream(r.tokens()).boxed().toArray(Integer[]::new));
        assertThat(r.text()).startsWith(streamed.toString());
        assertThat(r.text()).isEqualTo(model.tokenizer().decode(r.tokens()));
    }

    @Test
    void generationStopsAtAStopTokenWhichIsNotPartOfTheResult() {
        int[] p = prompt("Once upon a time");
        int[] free = model.generate(p, GenerationOptions.greedy(20).withStopTokens(), List.of(), null).tokens();
        int stop = free[4];
        GenerationResult r = model.generate(p, GenerationOptions.greedy(20).withStopTokens(stop), List.of(), null);
        assertThat(r.stopReason()).isEqualTo(GenerationResult.StopReason.STOP_TOKEN);
        int first = 0;
        while (free[first] != stop) {
            first++;
        }
        assertThat(r.tokens()).containsExactly(java.util.Arrays.copyOf(free, first));
    }

    @Test
    void generationStopsWhenTheContextIsFull() {
        int max = model.config().maxPositions();
        int[] p = new int[max - 3];
        java.util.Arrays.fill(p, model.tokenizer().encode(" the", false)[0]);
        p[0] = model.tokenizer().bosToken();
        GenerationResult r = model.generate(p, GenerationOptions.greedy(50).withStopTokens(), List.of(), null);
        assertThat(r.stopReason()).isEqualTo(GenerationResult.StopReason.CONTEXT_FULL);
        assertThat(r.tokens()).hasSize(4);
    }

    @Test
    void hooksRunOnThePromptAndOnEveryGeneratedToken() {
        List<int[]> seen = new ArrayList<>();
        ResidualHook h = new ResidualHook() {
            @Override
            public HookPoint point() {
                return HookPoint.parse("blocks.2.hook_resid_post");
            }

            @Override
            public void onResidual(ResidualSlice r) {
                seen.add(new int[] {r.firstPosition(), r.positions(), r.tokens().length});
            }
        };
        int[] p = prompt("Hello there");
        model.generate(p, GenerationOptions.greedy(3).withStopTokens(), List.of(h), null);
        assertThat(seen).hasSize(3); // the prompt, then the first two generated tokens are fed back
        assertThat(seen.get(0)).containsExactly(0, p.length, p.length);
        assertThat(seen.get(1)).containsExactly(p.length, 1, p.length + 1);
        assertThat(seen.get(2)).containsExactly(p.length + 1, 1, p.length + 2);
    }

    @Test
    void chatRepliesEndAtTheEndOfTurnToken() {
        int[] chat = model.tokenizer().encodeChat(List.of(ChatMessage.user("What is a whale?")), true);
        GenerationResult r = model.generate(chat, GenerationOptions.greedy(120), List.of(), null);
        assertThat(r.stopReason()).isIn(GenerationResult.StopReason.STOP_TOKEN, GenerationResult.StopReason.LENGTH);
        assertThat(r.text()).doesNotContain("<|eot_id|>");
    }

    @Test
    void badPromptsAreRejectedWithTheReason() {
        assertThatThrownBy(() -> model.generate(new int[0], GenerationOptions.greedy(3), List.of(), null))
                .hasMessageContaining("prompt 0 is empty");
        int[] tooLong = new int[model.config().maxPositions()];
        assertThatThrownBy(() -> model.generate(tooLong, GenerationOptions.greedy(3), List.of(), null))
                .hasMessageContaining("512 tokens").hasMessageContaining("context");
        assertThatThrownBy(() -> model.forward(List.of(new int[model.config().maxPositions() + 1]), List.of(),
                (s, p, r) -> { })).hasMessageContaining("513 tokens").hasMessageContaining("context is 512");
        assertThatThrownBy(() -> model.forward(List.of(new int[] {1, 99999}), List.of(), (s, p, r) -> { }))
                .hasMessageContaining("token 99999 at position 1").hasMessageContaining("vocabulary");
    }
}
