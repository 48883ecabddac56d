package io.github.sae4j.core.backend.java;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;

/**
 * A fixed set of worker threads that runs numbered tasks and waits for them. Work is split into tasks by the
 * caller, never by the pool, so results do not depend on how many threads run them.
 */
public final class WorkerPool implements AutoCloseable {

    private final int threads;
    private final ForkJoinPool pool;

    public WorkerPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.pool = threads == 1 ? null : new ForkJoinPool(threads, p -> {
            ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
            t.setName("sae4j-java-" + t.getPoolIndex());
            t.setDaemon(true);
            return t;
        }, null, false);
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code task.accept(i)} for every {@code i} in {@code [0, tasks)} and returns when all are done.
     * Exceptions thrown by tasks are rethrown in the caller.
     */
    public void run(int tasks, IntConsumer task) {
        if (tasks <= 0) {
            return;
        }
        if (pool == null || tasks == 1) {
            for (int i = 0; i < tasks; i++) {
                task.accept(i);
            }
            return;
        }
        pool.invoke(new Range(task, 0, tasks));
    }

    /** Runs {@code body(start, end)} over {@code [0, n)} split into chunks of at least {@code grain} elements. */
    public void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int chunks = Math.max(1, Math.min(threads * 4, (n + grain - 1) / Math.max(1, grain)));
        int chunk = (n + chunks - 1) / chunks;
        int count = (n + chunk - 1) / chunk;
        run(count, c -> body.run(c * chunk, Math.min(n, (c + 1) * chunk)));
    }

    /** The work of one chunk {@code [start, end)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }

    private static final class Range extends RecursiveAction {
        private final IntConsumer task;
        private final int lo;
        private final int hi;

        Range(IntConsumer task, int lo, int hi) {
            this.task = task;
            this.lo = lo;
            this.hi = hi;
        }

        @Override
        protected void compute() {
            if (hi - lo == 1) {
                task.accept(lo);
                return;
            }
            int mid = (lo + hi) >>> 1;
            invokeAll(new Range(task, lo, mid), new Range(task, mid, hi));
        }
    }
}
