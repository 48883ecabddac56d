package io.github.sae4j.core.eval;

import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.model.HookPoint;
import io.github.sae4j.api.model.LanguageModel;
import io.github.sae4j.api.model.ResidualHook;
import io.github.sae4j.api.model.ResidualSlice;
import io.github.sae4j.api.sae.LatentCodes;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.core.metrics.ReconstructionMetrics;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Evaluates an SAE spliced into the residual stream itself at its hook point (not into one block's attention input,
 * as the original pipeline did), on held-out token sequences. For each batch one clean forward gives the clean
 * next-token distributions and the residual at the hook (for the reconstruction metrics); then one forward per
 * variant replaces the residual at the hook, for every position, with:
 * <ul>
 *   <li>the SAE's reconstruction {@code x_hat} (its normalization applied and undone as its cfg.json says);</li>
 *   <li>zeros (zero ablation) and the mean residual (mean ablation: the SAE's centring shift when it has one, else
 *   the mean of the clean batch's residuals at the hook);</li>
 *   <li>{@code x + ||x - x_hat|| u} with {@code u} a random unit vector per token, for each of several draws (the
 *   control for whether the SAE's errors are pathological).</li>
 * </ul>
 * CE is the mean next-token cross-entropy over every position that has a next token; KL is
 * {@code sum_v p_clean (log p_clean - log p_variant)} per such position, averaged. Loss recovered is
 * {@code (CE_zero - CE_sae) / (CE_zero - CE_clean)}, as DESIGN.md defines it.
 */
public final class SplicedEvaluator {

    /**
     * Every figure of one run.
     *
     * @param tokens          positions scored (each with a next token)
     * @param ceClean         CE of the clean model
     * @param ceSae           CE with the SAE spliced in
     * @param ceZero          CE with the hook zero-ablated
     * @param ceMean          CE with the hook mean-ablated
     * @param lossRecovered   {@code (ceZero - ceSae) / (ceZero - ceClean)}
     * @param deltaLoss       {@code ceSae - ceClean}
     * @param klSae           mean KL(clean || SAE spliced)
     * @param klRandom        mean KL(clean || random error of the SAE's norm), over all draws
     * @param klRatio         {@code klSae / klRandom}
     * @param klRatioLow      2.5th percentile of the ratio over bootstrap resamples of the sentences
     * @param klRatioHigh     97.5th percentile
     * @param reconstruction  FVU, L0, dead fraction, L2 ratio, cosine of the SAE at the hook on these tokens
     * @param ceDiffHistogram counts of per-token {@code CE_sae - CE_clean} in bins of 0.25 nats from -2 to 6 (first
     *                        and last bins take everything beyond)
     * @param worstSentences  indices of the sentences with the largest mean CE increase, worst first (up to 10)
     * @param worstIncrease   their mean per-token CE increase
     */
    public record Result(long tokens, double ceClean, double ceSae, double ceZero, double ceMean, double lossRecovered,
                         double deltaLoss, double klSae, double klRandom, double klRatio, double klRatioLow,
                         double klRatioHigh, ReconstructionMetrics.Result reconstruction, long[] ceDiffHistogram,
                         int[] worstSentences, double[] worstIncrease) {
    }

    /** How the run goes: tokens per forward, random draws for the control, the seed. */
    public record Options(int batchTokens, int randomDraws, long seed) {
        public Options {
            if (batchTokens < 1 || randomDraws < 1) {
                throw new IllegalArgumentException("batch tokens and random draws must be >= 1");
            }
        }

        public static Options defaults() {
            return new Options(2048, 3, 0);
        }
    }

    public static final double HISTOGRAM_LOW = -2;
    public static final double HISTOGRAM_BIN = 0.25;
    public static final int HISTOGRAM_BINS = 32;

    private SplicedEvaluator() {
    }

    /** Evaluates {@code sae} at {@code hook} on {@code sequences} (token ids; each at most the model's context). */
    public static Result evaluate(LanguageModel model, Sae sae, HookPoint hook, List<int[]> sequences, Options options) {
        int d = model.info().dModel();
        if (sae.spec().dIn() != d) {
            throw new IllegalArgumentException("the SAE reads d_in=" + sae.spec().dIn() + " but " + model.info().name()
                    + " has d_model=" + d + "; evaluate it with the model it was trained on");
        }
        String trainedAt = sae.spec().metadata().get("hook_point");
        if (trainedAt != null && !trainedAt.isEmpty() && !trainedAt.equals(hook.toString())) {
            throw new IllegalArgumentException("the SAE was trained at " + trainedAt + " but the evaluation splices it at "
                    + hook + "; pass --hook " + trainedAt + " (or leave --hook out)");
        }
        int vocab = model.info().vocabSize();
        Device device = sae.device();
        Accumulator acc = new Accumulator(sequences.size(), options.randomDraws());
        try (ReconstructionMetrics recon = new ReconstructionMetrics(device.ops(), device, d, sae.spec().dSae(),
                sae.spec().inputScale(), null)) {
            for (List<Integer> batch : batches(sequences, options.batchTokens())) {
                List<int[]> seqs = new ArrayList<>();
                for (int i : batch) {
                    seqs.add(sequences.get(i));
                }
                int positions = 0;
                int[] offset = new int[seqs.size()];
                for (int s = 0; s < seqs.size(); s++) {
                    offset[s] = positions;
                    positions += Math.max(0, seqs.get(s).length - 1);
                }
                // Clean: log-probabilities at every scored position and the residual at the hook.
                float[][] cleanLogProbs = new float[positions][];
                float[][] residual = new float[seqs.size()][];
                ResidualHook capture = hookOf(hook, (slice, rows) -> residual[slice.sequence()] = rows.clone());
                model.forward(seqs, List.of(capture), (s, pos, logits) -> {
                    if (pos < seqs.get(s).length - 1) {
                        cleanLogProbs[offset[s] + pos] = logSoftmax(logits, vocab);
                    }
                });
                float[][] recon_ = new float[seqs.size()][];
                float[] mean = sae.spec().inputShift() != null ? sae.spec().inputShift() : batchMean(residual, d);
                for (int s = 0; s < seqs.size(); s++) {
                    recon_[s] = reconstruct(sae, residual[s], d, recon);
                }
                double[] ceClean = new double[positions];
                for (int s = 0; s < seqs.size(); s++) {
                    for (int p = 0; p < seqs.get(s).length - 1; p++) {
                        ceClean[offset[s] + p] = -cleanLogProbs[offset[s] + p][seqs.get(s)[p + 1]];
                    }
                }
                double[] ceSae = new double[positions];
                double[] klSae = new double[positions];
                run(model, hook, seqs, s -> recon_[s], cleanLogProbs, offset, vocab, ceSae, klSae);
                double[] ceZero = new double[positions];
                run(model, hook, seqs, s -> new float[residual[s].length], cleanLogProbs, offset, vocab, ceZero, null);
                double[] ceMean = new double[positions];
                run(model, hook, seqs, s -> tile(mean, residual[s].length / d), cleanLogProbs, offset, vocab, ceMean,
                        null);
                double[][] klRandom = new double[options.randomDraws()][positions];
                for (int r = 0; r < options.randomDraws(); r++) {
                    int draw = r;
                    run(model, hook, seqs, s -> randomError(residual[s], recon_[s], d,
                            new SplittableRandom(options.seed() * 1_000_003L + draw * 7919L + batch.get(s))),
                            cleanLogProbs, offset, vocab, new double[positions], klRandom[r]);
                }
                for (int s = 0; s < seqs.size(); s++) {
                    int n = seqs.get(s).length - 1;
                    acc.addSentence(batch.get(s), offset[s], n, ceClean, ceSae, ceZero, ceMean, klSae, klRandom);
                }
            }
            return acc.result(recon.result(), options.seed());
        }
    }

    /** Sentences grouped into forwards of about {@code tokens} tokens, in order. */
    private static List<List<Integer>> batches(List<int[]> sequences, int tokens) {
        List<List<Integer>> out = new ArrayList<>();
        List<Integer> current = new ArrayList<>();
        int count = 0;
        for (int i = 0; i < sequences.size(); i++) {
            int n = sequences.get(i).length;
            if (n < 2) {
                continue;   // no next token to score
            }
            if (!current.isEmpty() && count + n > tokens) {
                out.add(current);
                current = new ArrayList<>();
                count = 0;
            }
            current.add(i);
            count += n;
        }
        if (!current.isEmpty()) {
            out.add(current);
        }
        return out;
    }

    /** The SAE's reconstruction of {@code rows} (raw units), and its metrics added to {@code recon}. */
    static float[] reconstruct(Sae sae, float[] rows, int d, ReconstructionMetrics recon) {
        int n = rows.length / d;
        float[] x = rows.clone();
        sae.spec().normalize(x, 0, n);
        Device device = sae.device();
        try (Tensor xt = device.upload(x, n, d); Tensor out = device.allocate(io.github.sae4j.api.backend.DType.F32, n, d);
             LatentCodes codes = sae.encode(xt)) {
            sae.decode(codes, out);
            if (recon != null) {
                recon.add(xt, out, codes);
            }
            float[] xHat = out.toFloatArray();
            sae.spec().denormalize(xHat, 0, n);
            return xHat;
        }
    }

    /** {@code x + ||x - x_hat|| u} per row, u uniform on the unit sphere. */
    static float[] randomError(float[] x, float[] xHat, int d, SplittableRandom random) {
        float[] out = x.clone();
        double[] u = new double[d];
        for (int r = 0; r < x.length / d; r++) {
            double err = 0;
            double norm = 0;
            for (int j = 0; j < d; j++) {
                double e = x[r * d + j] - xHat[r * d + j];
                err += e * e;
                u[j] = random.nextGaussian();
                norm += u[j] * u[j];
            }
            double scale = Math.sqrt(err) / Math.sqrt(norm);
            for (int j = 0; j < d; j++) {
                out[r * d + j] = (float) (x[r * d + j] + scale * u[j]);
            }
        }
        return out;
    }

    private static float[] tile(float[] row, int rows) {
        float[] out = new float[row.length * rows];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(row, 0, out, r * row.length, row.length);
        }
        return out;
    }

    private static float[] batchMean(float[][] residual, int d) {
        double[] sum = new double[d];
        long n = 0;
        for (float[] rows : residual) {
            for (int r = 0; r < rows.length / d; r++) {
                for (int j = 0; j < d; j++) {
                    sum[j] += rows[r * d + j];
                }
                n++;
            }
        }
        float[] mean = new float[d];
        for (int j = 0; j < d; j++) {
            mean[j] = (float) (sum[j] / Math.max(1, n));
        }
        return mean;
    }

    /** One forward with the hook's rows replaced; fills CE and, if asked, KL against the clean distributions. */
    private static void run(LanguageModel model, HookPoint hook, List<int[]> seqs,
                            java.util.function.IntFunction<float[]> replacement, float[][] clean, int[] offset,
                            int vocab, double[] ce, double[] kl) {
        ResidualHook splice = hookOf(hook, (slice, rows) -> {
            float[] with = replacement.apply(slice.sequence());
            System.arraycopy(with, 0, slice.data(), slice.offset(), slice.positions() * slice.dModel());
        });
        model.forward(seqs, List.of(splice), (s, pos, logits) -> {
            if (pos >= seqs.get(s).length - 1) {
                return;
            }
            int at = offset[s] + pos;
            float[] lp = logSoftmax(logits, vocab);
            ce[at] = -lp[seqs.get(s)[pos + 1]];
            if (kl != null) {
                double k = 0;
                float[] c = clean[at];
                for (int v = 0; v < vocab; v++) {
                    double p = Math.exp(c[v]);
                    k += p * (c[v] - lp[v]);
                }
                kl[at] = Math.max(0, k);
            }
        });
    }

    private interface SliceAction {
        void apply(ResidualSlice slice, float[] rows);
    }

    private static ResidualHook hookOf(HookPoint point, SliceAction action) {
        return new ResidualHook() {
            @Override
            public HookPoint point() {
                return point;
            }

            @Override
            public void onResidual(ResidualSlice slice) {
                float[] rows = Arrays.copyOfRange(slice.data(), slice.offset(),
                        slice.offset() + slice.positions() * slice.dModel());
                action.apply(slice, rows);
            }
        };
    }

    static float[] logSoftmax(float[] logits, int vocab) {
        double max = Double.NEGATIVE_INFINITY;
        for (int v = 0; v < vocab; v++) {
            max = Math.max(max, logits[v]);
        }
        double sum = 0;
        for (int v = 0; v < vocab; v++) {
            sum += Math.exp(logits[v] - max);
        }
        double log = max + Math.log(sum);
        float[] out = new float[vocab];
        for (int v = 0; v < vocab; v++) {
            out[v] = (float) (logits[v] - log);
        }
        return out;
    }

    /** Sums per sentence, so the result and its bootstrap interval come from sentence-level totals. */
    private static final class Accumulator {
        final long[] tokens;
        final double[] clean;
        final double[] sae;
        final double[] zero;
        final double[] meanAbl;
        final double[] klSae;
        final double[] klRandom;
        final long[] histogram = new long[HISTOGRAM_BINS];
        final boolean[] present;

        Accumulator(int sentences, int draws) {
            tokens = new long[sentences];
            clean = new double[sentences];
            sae = new double[sentences];
            zero = new double[sentences];
            meanAbl = new double[sentences];
            klSae = new double[sentences];
            klRandom = new double[sentences];
            present = new boolean[sentences];
        }

        void addSentence(int sentence, int from, int n, double[] ceClean, double[] ceSae, double[] ceZero,
                         double[] ceMean, double[] kl, double[][] klRandomDraws) {
            present[sentence] = true;
            tokens[sentence] = n;
            for (int i = from; i < from + n; i++) {
                clean[sentence] += ceClean[i];
                sae[sentence] += ceSae[i];
                zero[sentence] += ceZero[i];
                meanAbl[sentence] += ceMean[i];
                klSae[sentence] += kl[i];
                double r = 0;
                for (double[] draw : klRandomDraws) {
                    r += draw[i];
                }
                klRandom[sentence] += r / klRandomDraws.length;
                double diff = ceSae[i] - ceClean[i];
                int bin = (int) Math.floor((diff - HISTOGRAM_LOW) / HISTOGRAM_BIN);
                histogram[Math.max(0, Math.min(HISTOGRAM_BINS - 1, bin))]++;
            }
        }

        Result result(ReconstructionMetrics.Result recon, long seed) {
            long n = 0;
            double c = 0;
            double s = 0;
            double z = 0;
            double m = 0;
            double ks = 0;
            double kr = 0;
            List<Integer> used = new ArrayList<>();
            for (int i = 0; i < tokens.length; i++) {
                if (!present[i]) {
                    continue;
                }
                used.add(i);
                n += tokens[i];
                c += clean[i];
                s += sae[i];
                z += zero[i];
                m += meanAbl[i];
                ks += klSae[i];
                kr += klRandom[i];
            }
            if (n == 0) {
                throw new IllegalArgumentException("no sentence has two or more tokens to score; give longer sentences");
            }
            double ceClean = c / n;
            double ceSae = s / n;
            double ceZero = z / n;
            double klS = ks / n;
            double klR = kr / n;
            // Bootstrap over sentences: the ratio of resampled KL sums.
            SplittableRandom rng = new SplittableRandom(seed ^ 0x5EED);
            int samples = 1000;
            double[] ratios = new double[samples];
            for (int b = 0; b < samples; b++) {
                double a = 0;
                double r = 0;
                for (int k = 0; k < used.size(); k++) {
                    int i = used.get(rng.nextInt(used.size()));
                    a += klSae[i];
                    r += klRandom[i];
                }
                ratios[b] = r > 0 ? a / r : Double.NaN;
            }
            Arrays.sort(ratios);
            Integer[] order = used.toArray(Integer[]::new);
            Arrays.sort(order, (a, b) -> Double.compare((sae[b] - clean[b]) / tokens[b], (sae[a] - clean[a]) / tokens[a]));
            int worst = Math.min(10, order.length);
            int[] worstIds = new int[worst];
            double[] worstInc = new double[worst];
            for (int i = 0; i < worst; i++) {
                worstIds[i] = order[i];
                worstInc[i] = (sae[order[i]] - clean[order[i]]) / tokens[order[i]];
            }
            return new Result(n, ceClean, ceSae, ceZero, m / n, (ceZero - ceSae) / (ceZero - ceClean), ceSae - ceClean,
                    klS, klR, klR > 0 ? klS / klR : Double.NaN, ratios[(int) (0.025 * samples)],
                    ratios[(int) (0.975 * samples) - 1], recon, histogram.clone(), worstIds, worstInc);
        }
    }
}
