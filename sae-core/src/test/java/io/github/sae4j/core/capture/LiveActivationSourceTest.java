package io.github.sae4j.core.capture;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.sae4j.api.activation.ActivationBatch;
import io.github.sae4j.api.activation.ActivationReadOptions;
import io.github.sae4j.api.activation.ActivationSplit;
import io.github.sae4j.api.activation.ActivationStream;
import io.github.sae4j.api.model.HookPoint;
import io.github.sae4j.api.text.Sentence;
import io.github.sae4j.core.store.ActivationDType;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LiveActivationSourceTest {

    static final HookPoint HOOK = HookPoint.parse("blocks.1.hook_resid_post");
    static final int D = FakeLanguageModel.D_MODEL;

    static LiveActivationSource source() {
        List<Sentence> sentences = ActivationCaptureTest.corpus();
        CaptureOptions o = new CaptureOptions(12, false, false, false, ActivationDType.F32, 1 << 20, 16, 20,
                Long.MAX_VALUE, 1);
        return new LiveActivationSource(new FakeLanguageModel(), ActivationCaptureTest.source(sentences), HOOK, o,
                Map.of("origin", "test"));
    }

    /** Rows as "sentence/position/first value" strings, batch by batch. */
    static List<String> read(ActivationStream s, int batches, int capacity) throws IOException {
        List<String> out = new ArrayList<>();
        ActivationBatch b = new ActivationBatch(capacity, D);
        for (int i = 0; i < batches && s.next(b); i++) {
            for (int r = 0; r < b.rows(); r++) {
                out.add(b.sentenceIds()[r] + "/" + b.positions()[r] + "/" + b.values()[r * D]);
            }
        }
        return out;
    }

    @Test
    void sequentialReadingGivesEveryTokenOfEverySentenceWithTheModelsValues() throws IOException {
        try (LiveActivationSource src = source(); ActivationStream s = src.open(ActivationReadOptions.sequential())) {
            assertThat(src.info().dModel()).isEqualTo(D);
            assertThat(src.info().hookPoint()).isEqualTo(HOOK.toString());
            var tokenizer = new FakeLanguageModel().tokenizer();
            List<String> expected = new ArrayList<>();
            for (Sentence sentence : ActivationCaptureTest.corpus()) {
                int[] ids = tokenizer.encode(sentence.text(), false);
                for (int p = 0; p < Math.min(12, ids.length); p++) {
                    expected.add(sentence.id() + "/" + p + "/" + FakeLanguageModel.value(ids[p], p, HOOK, 0));
                }
            }
            assertThat(read(s, Integer.MAX_VALUE, 50)).isEqualTo(expected);
        }
    }

    @Test
    void trainAndValidationSplitTheSentencesBetweenThem() throws IOException {
        try (LiveActivationSource src = source()) {
            ActivationReadOptions base = new ActivationReadOptions(ActivationSplit.TRAIN, 0.3, false, 0, 64, false, null);
            Set<Long> train = sentences(src.open(base));
            Set<Long> validation = sentences(src.open(base.withSplit(ActivationSplit.VALIDATION)));
            Set<Long> all = sentences(src.open(base.withSplit(ActivationSplit.ALL)));
            assertThat(train).doesNotContainAnyElementsOf(validation);
            Set<Long> union = new HashSet<>(train);
            union.addAll(validation);
            assertThat(union).isEqualTo(all);
            assertThat(validation.size()).isBetween(5, 30);
        }
    }

    private static Set<Long> sentences(ActivationStream s) throws IOException {
        Set<Long> ids = new HashSet<>();
        try (s) {
            ActivationBatch b = new ActivationBatch(32, D);
            while (s.next(b)) {
                for (int r = 0; r < b.rows(); r++) {
                    ids.add(b.sentenceIds()[r]);
                }
            }
        }
        return ids;
    }

    @Test
    void aShuffledRepeatingStreamContinuesExactlyFromItsCursor() throws IOException {
        ActivationReadOptions shuffled = new ActivationReadOptions(ActivationSplit.TRAIN, 0.1, true, 7, 40, true, null);
        try (LiveActivationSource src = source()) {
            List<String> straight;
            try (ActivationStream s = src.open(shuffled)) {
                straight = read(s, 40, 23);   // 920 rows: more than one epoch (about 400 rows each)
            }
            for (int cut : new int[] {0, 1, 7, 19}) {
                List<String> resumed;
                try (ActivationStream s = src.open(shuffled)) {
                    resumed = new ArrayList<>(read(s, cut, 23));
                    String cursor = s.cursor();
                    try (ActivationStream t = src.open(shuffled.withResumeCursor(cursor))) {
                        resumed.addAll(read(t, 40 - cut, 23));
                    }
                }
                assertThat(resumed).as("resumed after %d batches", cut).isEqualTo(straight);
            }
            // One epoch shuffled holds the same rows as in stored order, in another order.
            List<String> oneEpoch;
            List<String> sequential;
            try (ActivationStream s = src.open(new ActivationReadOptions(ActivationSplit.TRAIN, 0.1, true, 7, 40,
                    false, null))) {
                oneEpoch = read(s, Integer.MAX_VALUE, 23);
            }
            try (ActivationStream s = src.open(new ActivationReadOptions(ActivationSplit.TRAIN, 0.1, false, 7, 40,
                    false, null))) {
                sequential = read(s, Integer.MAX_VALUE, 23);
            }
            assertThat(oneEpoch).isNotEqualTo(sequential).containsExactlyInAnyOrderElementsOf(sequential);
            assertThat(straight.subList(0, oneEpoch.size())).isEqualTo(oneEpoch);
        }
    }
}
