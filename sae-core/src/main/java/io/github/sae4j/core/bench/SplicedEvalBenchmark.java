package io.github.sae4j.core.bench;

import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.model.HookPoint;
import io.github.sae4j.api.model.LanguageModel;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.text.Sentence;
import io.github.sae4j.api.text.SentenceSource;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.checkpoint.SaeCheckpoint;
import io.github.sae4j.core.eval.SplicedEvaluator;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The spliced evaluation against plain forwards of the same sentences, in one run: eval tokens/s (one clean
 * forward, the SAE, zero and mean ablations and R random-error draws per batch, so 4 + R forwards) against one
 * forward with logits, and the KL ratio of the random-error control.
 *
 * <pre>java ... io.github.sae4j.core.bench.SplicedEvalBenchmark --model DIR --sae DIR --sentences PATH
 *     [--sentences-count N] [--draws R] [--threads N]</pre>
 */
public final class SplicedEvalBenchmark {

    private SplicedEvalBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path modelPath = Path.of("models/tiny-llama3");
        Path saePath = null;
        Path sentencesPath = null;
        int count = 200;
        int draws = 3;
        String threads = String.valueOf(Runtime.getRuntime().availableProcessors());
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--model" -> modelPath = Path.of(args[++i]);
                case "--sae" -> saePath = Path.of(args[++i]);
                case "--sentences" -> sentencesPath = Path.of(args[++i]);
                case "--sentences-count" -> count = Integer.parseInt(args[++i]);
                case "--draws" -> draws = Integer.parseInt(args[++i]);
                case "--threads" -> threads = args[++i];
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (saePath == null || sentencesPath == null) {
            throw new IllegalArgumentException("give --sae DIR and --sentences PATH");
        }
        LanguageModel model = Plugins.openModel(modelPath, Map.of("threads", threads));
        try (LanguageModel m = model; SentenceSource source = Plugins.openSentences(sentencesPath, Map.of());
             Backend backend = Plugins.openBackend("java", Map.of("threads", threads));
             Sae sae = SaeCheckpoint.load(saePath, backend.devices().getFirst(), Plugins.architectures())) {
            List<int[]> seqs = new ArrayList<>();
            for (Sentence s : (Iterable<Sentence>) source::iterator) {
                if (seqs.size() == count) {
                    break;
                }
                int[] ids = m.tokenizer().encode(s.text(), false);
                if (ids.length >= 2) {
                    seqs.add(Arrays.copyOf(ids, Math.min(ids.length, 192)));
                }
            }
            long tokens = seqs.stream().mapToLong(t -> t.length).sum();
            HookPoint hook = HookPoint.parse(sae.spec().metadata().get("hook_point"));
            double[] forward = new double[3];
            double[] eval = new double[3];
            SplicedEvaluator.Result r = null;
            for (int round = -1; round < 3; round++) {
                long t0 = System.nanoTime();
                for (int from = 0; from < seqs.size(); ) {
                    int to = from;
                    int n = 0;
                    while (to < seqs.size() && (to == from || n + seqs.get(to).length <= 2048)) {
                        n += seqs.get(to++).length;
                    }
                    m.forward(seqs.subList(from, to), List.of(), (s, p, logits) -> { });
                    from = to;
                }
                double f = (System.nanoTime() - t0) / 1e9;
                t0 = System.nanoTime();
                r = SplicedEvaluator.evaluate(m, sae, hook, seqs, new SplicedEvaluator.Options(2048, draws, 0));
                double e = (System.nanoTime() - t0) / 1e9;
                if (round >= 0) {
                    forward[round] = f;
                    eval[round] = e;
                }
            }
            Arrays.sort(forward);
            Arrays.sort(eval);
            System.out.printf(Locale.ROOT, "spliced eval benchmark: %s, %s at %s, %d sentences (%d tokens), %d random draws, "
                    + "%s threads%n", m.info().name(), saePath, hook, seqs.size(), tokens, draws, threads);
            System.out.printf(Locale.ROOT, "  plain forward (logits)  %7.2f s  %8.0f tokens/s%n", forward[1], tokens / forward[1]);
            System.out.printf(Locale.ROOT, "  spliced eval            %7.2f s  %8.0f tokens/s  = %.2f forwards' time (%d "
                    + "forwards per batch)%n", eval[1], tokens / eval[1], eval[1] / forward[1], 4 + draws);
            System.out.printf(Locale.ROOT, "  loss recovered %.4f, KL_sae %.5f, KL_random %.5f, ratio %.3f (95%% CI "
                    + "%.3f-%.3f)%n", r.lossRecovered(), r.klSae(), r.klRandom(), r.klRatio(), r.klRatioLow(),
                    r.klRatioHigh());
        }
    }
}
