package io.github.sae4j.core.store;

import io.github.sae4j.api.activation.ActivationBatch;
import io.github.sae4j.api.activation.ActivationStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Streams the rows of an {@link ActivationDataset} in the order a {@link ReadPlan} gives: window by window, each
 * window loaded whole (its chunks read from their shards), its rows emitted in the plan's order. At most two
 * windows are in memory, the one being emitted and the next, loaded on a background thread meanwhile. bfloat16
 * windows stay as stored bits and are decoded as rows are emitted, so they take half the memory.
 *
 * <p>All shard reading happens on the stream's one loader thread, so shard readers are never shared.
 */
final class ShardActivationStream implements ActivationStream {

    /** Open shard readers kept per stream; shuffled reads return to the same shards often. */
    private static final int OPEN_READERS = 8;

    private final ActivationDataset dataset;
    private final ReadPlan plan;
    private final int dModel;
    private final ActivationDType dtype;
    private final boolean prefetch;
    private final int bufferRows;
    private final ExecutorService loader;
    private final Map<Integer, ActivationShardReader> readers = new LinkedHashMap<>(16, 0.75f, true);
    private final WindowBuffer[] buffers = new WindowBuffer[2];

    private WindowBuffer current;
    private Future<WindowBuffer> pending;
    private ReadPlan.Position pendingAt;
    private long epoch;
    private int window;
    private int row;
    private int largestWindowRows;
    private boolean closed;

    /** One loaded window: its rows as stored, their provenance, and the order to emit them in. */
    private static final class WindowBuffer {
        final short[] bits;
        final float[] floats;
        final long[] sentenceIds;
        final int[] positions;
        final int[] tokenIds;
        final int[] order;
        long epoch = -1;
        int window = -1;
        int rows;

        WindowBuffer(int capacity, int dModel, ActivationDType dtype, boolean shuffled) {
            int values = Math.multiplyExact(capacity, dModel);
            bits = dtype == ActivationDType.BF16 ? new short[values] : null;
            floats = dtype == ActivationDType.F32 ? new float[values] : null;
            sentenceIds = new long[capacity];
            positions = new int[capacity];
            tokenIds = new int[capacity];
            order = shuffled ? new int[capacity] : null;
        }
    }

    ShardActivationStream(ActivationDataset dataset, ReadPlan plan, String resumeCursor, boolean prefetch) {
        this.dataset = dataset;
        this.plan = plan;
        this.dModel = dataset.header().dModel();
        this.dtype = dataset.header().dtype();
        this.prefetch = prefetch;
        long maxRows = plan.maxWindowRows();
        if (maxRows * dModel > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a shuffle window of up to " + maxRows + " rows x d_model " + dModel
                    + " does not fit in one Java array; lower shuffleWindowRows");
        }
        this.bufferRows = (int) maxRows;
        if (resumeCursor != null) {
            ReadPlan.Position p = plan.parseCursor(resumeCursor);
            epoch = p.epoch();
            window = p.window();
            row = p.row();
        }
        String name = "sae4j-activations-" + dataset.location().getFileName();
        this.loader = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public boolean next(ActivationBatch batch) throws IOException {
        if (closed) {
            throw new IllegalStateException("this activation stream over " + dataset.location() + " is closed");
        }
        if (batch.dModel() != dModel) {
            throw new IllegalArgumentException("the batch has d_model " + batch.dModel() + " but " + dataset.location()
                    + " holds d_model " + dModel);
        }
        int capacity = batch.capacity();
        int filled = 0;
        while (filled < capacity && advance()) {
            ensureLoaded();
            int n = Math.min(capacity - filled, current.rows - row);
            emit(current, row, n, batch, filled);
            row += n;
            filled += n;
        }
        batch.setRows(filled);
        return filled > 0;
    }

    @Override
    public String cursor() {
        advance();
        return plan.cursor(new ReadPlan.Position(epoch, window, row));
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        dataset.streamClosed(this);
        if (pending != null) {
            pending.cancel(false);
            pending = null;
        }
        // Queued behind any load still running, on the thread that owns the readers.
        Future<?> closing = loader.submit(() -> {
            IOException first = null;
            for (ActivationShardReader r : readers.values()) {
                try {
                    r.close();
                } catch (IOException e) {
                    first = first == null ? e : first;
                }
            }
            readers.clear();
            if (first != null) {
                throw new UncheckedIOException(first);
            }
        });
        loader.shutdown();
        try {
            closing.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof UncheckedIOException u ? u.getCause() : new IOException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while closing the activation stream");
        }
        current = null;
        buffers[0] = null;
        buffers[1] = null;
    }

    /** The largest window loaded so far, in rows (memory is bounded by this, at most two windows at a time). */
    int largestWindowRows() {
        return largestWindowRows;
    }

    /** The rows the window buffers were sized for. */
    int bufferRows() {
        return bufferRows;
    }

