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
    /**
     * @param ablationPoints how many points of the k-lowest ablation curve (0: none): j lowest-activating active
     *                       latents dropped per token, for j spread evenly over 1..k-1
     * @param targetL0       drop the most frequent latents until the mean L0 is at most this (0: no such run)
     */
    public record Options(int batchTokens, int randomDraws, long seed, int ablationPoints, double targetL0) {
        public Options {
            if (batchTokens < 1 || randomDraws < 1 || ablationPoints < 0 || targetL0 < 0) {
                throw new IllegalArgumentException("batch tokens and random draws must be >= 1, ablation points and "
                        + "the target L0 >= 0");
            }
        }

        public Options(int batchTokens, int randomDraws, long seed) {
            this(batchTokens, randomDraws, seed, 0, 0);
        }

        public static Options defaults() {
            return new Options(2048, 3, 0);
        }
    }

    /**
     * The ablation studies.
     *
     * @param dropped       j, the lowest-activating active latents dropped per token, for each curve point
     * @param ce            CE with the SAE spliced in and those latents dropped
     * @param mse           mean squared error per element of the reconstruction (raw units)
     * @param frequentDropped how many of the most frequent latents were dropped to reach the target L0 (0 if none)
     * @param frequentL0    the mean L0 after dropping them
     * @param frequentLossRecovered CE loss recovered without them
     */
    public record Ablations(int[] dropped, double[] ce, double[] mse, int frequentDropped, double frequentL0,
                            double frequentLossRecovered) {
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

    /**
     * The ablation studies on a sparse (TopK-style) SAE: the k-lowest curve and, with a target L0, dropping the most
     * frequent latents. {@code ceClean} and {@code ceZero} come from {@link #evaluate} on the same sentences.
     */
    public static Ablations ablations(LanguageModel model, Sae sae, HookPoint hook, List<int[]> sequences,
                                      Options options, double ceClean, double ceZero) {
        int d = model.info().dModel();
        int latents = sae.spec().dSae();
        List<List<Integer>> batches = batches(sequences, options.batchTokens());
        // Pass 1: how often each latent fires, for the frequent-latent ablation.
        long[] firing = new long[latents];
        long tokens = 0;
        int k = 0;
        for (List<Integer> batch : batches) {
            for (float[][] codes : encodeBatch(model, sae, hook, sequences, batch, d)) {
                k = codes[0].length == 0 ? k : Math.max(k, (int) codes[2][0]);
                int width = (int) codes[2][0];
                for (int r = 0; r < codes[0].length / width; r++) {
                    tokens++;
                    for (int j = 0; j < width; j++) {
                        int l = (int) codes[1][r * width + j];
                        if (l >= 0 && codes[0][r * width + j] > 0f) {
                            firing[l]++;
                        }
                    }
                }
            }
        }
        boolean[] frequent = new boolean[latents];
        int frequentDropped = 0;
        double l0 = 0;
        for (long f : firing) {
            l0 += f;
        }
        l0 /= Math.max(1, tokens);
        if (options.targetL0() > 0) {
            Integer[] order = new Integer[latents];
            for (int i = 0; i < latents; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> Long.compare(firing[b], firing[a]) != 0 ? Long.compare(firing[b], firing[a])
                    : Integer.compare(a, b));
            double total = l0 * tokens;
            while (frequentDropped < latents && total / Math.max(1, tokens) > options.targetL0()) {
                total -= firing[order[frequentDropped]];
                frequent[order[frequentDropped++]] = true;
            }
            l0 = total / Math.max(1, tokens);
        }
        int points = Math.min(options.ablationPoints(), Math.max(0, k - 1));
        int[] dropped = new int[points];
        for (int p = 0; p < points; p++) {
            dropped[p] = points == 1 ? 1 : 1 + (int) Math.round((double) p * (k - 2) / (points - 1));
        }
        double[] ceSum = new double[points];
        double[] seSum = new double[points];
        double frequentCe = 0;
        long scored = 0;
        long rows = 0;
        for (List<Integer> batch : batches) {
            List<int[]> seqs = new ArrayList<>();
            for (int i : batch) {
                seqs.add(sequences.get(i));
            }
            List<float[][]> codes = encodeBatch(model, sae, hook, sequences, batch, d);
            float[][] x = captureRows(model, hook, seqs);
            int positions = 0;
            int[] offset = new int[seqs.size()];
            for (int s = 0; s < seqs.size(); s++) {
                offset[s] = positions;
                positions += seqs.get(s).length - 1;
            }
            scored += positions;
            for (float[] xs : x) {
                rows += xs.length / d;
            }
            for (int p = 0; p < points; p++) {
                int j = dropped[p];
                float[][] xHat = new float[seqs.size()][];
                for (int s = 0; s < seqs.size(); s++) {
                    xHat[s] = decodeWithout(sae, codes.get(s), d, (row, width, vals, idx) -> dropLowest(vals, row, width, j));
                    for (int e = 0; e < xHat[s].length; e++) {
                        double diff = x[s][e] - xHat[s][e];
                        seSum[p] += diff * diff;
                    }
                }
                double[] ce = new double[positions];
                run(model, hook, seqs, s -> xHat[s], null, offset, model.info().vocabSize(), ce, null);
                for (double c : ce) {
                    ceSum[p] += c;
                }
            }
            if (frequentDropped > 0) {
                float[][] xHat = new float[seqs.size()][];
                for (int s = 0; s < seqs.size(); s++) {
                    xHat[s] = decodeWithout(sae, codes.get(s), d, (row, width, vals, idx) -> {
                        for (int jj = 0; jj < width; jj++) {
                            int l = (int) idx[row * width + jj];
                            if (l >= 0 && frequent[l]) {
                                vals[row * width + jj] = 0f;
                            }
                        }
                    });
                }
                double[] ce = new double[positions];
                run(model, hook, seqs, s -> xHat[s], null, offset, model.info().vocabSize(), ce, null);
                for (double c : ce) {
                    frequentCe += c;
                }
            }
        }
        double[] ce = new double[points];
        double[] mse = new double[points];
        for (int p = 0; p < points; p++) {
            ce[p] = ceSum[p] / scored;
            mse[p] = seSum[p] / ((double) rows * d);
        }
        double frequentRecovered = frequentDropped == 0 ? Double.NaN
                : (ceZero - frequentCe / scored) / (ceZero - ceClean);
        return new Ablations(dropped, ce, mse, frequentDropped, l0, frequentRecovered);
    }

    private interface CodeEdit {
        void edit(int row, int width, float[] values, float[] indices);
    }

    /** Sets the {@code j} smallest positive values of a row to zero. */
    private static void dropLowest(float[] values, int row, int width, int j) {
        for (int n = 0; n < j; n++) {
            int at = -1;
            for (int c = 0; c < width; c++) {
                float v = values[row * width + c];
                if (v > 0f && (at < 0 || v < values[row * width + at])) {
                    at = c;
                }
            }
            if (at < 0) {
                return;
            }
            values[row * width + at] = 0f;
        }
    }

    /** The residual rows of each sequence at the hook (a forward that stops at the hook). */
    private static float[][] captureRows(LanguageModel model, HookPoint hook, List<int[]> seqs) {
        float[][] residual = new float[seqs.size()][];
        model.forward(seqs, List.of(hookOf(hook, (slice, rows) -> residual[slice.sequence()] = rows)), null);
        return residual;
    }

    /**
     * Each sequence's sparse codes on the host as {values, indices (as floats), {width}}.
     *
     * @throws IllegalArgumentException for an SAE with dense codes
     */
    private static List<float[][]> encodeBatch(LanguageModel model, Sae sae, HookPoint hook, List<int[]> sequences,
                                               List<Integer> batch, int d) {
        List<int[]> seqs = new ArrayList<>();
        for (int i : batch) {
            seqs.add(sequences.get(i));
        }
        float[][] residual = captureRows(model, hook, seqs);
        List<float[][]> out = new ArrayList<>();
        for (float[] rows : residual) {
            int n = rows.length / d;
            float[] x = rows.clone();
            sae.spec().normalize(x, 0, n);
            try (Tensor t = sae.device().upload(x, n, d); LatentCodes codes = sae.encode(t)) {
                if (!(codes instanceof LatentCodes.Sparse sparse)) {
                    throw new IllegalArgumentException("the ablation studies need an SAE with sparse (TopK) codes; "
                            + sae.spec().architecture() + " encodes densely");
                }
                int width = sparse.values().cols();
                int[] idx = sparse.indices().toIntArray();
                float[] idxF = new float[idx.length];
                for (int i = 0; i < idx.length; i++) {
                    idxF[i] = idx[i];
                }
                out.add(new float[][] {sparse.values().toFloatArray(), idxF, {width}});
            }
        }
        return out;
    }

    /** Decodes edited sparse codes back to raw units. */
    private static float[] decodeWithout(Sae sae, float[][] codes, int d, CodeEdit edit) {
        int width = (int) codes[2][0];
        float[] values = codes[0].clone();
        int n = values.length / width;
        for (int r = 0; r < n; r++) {
            edit.edit(r, width, values, codes[1]);
        }
        int[] idx = new int[codes[1].length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = (int) codes[1][i];
        }
        Device device = sae.device();
        try (Tensor v = device.upload(values, n, width);
             Tensor ix = device.allocate(io.github.sae4j.api.backend.DType.I32, n, width);
             Tensor out = device.allocate(io.github.sae4j.api.backend.DType.F32, n, d)) {
            ix.copyFrom(idx);
            sae.decode(new LatentCodes.Sparse(v, ix), out);
            float[] xHat = out.toFloatArray();
            sae.spec().denormalize(xHat, 0, n);
            return xHat;
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
