package io.github.sae4j.core.capture;

import io.github.sae4j.api.activation.ActivationBatch;
import io.github.sae4j.api.activation.ActivationReadOptions;
import io.github.sae4j.api.activation.ActivationSource;
import io.github.sae4j.api.activation.ActivationSourceInfo;
import io.github.sae4j.api.activation.ActivationSplit;
import io.github.sae4j.api.activation.ActivationStream;
import io.github.sae4j.api.model.HookPoint;
import io.github.sae4j.api.model.LanguageModel;
import io.github.sae4j.api.model.ResidualHook;
import io.github.sae4j.api.model.ResidualSlice;
import io.github.sae4j.api.text.Sentence;
import io.github.sae4j.api.text.SentenceSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Activations straight from a model reading sentences, so an SAE can train without storing anything (the original
 * work stored 3.2 TB first). Rows come in windows of whole sentences, about {@code shuffleWindowRows} rows each,
 * shuffled within the window when asked. A sentence belongs to the validation split when a hash of its id falls
 * below the validation fraction, whatever the seed, so training and evaluation agree.
 *
 * <p>A stream's cursor names the epoch, the window and the rows already taken from it; opening with that cursor
 * recomputes that one window and continues exactly where the stream stood, so training resumes bit for bit.
 * Streams share the model: they take turns, one forward at a time.
 */
public final class LiveActivationSource implements ActivationSource {

    private static final String CURSOR_PREFIX = "live.v1";

    private final LanguageModel model;
    private final SentenceSource sentences;
    private final HookPoint hook;
    private final CaptureOptions options;
    private final Map<String, String> metadata;
    private final AutoCloseable[] owned;

    /**
     * @param owned closed with this source (the model and the sentence source, when this source opened them)
     */
    public LiveActivationSource(LanguageModel model, SentenceSource sentences, HookPoint hook, CaptureOptions options,
                                Map<String, String> metadata, AutoCloseable... owned) {
        if (hook.layer() >= model.info().layers()) {
            throw new IllegalArgumentException(hook + " is past the model's last block: " + model.info().name()
                    + " has blocks 0.." + (model.info().layers() - 1));
        }
        this.model = model;
        this.sentences = sentences;
        this.hook = hook;
        this.options = options;
        this.metadata = Map.copyOf(metadata);
        this.owned = owned;
    }

    @Override
    public ActivationSourceInfo info() {
        return new ActivationSourceInfo(model.info().dModel(), -1, model.info().name(), hook.toString(), null, metadata);
    }

