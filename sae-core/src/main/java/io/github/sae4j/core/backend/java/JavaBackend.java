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

    private final String name;
    private final WorkerPool pool;
    private final List<Device> devices;
    private final AutoCloseable onClose;

    /** A backend computing on {@code threads} threads. */
    public JavaBackend(int threads) {
        this.name = NAME;
        this.pool = new WorkerPool(threads);
        this.devices = List.of(new JavaDevice(this, 0, pool, null));
        this.onClose = null;
    }

    /**
     * A backend named {@code name} with the pure-Java tensors and kernels, one device per entry of {@code gemms},
     * whose dense products go to that entry (a native BLAS on the host, or one GPU each); {@code onClose} releases
     * what they hold.
     */
    public JavaBackend(String name, int threads, List<DenseGemm> gemms, AutoCloseable onClose) {
        if (gemms.isEmpty()) {
            throw new IllegalArgumentException("a backend needs at least one device");
        }
        this.name = name;
        this.pool = new WorkerPool(threads);
        List<Device> d = new java.util.ArrayList<>();
        for (int i = 0; i < gemms.size(); i++) {
            d.add(new JavaDevice(this, i, pool, gemms.get(i)));
        }
        this.devices = List.copyOf(d);
        this.onClose = onClose;
    }

    @Override
    public String name() {
        return name;
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
        if (onClose != null) {
            try {
                onClose.close();
            } catch (Exception e) {
                throw new IllegalStateException(name + " backend: releasing its resources failed: " + e.getMessage(), e);
            }
        }
    }
}
