package io.github.sae4j.core.train;

/**
 * Counts, for every latent, the training tokens since it last fired; a latent is dead once that reaches the
 * threshold. Owned by the trainer, fed from each step's firing counts, so forward passes stay free of side effects.
 */
public final class DeadLatentTracker {

    private final long thresholdTokens;
    private final long[] tokensSinceFired;
    private final float[] mask;
    private int deadCount;

    public DeadLatentTracker(int latents, long thresholdTokens) {
        if (thresholdTokens < 1) {
            throw new IllegalArgumentException("the dead-latent threshold must be >= 1 token, got " + thresholdTokens);
        }
        this.thresholdTokens = thresholdTokens;
        this.tokensSinceFired = new long[latents];
        this.mask = new float[latents];
    }

    /** Records a step of {@code rows} tokens in which latent i fired {@code firedCounts[i]} times. */
    public void update(float[] firedCounts, int rows) {
        int dead = 0;
        for (int i = 0; i < tokensSinceFired.length; i++) {
            long t = firedCounts[i] > 0 ? 0 : tokensSinceFired[i] + rows;
            tokensSinceFired[i] = t;
            boolean isDead = t >= thresholdTokens;
            mask[i] = isDead ? 1f : 0f;
            if (isDead) {
                dead++;
            }
        }
        deadCount = dead;
    }

    /** 1 for dead latents, 0 for live ones (a view: do not modify). */
    public float[] mask() {
        return mask;
    }

    public int deadCount() {
        return deadCount;
    }

    public double deadFraction() {
        return (double) deadCount / tokensSinceFired.length;
    }

    public long thresholdTokens() {
        return thresholdTokens;
    }

    /** The counters, for checkpoints. */
    public long[] tokensSinceFired() {
        return tokensSinceFired.clone();
    }

    /** Restores the counters from a checkpoint. */
    public void restore(long[] counters) {
        if (counters.length != tokensSinceFired.length) {
            throw new IllegalArgumentException("dead-latent counters for " + counters.length + " latents, the SAE has "
                    + tokensSinceFired.length);
        }
        System.arraycopy(counters, 0, tokensSinceFired, 0, counters.length);
        update(new float[counters.length], 0);
    }
}
