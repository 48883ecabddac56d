package io.github.sae4j.core.store;

import io.github.sae4j.api.activation.ActivationReadOptions;
import io.github.sae4j.api.activation.ActivationSplit;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which chunks (record batches) a stream reads and in which order: the train/validation split, each epoch's chunk
 * permutation, its grouping into shuffle windows and each window's row permutation. Everything is a pure function
 * of the dataset's chunk list and the read options, so a cursor of three numbers locates any row.
 */
final class ReadPlan {

    /** One record batch of one shard. */
    record Chunk(int shard, int batch, int rows) {
    }

    /** Consecutive chunks of an epoch's order that are loaded, shuffled and emitted together. */
    record Window(int[] chunks, int rows) {
    }

    /** Where a stream stands: the next row is row {@code row} of window {@code window} of epoch {@code epoch}. */
    record Position(long epoch, int window, int row) {
    }

    private static final String CURSOR_VERSION = "v1";
    private static final Pattern CURSOR = Pattern.compile(
            "v1:epoch=(\\d{1,18}):window=(\\d{1,10}):row=(\\d{1,10}):plan=([0-9a-f]{16})");

    private final List<Chunk> chunks;
    private final boolean shuffle;
    private final long seed;
    private final int windowRows;
    private final boolean repeat;
    private final long fingerprint;
    private final long totalRows;
    private final int maxChunkRows;
    private final List<Window> sequentialWindows;
    // The last few epochs' windows: the stream asks for the current epoch and, when prefetching, the next.
    private final Map<Long, List<Window>> epochCache = new LinkedHashMap<>(4, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, List<Window>> eldest) {
            return size() > 3;
        }
    };

    private ReadPlan(List<Chunk> chunks, ActivationReadOptions options, long fingerprint) {
        this.chunks = List.copyOf(chunks);
        this.shuffle = options.shuffle();
        this.seed = options.seed();
        this.windowRows = options.shuffleWindowRows();
        this.repeat = options.repeat();
        this.fingerprint = fingerprint;
        long total = 0;
        int max = 0;
        for (Chunk c : chunks) {
            total += c.rows();
            max = Math.max(max, c.rows());
        }
        this.totalRows = total;
        this.maxChunkRows = max;
        if (shuffle) {
            sequentialWindows = null;
        } else {
            List<Window> ws = new ArrayList<>(chunks.size());
            for (int i = 0; i < chunks.size(); i++) {
                ws.add(new Window(new int[] {i}, chunks.get(i).rows()));
            }
            sequentialWindows = List.copyOf(ws);
        }
    }

    /**
     * The plan for reading a dataset with {@code options}.
     *
     * @param shardNames the shard file names, in dataset order
     * @param batchRows  the row count of each record batch of each shard
     */
    static ReadPlan of(List<String> shardNames, List<int[]> batchRows, ActivationReadOptions options) {
        boolean[][] validation = validationChunks(shardNames, batchRows, options.validationFraction());
        List<Chunk> chunks = new ArrayList<>();
        long fp = SplitMix64.mix(0x7361653476310AL, options.split().ordinal(), options.shuffle() ? 1 : 0,
                options.repeat() ? 1 : 0);
        if (options.split() != ActivationSplit.ALL) {
            fp = SplitMix64.mix(fp, Double.doubleToLongBits(options.validationFraction()));
        }
        if (options.shuffle()) {
            fp = SplitMix64.mix(fp, options.seed(), options.shuffleWindowRows());
        }
        for (int s = 0; s < shardNames.size(); s++) {
            int[] rows = batchRows.get(s);
            long nameHash = fnv1a64(shardNames.get(s));
            for (int b = 0; b < rows.length; b++) {
                boolean inSplit = switch (options.split()) {
                    case ALL -> true;
                    case TRAIN -> !validation[s][b];
                    case VALIDATION -> validation[s][b];
                };
                if (inSplit && rows[b] > 0) {
                    chunks.add(new Chunk(s, b, rows[b]));
                    fp = SplitMix64.mix(fp, nameHash, b, rows[b]);
                }
            }
        }
        return new ReadPlan(chunks, options, fp);
    }

    /**
     * Which chunks are held out for validation. A chunk is when a hash of its shard's file name and its batch index
     * falls below {@code fraction}: the split does not depend on the seed, so training and a later evaluation agree.
     * At least one chunk trains, and with a positive fraction and at least two chunks at least one validates.
     */
    static boolean[][] validationChunks(List<String> shardNames, List<int[]> batchRows, double fraction) {
        boolean[][] out = new boolean[shardNames.size()][];
        int total = 0;
        int held = 0;
        int lowS = -1;
        int lowB = -1;
        int highS = -1;
        int highB = -1;
        double low = Double.POSITIVE_INFINITY;
        double high = Double.NEGATIVE_INFINITY;
        for (int s = 0; s < shardNames.size(); s++) {
            out[s] = new boolean[batchRows.get(s).length];
            long nameHash = fnv1a64(shardNames.get(s));
            for (int b = 0; b < out[s].length; b++) {
                double u = chunkHash(nameHash, b);
                out[s][b] = u < fraction;
                total++;
                held += out[s][b] ? 1 : 0;
                if (u < low) {
                    low = u;
                    lowS = s;
                    lowB = b;
                }
                if (u > high) {
                    high = u;
                    highS = s;
                    highB = b;
                }
            }
        }
        if (held > 0 && held == total) {
            out[highS][highB] = false;
        } else if (fraction > 0 && held == 0 && total >= 2) {
            out[lowS][lowB] = true;
        }
        return out;
    }

    /** Uniform in [0, 1), a function of the shard name and batch index only. */
    static double chunkHash(long shardNameHash, int batch) {
        return (SplitMix64.mix(shardNameHash, batch) >>> 11) * 0x1.0p-53;
    }

    static long fnv1a64(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xFF;
            h *= 0x100000001b3L;
        }
        return h;
    }

    List<Chunk> chunks() {
        return chunks;
    }

    Chunk chunk(int index) {
        return chunks.get(index);
    }

    boolean isEmpty() {
        return chunks.isEmpty();
    }

    boolean shuffle() {
        return shuffle;
    }

    boolean repeat() {
        return repeat;
    }

    long totalRows() {
        return totalRows;
    }

    int maxChunkRows() {
        return maxChunkRows;
    }

    /**
     * The most rows one window can hold: one chunk when reading in order; when shuffling, windows close as soon as
     * they reach {@code shuffleWindowRows}, so they stay below that plus one chunk.
     */
    long maxWindowRows() {
        if (!shuffle) {
            return maxChunkRows;
        }
        return Math.min(totalRows, (long) windowRows - 1 + maxChunkRows);
    }

    /** The windows of an epoch, in the order they are read. */
    List<Window> windows(long epoch) {
        if (!shuffle) {
            return sequentialWindows;
        }
        return epochCache.computeIfAbsent(epoch, this::shuffledWindows);
    }

    private List<Window> shuffledWindows(long epoch) {
        int n = chunks.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        SplitMix64.seeded(seed, epoch, 0x636875L).shuffle(order, n);
        List<Window> windows = new ArrayList<>();
        int start = 0;
        long rows = 0;
        for (int i = 0; i < n; i++) {
            rows += chunks.get(order[i]).rows();
            if (rows >= windowRows || i == n - 1) {
                int[] members = new int[i + 1 - start];
                System.arraycopy(order, start, members, 0, members.length);
                windows.add(new Window(members, (int) rows));
                start = i + 1;
                rows = 0;
            }
        }
        return List.copyOf(windows);
    }

    /** Writes the order in which window {@code window} of {@code epoch} emits its {@code rows} rows. */
    void rowOrder(long epoch, int window, int rows, int[] into) {
        for (int i = 0; i < rows; i++) {
            into[i] = i;
        }
        SplitMix64.seeded(seed, epoch, window, 0x726f77L).shuffle(into, rows);
    }

    /** The window after {@code (epoch, window)}, or null at the end of a stream that does not repeat. */
    Position nextWindow(long epoch, int window) {
        if (window + 1 < windows(epoch).size()) {
            return new Position(epoch, window + 1, 0);
        }
        return repeat ? new Position(epoch + 1, 0, 0) : null;
    }

    String cursor(Position p) {
        return CURSOR_VERSION + ":epoch=" + p.epoch() + ":window=" + p.window() + ":row=" + p.row()
                + ":plan=" + String.format("%016x", fingerprint);
    }

    /**
     * Parses a cursor written by {@link #cursor} for this plan.
     *
     * @throws IllegalArgumentException naming what does not fit: the syntax, the dataset or options, or the position
     */
    Position parseCursor(String cursor) {
        Matcher m = CURSOR.matcher(cursor.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("resume cursor '" + cursor + "' is not an sae4j activation cursor; "
                    + "expected v1:epoch=E:window=W:row=R:plan=HEX as returned by ActivationStream.cursor()");
        }
        long epoch = Long.parseLong(m.group(1));
        long window = Long.parseLong(m.group(2));
        long row = Long.parseLong(m.group(3));
        long plan = Long.parseUnsignedLong(m.group(4), 16);
        if (plan != fingerprint) {
            throw new IllegalArgumentException("resume cursor '" + cursor + "' was made for another dataset or other "
                    + "read options (its plan is " + m.group(4) + ", this one is " + String.format("%016x", fingerprint)
                    + "); resume with the same shards and the same split, validation fraction, shuffle, seed, shuffle "
                    + "window and repeat setting as the run that wrote it");
        }
        if (isEmpty()) {
            if (epoch != 0 || window != 0 || row != 0) {
                throw new IllegalArgumentException("resume cursor '" + cursor + "' points past the start of an empty split");
            }
            return new Position(0, 0, 0);
        }
        if (!repeat && epoch > 0) {
            if (epoch == 1 && window == 0 && row == 0) {
                return new Position(1, 0, 0);
            }
            throw new IllegalArgumentException("resume cursor '" + cursor + "' points into epoch " + epoch
                    + " but the stream does not repeat, so it has only epoch 0");
        }
        List<Window> ws = windows(epoch);
        if (window >= ws.size()) {
            throw new IllegalArgumentException("resume cursor '" + cursor + "' points at window " + window + " of epoch "
                    + epoch + ", which has " + ws.size() + " windows");
        }
        if (row > ws.get((int) window).rows()) {
            throw new IllegalArgumentException("resume cursor '" + cursor + "' points at row " + row + " of window "
                    + window + ", which has " + ws.get((int) window).rows() + " rows");
        }
        return new Position(epoch, (int) window, (int) row);
    }
}
