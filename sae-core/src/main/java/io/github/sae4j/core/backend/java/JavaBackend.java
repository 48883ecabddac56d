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
    private final List<WorkerPool> pools;
    private final List<Device> devices;
    private final AutoCloseable onClose;

    /** A backend computing on {@code threads} threads, as one device. */
    public JavaBackend(int threads) {
        this(threads, 1);
    }

    /**
     * A backend of {@code devices} logical devices that share {@code threads} threads: each device computes on its
     * own pool of {@code threads / devices} threads (the first {@code threads % devices} devices one more), so that
     * data-parallel training can be tested and measured on one CPU with the same code path as several GPUs.
     *
     * @throws IllegalArgumentException if there are fewer threads than devices
     */
    public JavaBackend(int threads, int devices) {
        if (devices < 1 || threads < devices) {
            throw new IllegalArgumentException("the java backend needs at least one thread per device: devices="
                    + devices + ", threads=" + threads + "; raise threads or lower devices");
        }
        this.name = NAME;
        List<WorkerPool> p = new java.util.ArrayList<>();
        List<Device> d = new java.util.ArrayList<>();
        for (int i = 0; i < devices; i++) {
            WorkerPool pool = new WorkerPool(threads / devices + (i < threads % devices ? 1 : 0));
            p.add(pool);
            d.add(new JavaDevice(this, i, pool, null, devices == 1 ? null : "logical device " + i + " of " + devices));
        }
        this.pools = List.copyOf(p);
        this.devices = List.copyOf(d);
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
        WorkerPool pool = new WorkerPool(threads);
        List<Device> d = new java.util.ArrayList<>();
        for (int i = 0; i < gemms.size(); i++) {
            d.add(new JavaDevice(this, i, pool, gemms.get(i), null));
        }
        this.pools = List.of(pool);
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

    /** As {@link Backend#device(int)}; the pure-Java backend also says how to open more logical devices. */
    @Override
    public Device device(int index) {
        try {
            return Backend.super.device(index);
        } catch (IllegalArgumentException e) {
            if (!NAME.equals(name)) {
                throw e;
            }
            throw new IllegalArgumentException(e.getMessage() + "\nThe java backend splits its threads into N logical"
                    + " devices with the backend option devices=N (for example --backend-option devices=2).", e);
        }
    }

    /** The first device (the only one unless the backend was opened with several). */
    public JavaDevice device() {
        return (JavaDevice) devices.getFirst();
    }

    @Override
    public void close() {
        pools.forEach(WorkerPool::close);
        if (onClose != null) {
            try {
                onClose.close();
            } catch (Exception e) {
                throw new IllegalStateException(name + " backend: releasing its resources failed: " + e.getMessage(), e);
            }
        }
    }
}
