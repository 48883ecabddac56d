package io.github.sae4j.core.interpret;

/**
 * Per latent, over every token seen: how many tokens it fired on (activation > 0), the sum of its activations there,
 * and a histogram of those activations in {@value #BINS} bins of powers of two from 2^{@value #MIN_EXPONENT}
 * (bin 0 holds everything below, the last bin everything above).
 */
public final class LatentStatistics {

    public static final int BINS = 24;
    public static final int MIN_EXPONENT = -12;

    private final int latents;
    private long tokens;
    private final long[] firing;
    private final double[] sum;
    private final int[] histogram;

    public LatentStatistics(int latents) {
        this.latents = latents;
        this.firing = new long[latents];
        this.sum = new double[latents];
        this.histogram = new int[Math.multiplyExact(latents, BINS)];
    }

    public int latents() {
        return latents;
    }

    void addTokens(long n) {
        tokens += n;
    }

    void add(int latent, float activation) {
        firing[latent]++;
        sum[latent] += activation;
        histogram[latent * BINS + bin(activation)]++;
    }

    /** The histogram bin of a positive activation: bin b holds [2^(MIN_EXPONENT + b - 1), 2^(MIN_EXPONENT + b)). */
    static int bin(float activation) {
        int e = Math.getExponent(activation) + 1 - MIN_EXPONENT;
        return Math.max(0, Math.min(BINS - 1, e));
    }

    public long tokens() {
        return tokens;
    }

    /** Fraction of tokens the latent fired on. */
    public double density(int latent) {
        return tokens == 0 ? 0 : (double) firing[latent] / tokens;
    }

    public long firingTokens(int latent) {
        return firing[latent];
    }

    /** Mean activation over the tokens it fired on (0 if it never fired). */
    public double meanActivation(int latent) {
        return firing[latent] == 0 ? 0 : sum[latent] / firing[latent];
    }

    /** The latent's histogram counts, {@link #BINS} of them. */
    public int[] histogram(int latent) {
        return java.util.Arrays.copyOfRange(histogram, latent * BINS, (latent + 1) * BINS);
    }

    /** Latents that never fired. */
    public int[] dead() {
        return java.util.stream.IntStream.range(0, latents).filter(l -> firing[l] == 0).toArray();
    }

    public void merge(LatentStatistics other) {
        if (other.latents != latents) {
            throw new IllegalArgumentException("cannot merge statistics of " + other.latents + " latents into " + latents);
        }
        tokens += other.tokens;
        for (int l = 0; l < latents; l++) {
            firing[l] += other.firing[l];
            sum[l] += other.sum[l];
        }
        for (int i = 0; i < histogram.length; i++) {
            histogram[i] += other.histogram[i];
        }
    }

    public void write(java.io.DataOutputStream out) throws java.io.IOException {
        out.writeInt(latents);
        out.writeLong(tokens);
        for (int l = 0; l < latents; l++) {
            out.writeLong(firing[l]);
            out.writeDouble(sum[l]);
        }
        for (int h : histogram) {
            out.writeInt(h);
        }
    }

    public static LatentStatistics read(java.io.DataInputStream in) throws java.io.IOException {
        LatentStatistics s = new LatentStatistics(in.readInt());
        s.tokens = in.readLong();
        for (int l = 0; l < s.latents; l++) {
            s.firing[l] = in.readLong();
            s.sum[l] = in.readDouble();
        }
        for (int i = 0; i < s.histogram.length; i++) {
            s.histogram[i] = in.readInt();
        }
        return s;
    }
}