    /** Moves past finished windows and epochs; false when the stream has ended. */
    private boolean advance() {
        if (plan.isEmpty()) {
            return false;
        }
        while (true) {
            if (!plan.repeat() && epoch >= 1) {
                return false;
            }
            List<ReadPlan.Window> ws = plan.windows(epoch);
            if (row < ws.get(window).rows()) {
                return true;
            }
            row = 0;
            window++;
            if (window == ws.size()) {
                window = 0;
                epoch++;
            }
        }
    }

    private void ensureLoaded() throws IOException {
        if (current != null && current.epoch == epoch && current.window == window) {
            return;
        }
        WindowBuffer loaded = null;
        if (pending != null) {
            Future<WindowBuffer> f = pending;
            boolean wanted = pendingAt.epoch() == epoch && pendingAt.window() == window;
            pending = null;
            if (wanted) {
                loaded = await(f);
            } else {
                f.cancel(false);
                awaitQuietly(f);
            }
        }
        if (loaded == null) {
            WindowBuffer target = freeBuffer();
            long e = epoch;
            int w = window;
            ReadPlan.Window planned = plan.windows(e).get(w);
            loaded = await(loader.submit(() -> load(target, e, w, planned)));
        }
        current = loaded;
        largestWindowRows = Math.max(largestWindowRows, loaded.rows);
        if (prefetch) {
            ReadPlan.Position next = plan.nextWindow(epoch, window);
            if (next != null) {
                // The plan (and its cache) is used on this thread only; the loader gets the window it needs.
                ReadPlan.Window planned = plan.windows(next.epoch()).get(next.window());
                WindowBuffer target = freeBuffer();
                pendingAt = next;
                pending = loader.submit(() -> load(target, next.epoch(), next.window(), planned));
            }
        }
    }

    private WindowBuffer freeBuffer() {
        int i = buffers[0] == null || buffers[0] != current ? 0 : 1;
        if (buffers[i] == null) {
            buffers[i] = new WindowBuffer(bufferRows, dModel, dtype, plan.shuffle());
        }
        return buffers[i];
    }

    /** Runs on the loader thread. */
    private WindowBuffer load(WindowBuffer buf, long epoch, int window, ReadPlan.Window w) throws IOException {
        int offset = 0;
        for (int index : w.chunks()) {
            ReadPlan.Chunk c = plan.chunk(index);
            ActivationShardReader reader = reader(c.shard());
            if (dtype == ActivationDType.BF16) {
                reader.readBatchBits(c.batch(), buf.bits, buf.sentenceIds, buf.positions, buf.tokenIds, offset);
            } else {
                reader.readBatch(c.batch(), buf.floats, buf.sentenceIds, buf.positions, buf.tokenIds, offset);
            }
            offset += c.rows();
        }
        buf.rows = offset;
        if (buf.order != null) {
            plan.rowOrder(epoch, window, offset, buf.order);
        }
        buf.epoch = epoch;
        buf.window = window;
        return buf;
    }

    /** Runs on the loader thread. */
    private ActivationShardReader reader(int shard) throws IOException {
        ActivationShardReader r = readers.get(shard);
        if (r == null) {
            r = dataset.openShard(shard);
            readers.put(shard, r);
            if (readers.size() > OPEN_READERS) {
                var eldest = readers.entrySet().iterator().next();
                readers.remove(eldest.getKey());
                eldest.getValue().close();
            }
        }
        return r;
    }

    private void emit(WindowBuffer w, int from, int n, ActivationBatch batch, int at) {
        float[] out = batch.values();
        long[] sid = batch.sentenceIds();
        int[] pos = batch.positions();
        int[] tok = batch.tokenIds();
        int d = dModel;
        if (w.order == null) {
            if (w.bits != null) {
                ValueKernels.decode(w.bits, from * d, out, at * d, n * d);
            } else {
                System.arraycopy(w.floats, from * d, out, at * d, n * d);
            }
            System.arraycopy(w.sentenceIds, from, sid, at, n);
            System.arraycopy(w.positions, from, pos, at, n);
            System.arraycopy(w.tokenIds, from, tok, at, n);
            return;
        }
        for (int i = 0; i < n; i++) {
            int src = w.order[from + i];
            int dst = at + i;
            if (w.bits != null) {
                ValueKernels.decode(w.bits, src * d, out, dst * d, d);
            } else {
                System.arraycopy(w.floats, src * d, out, dst * d, d);
            }
            sid[dst] = w.sentenceIds[src];
            pos[dst] = w.positions[src];
            tok[dst] = w.tokenIds[src];
        }
    }

    private static WindowBuffer await(Future<WindowBuffer> f) throws IOException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IOException(cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while loading activations");
        }
    }

    private static void awaitQuietly(Future<?> f) {
        try {
            f.get();
        } catch (ExecutionException | CancellationException e) {
            // A prefetch nobody wants any more.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
