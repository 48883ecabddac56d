package io.github.sae4j.core.backend.java;

import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.backend.DType;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.backend.TensorOps;
import jdk.incubator.vector.FloatVector;

/** The CPU, or a share of its threads, as one device: heap tensors and ops run on a {@link WorkerPool}. */
public final class JavaDevice implements Device {

    private final JavaBackend backend;
    private final int index;
    private final WorkerPool pool;
    private final JavaOps ops;
    private final DenseGemm gemm;
    private final String role;

    /** {@code role}: what the device is among several logical ones (null for the whole CPU). */
    JavaDevice(JavaBackend backend, int index, WorkerPool pool, DenseGemm gemm, String role) {
        this.backend = backend;
        this.index = index;
        this.pool = pool;
        this.gemm = gemm;
        this.role = role;
        this.ops = new JavaOps(this, pool);
    }

    /** Where dense products go, or null for {@link Sgemm}. */
    DenseGemm denseGemm() {
        return gemm;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public int index() {
        return index;
    }

    @Override
    public String description() {
        return "CPU, " + pool.threads() + " thread" + (pool.threads() == 1 ? "" : "s") + ", "
                + FloatVector.SPECIES_PREFERRED.vectorBitSize() + "-bit vectors"
                + (gemm == null ? "" : ", dense products: " + gemm.description())
                + (role == null ? "" : ", " + role);
    }

    @Override
    public long memoryBytes() {
        return Runtime.getRuntime().maxMemory();
    }

    @Override
    public Tensor allocate(DType dtype, int... shape) {
        return JavaTensor.allocate(this, dtype, shape);
    }

    @Override
    public TensorOps ops() {
        return ops;
    }

    /** The thread pool this device computes on. */
    public WorkerPool pool() {
        return pool;
    }
}
