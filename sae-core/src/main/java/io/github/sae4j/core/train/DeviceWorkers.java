package io.github.sae4j.core.train;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.IntConsumer;

/** One thread per device but the first, whose work runs on the caller's thread: a task runs on every device at once. */
final class DeviceWorkers implements AutoCloseable {

    private final int devices;
    private final ExecutorService workers;

    DeviceWorkers(int devices, String threadName) {
        this.devices = devices;
        this.workers = devices == 1 ? null : Executors.newFixedThreadPool(devices - 1, task -> {
            Thread t = new Thread(task, threadName);
            t.setDaemon(true);
            return t;
        });
    }

    /** Runs {@code task} for every device, the first on this thread, and rethrows the first failure. */
    void forEach(IntConsumer task) {
        if (workers == null) {
            task.accept(0);
            return;
        }
        List<java.util.concurrent.Future<?>> others = new ArrayList<>();
        for (int d = 1; d < devices; d++) {
            int device = d;
            others.add(workers.submit(() -> task.accept(device)));
        }
        Throwable failure = null;
        try {
            task.accept(0);
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        // Wait for every device even after a failure, so that none still computes while the caller cleans up.
        for (java.util.concurrent.Future<?> f : others) {
            try {
                f.get();
            } catch (ExecutionException e) {
                failure = failure == null ? e.getCause() : failure;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure = failure == null ? e : failure;
            }
        }
        switch (failure) {
            case null -> { }
            case RuntimeException e -> throw e;
            case Error e -> throw e;
            default -> throw new IllegalStateException("a device's part of the step failed: " + failure, failure);
        }
    }

    @Override
    public void close() {
        if (workers != null) {
            workers.shutdownNow();
        }
    }
}
