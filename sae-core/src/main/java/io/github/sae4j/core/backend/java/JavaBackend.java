package io.github.sae4j.core.backend.java;

import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.backend.Device;
import java.util.List;

/**
 * The pure-Java backend: the Vector API and a thread pool on the JVM heap. It needs nothing but the JDK,
 * and it is the oracle every other backend is tested against.
 */
public final class JavaBackend implements Backend {

    public static final String NAME = "java";

    private final WorkerPool pool;
    private final List<Device> devices;

    /** A backend computing on {@code threads} threads. */
    public JavaBackend(int threads) {
        this.pool = new WorkerPool(threads);
        this.devices = List.of(new JavaDevice(this, 0, pool));
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<Device> devices() {
        return devices;
    }

    /** The only device. */
    public JavaDevice device() {
        return (JavaDevice) devices.getFirst();
    }

    @Override
    public void close() {
        pool.close();
    }
}
