package io.github.sae4j.llama3.model;

import io.github.sae4j.api.model.GenerationOptions;
import java.util.Arrays;
import java.util.SplittableRandom;

/** Picks the next token from logits: greedy, or temperature with top-k and top-p (nucleus) filtering. */
public final class Sampler {

    private final GenerationOptions options;
    private final SplittableRandom random;
    private long[] order = new long[0];

    public Sampler(GenerationOptions options) {
        this.options = options;
        this.random = new SplittableRandom(options.seed());
    }

    /** The highest logit; the lowest id on ties; NaN loses to everything. */
    public static int argmax(float[] logits) {
        int best = 0;
        float bestValue = Float.NEGATIVE_INFINITY;
        boolean found = false;
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] > bestValue || (!found && !Float.isNaN(logits[i]))) {
                best = i;
                bestValue = logits[i];
                found = true;
            }
        }
        return best;
    }

    /**
     * @throws IllegalStateException when a logit is NaN or infinite: the forward pass has overflowed (a steering
     *                               strength far too large, say), and any token picked would mean nothing
     */
    public int next(float[] logits) {
        for (float v : logits) {
            if (!Float.isFinite(v)) {
                throw new IllegalStateException("the model's logits are not finite (" + v + "): the forward pass "
                        + "overflowed; if steering, lower the strength");
            }
        }
        if (options.isGreedy()) {
            return argmax(logits);
        }
        int vocab = logits.length;
        if (order.length != vocab) {
            order = new long[vocab];
        }
        // Sort ids by logit, highest first (lower id first on ties): a sortable key of the negated logit's bits,
        // then the id.
        for (int i = 0; i < vocab; i++) {
            float v = Float.isNaN(logits[i]) ? Float.NEGATIVE_INFINITY : logits[i];
            int bits = Float.floatToIntBits(-v);
            bits ^= (bits >> 31) & 0x7fffffff; // order-preserving signed int from float bits
            order[i] = ((long) bits << 32) | i;
        }
        Arrays.sort(order);
        int keep = options.topK() > 0 ? Math.min(options.topK(), vocab) : vocab;
        float max = logits[(int) order[0]];
        double inverseT = 1.0 / options.temperature();
        double[] p = new double[keep];
        double total = 0;
        for (int j = 0; j < keep; j++) {
            float v = logits[(int) order[j]];
            p[j] = Float.isNaN(v) ? 0 : Math.exp((v - max) * inverseT);
            total += p[j];
        }
        if (options.topP() < 1f) {
            double cumulative = 0;
            int cut = keep;
            for (int j = 0; j < keep; j++) {
                cumulative += p[j] / total;
                if (cumulative >= options.topP()) {
                    cut = j + 1;
                    break;
                }
            }
            keep = cut;
            total = 0;
            for (int j = 0; j < keep; j++) {
                total += p[j];
            }
        }
        double u = random.nextDouble() * total;
        for (int j = 0; j < keep; j++) {
            u -= p[j];
            if (u < 0) {
                return (int) order[j];
            }
        }
        return (int) order[keep - 1];
    }
}