    @Override
    public ActivationStream open(ActivationReadOptions readOptions) {
        return new LiveStream(readOptions);
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception e) {
                if (first == null) {
                    first = e instanceof IOException io ? io : new IOException(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** Whether a sentence is held out: a hash of its id against the fraction, independent of any seed. */
    static boolean isValidation(long sentenceId, double fraction) {
        long h = sentenceId * 0x9E3779B97F4A7C15L;
        h = (h ^ (h >>> 31)) * 0xBF58476D1CE4E5B9L;
        h ^= h >>> 29;
        return (h >>> 11) * 0x1.0p-53 < fraction;
    }

    private final class LiveStream implements ActivationStream {
        private final ActivationReadOptions ro;
        private final int dModel = model.info().dModel();
        private Iterator<Sentence> it;
        /** Sentences taken from the iterator this epoch (every one, in either split). */
        private long ordinal;
        private int epoch;
        private long window = -1;
        private long windowStart;
        private float[] values = new float[0];
        private long[] ids = new long[0];
        private int[] positions = new int[0];
        private int[] tokens = new int[0];
        private int[] order = new int[0];
        private int rows;
        private int emitted;
        private boolean ended;

        LiveStream(ActivationReadOptions ro) {
            this.ro = ro;
            this.it = sentences.iterator();
            if (ro.resumeCursor() != null) {
                resume(ro.resumeCursor());
            }
        }

        private void resume(String cursor) {
            String[] f = cursor.split(":");
            if (f.length != 5 || !f[0].equals(CURSOR_PREFIX)) {
                throw new IllegalArgumentException("'" + cursor + "' is not a live activation cursor (" + CURSOR_PREFIX
                        + ":epoch:window:first-sentence:rows-taken); was the run trained on stored shards?");
            }
            epoch = Integer.parseInt(f[1]);
            long w = Long.parseLong(f[2]);
            long start = Long.parseLong(f[3]);
            int taken = Integer.parseInt(f[4]);
            while (ordinal < start && it.hasNext()) {
                it.next();
                ordinal++;
            }
            window = w - 1;
            if (!fillWindow()) {
                ended = true;
                return;
            }
            emitted = Math.min(taken, rows);
        }

        @Override
        public boolean next(ActivationBatch batch) throws IOException {
            int filled = 0;
            try {
                while (filled < batch.capacity() && !ended) {
                    if (emitted == rows && !fillWindow()) {
                        ended = true;
                        break;
                    }
                    int take = Math.min(batch.capacity() - filled, rows - emitted);
                    for (int i = 0; i < take; i++) {
                        int r = order[emitted + i];
                        System.arraycopy(values, r * dModel, batch.values(), (filled + i) * dModel, dModel);
                        batch.sentenceIds()[filled + i] = ids[r];
                        batch.positions()[filled + i] = positions[r];
                        batch.tokenIds()[filled + i] = tokens[r];
                    }
                    filled += take;
                    emitted += take;
                }
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
            batch.setRows(filled);
            return filled > 0;
        }

        /** Reads the next window of whole sentences of this split, runs the model over it and orders its rows. */
        private boolean fillWindow() {
            List<int[]> seqs = new ArrayList<>();
            List<Long> seqIds = new ArrayList<>();
            int total = 0;
            long start = ordinal;
            while (total < ro.shuffleWindowRows()) {
                if (!it.hasNext()) {
                    if (!seqs.isEmpty() || !ro.repeat()) {
                        break;
                    }
                    epoch++;
                    it = sentences.iterator();
                    ordinal = 0;
                    start = 0;
                    if (!it.hasNext()) {
                        return false;
                    }
                }
                Sentence s = it.next();
                ordinal++;
                boolean held = ro.split() != ActivationSplit.ALL && isValidation(s.id(), ro.validationFraction());
                if ((ro.split() == ActivationSplit.TRAIN && held) || (ro.split() == ActivationSplit.VALIDATION && !held)
                        || s.text().isBlank()) {
                    continue;
                }
                int[] t = model.tokenizer().encode(s.text(), options.addBos());
                if (t.length > options.maxTokens()) {
                    t = Arrays.copyOf(t, options.maxTokens());
                }
                if (t.length == 0) {
                    continue;
                }
                seqs.add(t);
                seqIds.add(s.id());
                total += t.length;
            }
            if (seqs.isEmpty()) {
                return false;
            }
            window++;
            windowStart = start;
            collect(seqs, seqIds, total);
            order = new int[rows];
            for (int i = 0; i < rows; i++) {
                order[i] = i;
            }
            if (ro.shuffle()) {
                SplittableRandom rng = new SplittableRandom(ro.seed() * 0x9E3779B97F4A7C15L + epoch * 1_000_003L + window);
                for (int i = rows - 1; i > 0; i--) {
                    int j = rng.nextInt(i + 1);
                    int tmp = order[i];
                    order[i] = order[j];
                    order[j] = tmp;
                }
            }
            emitted = 0;
            return rows > 0 || fillWindow();
        }

        /** Runs the model over the window's sentences in forwards of at most forwardTokens tokens. */
        private void collect(List<int[]> seqs, List<Long> seqIds, int total) {
            if (values.length < total * dModel) {
                values = new float[total * dModel];
                ids = new long[total];
                positions = new int[total];
                tokens = new int[total];
            }
            rows = 0;
            int from = 0;
            while (from < seqs.size()) {
                int to = from;
                int count = 0;
                while (to < seqs.size() && (to == from || count + seqs.get(to).length <= options.forwardTokens())) {
                    count += seqs.get(to++).length;
                }
                List<int[]> chunk = seqs.subList(from, to);
                int[][] keep = new int[chunk.size()][];
                int[] firstRow = new int[chunk.size()];
                for (int s = 0; s < chunk.size(); s++) {
                    int[] t = chunk.get(s);
                    int[] k = new int[t.length];
                    int n = 0;
                    for (int p = 0; p < t.length; p++) {
                        if ((p == 0 && options.dropFirstToken())
                                || (options.excludeSpecialTokens() && model.tokenizer().isSpecial(t[p]))) {
                            continue;
                        }
                        k[n++] = p;
                    }
                    keep[s] = Arrays.copyOf(k, n);
                    firstRow[s] = rows;
                    for (int p : keep[s]) {
                        ids[rows] = seqIds.get(from + s);
                        positions[rows] = p;
                        tokens[rows] = t[p];
                        rows++;
                    }
                }
                ResidualHook collector = new ResidualHook() {
                    @Override
                    public HookPoint point() {
                        return hook;
                    }

                    @Override
                    public void onResidual(ResidualSlice slice) {
                        int row = firstRow[slice.sequence()];
                        for (int p : keep[slice.sequence()]) {
                            System.arraycopy(slice.data(), slice.rowOffset(p - slice.firstPosition()), values,
                                    (row++) * dModel, dModel);
                        }
                    }
                };
                synchronized (model) {
                    model.forward(chunk, List.of(collector), null);
                }
                from = to;
            }
        }

        @Override
        public String cursor() {
            return CURSOR_PREFIX + ":" + epoch + ":" + Math.max(window, 0) + ":" + windowStart + ":" + emitted;
        }

        @Override
        public void close() {
        }
    }
}
