package io.github.sae4j.core.backend.java;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A fixed set of worker threads that runs numbered tasks and waits for them. Work is split into tasks by the
 * caller, never by the pool, so results do not depend on how many threads run them.
 *
 * <p>The calling thread takes tasks too: every participant (the caller and up to {@code threads - 1} workers) takes
 * the next task number from a shared counter until none is left, and the caller then waits only for the tasks a
 * worker has already started. A worker that wakes late finds nothing left and goes back to waiting, so small jobs
 * (one token's matrix-vector products, a one-row encoder product) no longer wait for sleeping threads to wake: on a
 * 2-core machine handing every small job to parked workers made the embedded model's decoding 4x slower with 2
 * threads than with 1.
 */
public final class WorkerPool implements AutoCloseable {

    /** How long an idle worker keeps looking for the next job before it parks (about 20-50 us). */
    private static final int SPINS = 20_000;

    private final int threads;
    private final Worker[] workers;

    public WorkerPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker("sae4j-java-" + i);
        }
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
        if (workers.length == 0 || tasks == 1) {
            for (int i = 0; i < tasks; i++) {
                task.accept(i);
            }
            return;
        }
        Job job = new Job(tasks, task);
        int helpers = Math.min(threads - 1, tasks - 1);
        for (int h = 0; h < helpers; h++) {
            workers[h].offer(job);
        }
        job.work();
        job.awaitAll();
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
        for (Worker w : workers) {
            w.close();
        }
    }

    /**
     * One worker thread: it takes the job offered to it, and between jobs spins a short while before parking, so
     * the many small jobs of a decoding step find it awake; a job offered to a parked worker unparks it.
     */
    private static final class Worker implements Runnable {
        private final AtomicReference<Job> offered = new AtomicReference<>();
        private final Thread thread;
        private volatile boolean parked;
        private volatile boolean closed;

        Worker(String name) {
            thread = new Thread(this, name);
            thread.setDaemon(true);
            thread.start();
        }

        void offer(Job job) {
            offered.set(job);
            if (parked) {
                LockSupport.unpark(thread);
            }
        }

        void close() {
            closed = true;
            LockSupport.unpark(thread);
        }

        @Override
        public void run() {
            while (!closed) {
                Job job = offered.getAndSet(null);
                if (job != null) {
                    job.work();
                    continue;
                }
                for (int i = 0; i < SPINS && offered.get() == null && !closed; i++) {
                    Thread.onSpinWait();
                }
                if (offered.get() == null && !closed) {
                    parked = true;
                    // Checked again after announcing the park: an offer made in between either is seen here or
                    // sees parked and unparks.
                    if (offered.get() == null && !closed) {
                        LockSupport.park(this);
                    }
                    parked = false;
                }
            }
        }
    }

    /** One {@link #run}: tasks handed out by a counter to whoever asks first. */
    private static final class Job {
        private final int tasks;
        private final IntConsumer task;
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger finished = new AtomicInteger();
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final Thread caller = Thread.currentThread();

        Job(int tasks, IntConsumer task) {
            this.tasks = tasks;
            this.task = task;
        }

        void work() {
            for (int i; (i = next.getAndIncrement()) < tasks; ) {
                try {
                    if (failure.get() == null) {
                        task.accept(i);
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    if (finished.incrementAndGet() == tasks && Thread.currentThread() != caller) {
                        LockSupport.unpark(caller);
                    }
                }
            }
        }

        /** Waits for the tasks workers have taken; rethrows the first failure. */
        void awaitAll() {
            for (int spins = 0; finished.get() < tasks; spins++) {
                if (spins < 2_000) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.parkNanos(this, 50_000);
                }
            }
            Throwable t = failure.get();
            if (t instanceof RuntimeException r) {
                throw r;
            }
            if (t instanceof Error e) {
                throw e;
            }
            if (t != null) {
                throw new IllegalStateException(t);
            }
        }
    }
}
