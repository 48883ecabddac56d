package io.github.sae4j.core.capture;

import io.github.sae4j.api.model.GenerationListener;
import io.github.sae4j.api.model.GenerationOptions;
import io.github.sae4j.api.model.GenerationResult;
import io.github.sae4j.api.model.HookPoint;
import io.github.sae4j.api.model.LanguageModel;
import io.github.sae4j.api.model.LogitsConsumer;
import io.github.sae4j.api.model.ModelInfo;
import io.github.sae4j.api.model.ResidualHook;
import io.github.sae4j.api.model.ResidualSlice;
import io.github.sae4j.api.model.Tokenizer;
import java.util.Arrays;
import java.util.List;

/**
 * A stand-in language model for capture tests: words are tokens (id = 10 + a hash of the word), BOS is 1, and the
 * residual at every hook point is a known function of token, position, layer and site, so stored rows can be
 * checked exactly. It can be told to fail after some forwards, like a crash.
 */
final class FakeLanguageModel implements LanguageModel {

    static final int D_MODEL = 12;
    static final int LAYERS = 3;
    static final int BOS = 1;
    static final int EOT = 2;

    int forwards;
    int failAfterForwards = Integer.MAX_VALUE;
    /** Runs before the given forward (1-based), to break things around the capture at a chosen moment. */
    int sabotageAt = -1;
    Runnable sabotage = () -> { };
    long tokensSeen;

    static float value(int token, int position, HookPoint hook, int j) {
        return (float) Math.sin(token * 0.37 + position * 1.3 + hook.layer() * 0.11 + hook.site().ordinal() * 0.05 + j);
    }

    @Override
    public ModelInfo info() {
        return new ModelInfo("fake-model", "fake", D_MODEL, LAYERS, 1000, 512);
    }

    @Override
    public Tokenizer tokenizer() {
        return new Tokenizer() {
            @Override
            public int vocabSize() {
                return 1000;
            }

            @Override
            public int[] encode(String text, boolean addBos) {
                String[] words = text.trim().isEmpty() ? new String[0] : text.trim().split("\\s+");
                int[] ids = new int[words.length + (addBos ? 1 : 0)];
                int i = 0;
                if (addBos) {
                    ids[i++] = BOS;
                }
                for (String w : words) {
                    ids[i++] = w.equals("<eot>") ? EOT : 10 + Math.floorMod(w.hashCode(), 900);
                }
                return ids;
            }

            @Override
            public String decode(int[] tokens) {
                return Arrays.toString(tokens);
            }

            @Override
            public String tokenText(int token) {
                return String.valueOf(token);
            }

            @Override
            public int bosToken() {
                return BOS;
            }

            @Override
            public int[] stopTokens() {
                return new int[] {EOT};
            }

            @Override
            public StreamingDecoder streamingDecoder() {
                throw new UnsupportedOperationException();
            }
        };
    }

    @Override
    public void forward(List<int[]> sequences, List<ResidualHook> hooks, LogitsConsumer logits) {
        if (++forwards > failAfterForwards) {
            throw new IllegalStateException("simulated crash in forward " + forwards);
        }
        if (forwards == sabotageAt) {
            sabotage.run();
        }
        for (ResidualHook hook : hooks) {
            for (int s = 0; s < sequences.size(); s++) {
                int[] tokens = sequences.get(s);
                float[] data = new float[tokens.length * D_MODEL + 5];
                for (int p = 0; p < tokens.length; p++) {
                    for (int j = 0; j < D_MODEL; j++) {
                        data[5 + p * D_MODEL + j] = value(tokens[p], p, hook.point(), j);
                    }
                }
                hook.onResidual(new ResidualSlice(s, tokens, 0, data, 5, tokens.length, D_MODEL));
            }
        }
        for (int[] t : sequences) {
            tokensSeen += t.length;
        }
    }

    @Override
    public GenerationResult generate(int[] prompt, GenerationOptions options, List<ResidualHook> hooks,
                                     GenerationListener listener) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void close() {
    }
}
