package io.github.sae4j.core.interpret;

/**
 * For every latent, the {@code n} best (highest-scoring) sentences seen so far, in primitive arrays: one min-heap of
 * {@code n} slots per latent, so 65,536 latents x 50 take 3.9 M slots (47 MB), not millions of objects. Ties go to
 * the smaller sentence id, so the result does not depend on the order sentences arrive in, and two partial results
 * merge into exactly the one a single pass would give.
 */
public final class TopSentences {

    private final int latents;
    private final int n;
    private final float[] scores;
    private final long[] ids;
    private final int[] sizes;

    public TopSentences(int latents, int n) {
        if (latents < 1 || n < 1) {
            throw new IllegalArgumentException("need at least one latent and one slot, got " + latents + " x " + n);
        }
        this.latents = latents;
        this.n = n;
        long slots = (long) latents * n;
        if (slots > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(latents + " latents x " + n + " sentences is too many slots");
        }
        this.scores = new float[(int) slots];
        this.ids = new long[(int) slots];
        this.sizes = new int[latents];
    }

    public int latents() {
        return latents;
    }

    public int capacity() {
        return n;
    }

    /** Sentences kept for {@code latent} (at most the capacity). */
    public int size(int latent) {
        return sizes[latent];
    }

    /** {@code a} ranks above {@code b}: higher score, or the same score and a smaller sentence id. */
    private static boolean better(float scoreA, long idA, float scoreB, long idB) {
        return scoreA > scoreB || (scoreA == scoreB && idA < idB);
    }

    /** Offers sentence {@code id} with {@code score} to {@code latent}'s list. */
    public void offer(int latent, float score, long id) {
        int base = latent * n;
        int size = sizes[latent];
        if (size < n) {
            // Sift up: the root holds the worst kept sentence.
            int i = size;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (!better(scores[base + parent], ids[base + parent], score, id)) {
                    break;
                }
                scores[base + i] = scores[base + parent];
                ids[base + i] = ids[base + parent];
                i = parent;
            }
            scores[base + i] = score;
            ids[base + i] = id;
            sizes[latent] = size + 1;
            return;
        }
        if (!better(score, id, scores[base], ids[base])) {
            return;
        }
        int i = 0;
        while (true) {
            int left = 2 * i + 1;
            if (left >= n) {
                break;
            }
            int worst = left;
            int right = left + 1;
            if (right < n && better(scores[base + left], ids[base + left], scores[base + right], ids[base + right])) {
                worst = right;
            }
            if (!better(score, id, scores[base + worst], ids[base + worst])) {
                break;
            }
            scores[base + i] = scores[base + worst];
            ids[base + i] = ids[base + worst];
            i = worst;
        }
        scores[base + i] = score;
        ids[base + i] = id;
    }

    /** Adds everything {@code other} kept (same shape). */
    public void merge(TopSentences other) {
        if (other.latents != latents || other.n != n) {
            throw new IllegalArgumentException("cannot merge " + other.latents + " x " + other.n + " into " + latents
                    + " x " + n);
        }
        for (int l = 0; l < latents; l++) {
            int base = l * n;
            for (int i = 0; i < other.sizes[l]; i++) {
                offer(l, other.scores[base + i], other.ids[base + i]);
            }
        }
    }

    /** {@code latent}'s sentences, best first: ids into {@code idsOut}, scores into {@code scoresOut}; returns the count. */
    public int ranked(int latent, long[] idsOut, float[] scoresOut) {
        int size = sizes[latent];
        int base = latent * n;
        Integer[] order = new Integer[size];
        for (int i = 0; i < size; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> better(scores[base + a], ids[base + a], scores[base + b], ids[base + b])
                ? -1 : better(scores[base + b], ids[base + b], scores[base + a], ids[base + a]) ? 1 : 0);
        for (int i = 0; i < size; i++) {
            idsOut[i] = ids[base + order[i]];
            scoresOut[i] = scores[base + order[i]];
        }
        return size;
    }

    /** Writes the state (for resuming and merging partial runs). */
    public void write(java.io.DataOutputStream out) throws java.io.IOException {
        out.writeInt(latents);
        out.writeInt(n);
        for (int l = 0; l < latents; l++) {
            out.writeInt(sizes[l]);
            int base = l * n;
            for (int i = 0; i < sizes[l]; i++) {
                out.writeFloat(scores[base + i]);
                out.writeLong(ids[base + i]);
            }
        }
    }

    public static TopSentences read(java.io.DataInputStream in) throws java.io.IOException {
        TopSentences t = new TopSentences(in.readInt(), in.readInt());
        for (int l = 0; l < t.latents; l++) {
            int size = in.readInt();
            if (size < 0 || size > t.n) {
                throw new java.io.IOException("latent " + l + " records " + size + " sentences, more than " + t.n);
            }
            for (int i = 0; i < size; i++) {
                t.offer(l, in.readFloat(), in.readLong());
            }
        }
        return t;
    }
}
