package io.github.sae4j.core.sae;

import io.github.sae4j.api.backend.DType;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Named scratch tensors reused from step to step (large allocations cost more than the math on CPU). A tensor is
 * reallocated only when the requested shape changes; contents are not preserved across calls.
 */
public final class TensorCache implements AutoCloseable {

    private final Device device;
    private final Map<String, Tensor> tensors = new HashMap<>();

    public TensorCache(Device device) {
        this.device = device;
    }

    /** The scratch tensor {@code name} with this dtype and shape (contents unspecified). */
    public Tensor get(String name, DType dtype, int... shape) {
        Tensor t = tensors.get(name);
        if (t != null && t.dtype() == dtype && Arrays.equals(t.shape(), shape)) {
            return t;
        }
        if (t != null) {
            t.close();
        }
        t = device.allocate(dtype, shape);
        tensors.put(name, t);
        return t;
    }

    public Tensor f32(String name, int... shape) {
        return get(name, DType.F32, shape);
    }

    public Tensor i32(String name, int... shape) {
        return get(name, DType.I32, shape);
    }

    @Override
    public void close() {
        tensors.values().forEach(Tensor::close);
        tensors.clear();
    }
}
