package io.github.sae4j.core.residual;

import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.backend.TensorOps;
import io.github.sae4j.api.sae.LatentCodes;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.core.sae.TensorCache;

/**
 * A trained SAE applied to raw activations: {@code x_sae = (x - shift) * scale} before encoding and
 * {@code x_hat = x_hat_sae / scale + shift} after decoding, as its spec says. The one place where the residual
 * source and the stack turn an SAE's reconstruction into raw units. Does not own the SAE; not thread-safe.
 */
final class RawUnitsSae implements AutoCloseable {

    private final Sae sae;
    private final TensorOps ops;
    private final Tensor shift;
    private final float scale;
    private final TensorCache scratch;

    RawUnitsSae(Sae sae) {
        this.sae = sae;
        Device device = sae.device();
        this.ops = device.ops();
        float[] s = sae.spec().inputShift();
        this.shift = s == null ? null : device.upload(s, s.length);
        this.scale = (float) sae.spec().inputScale();
        this.scratch = new TensorCache(device);
    }

    Sae sae() {
        return sae;
    }

    int dSae() {
        return sae.spec().dSae();
    }

    /** The latents of raw rows {@code x} ({@code [rows, d_in]}, left unchanged). The caller closes the result. */
    LatentCodes encode(Tensor x) {
        Tensor normalized = scratch.f32("normalized", x.rows(), sae.spec().dIn());
        ops.copy(x, normalized);
        if (shift != null) {
            ops.addRowVector(normalized, -1f, shift);
        }
        if (scale != 1f) {
            ops.axpby(scale, normalized, 0f, normalized);
        }
        return sae.encode(normalized);
    }

    /** Writes the reconstruction of {@code codes} into {@code out} in raw units. */
    void decode(LatentCodes codes, Tensor out) {
        sae.decode(codes, out);
        if (scale != 1f) {
            ops.axpby(1f / scale, out, 0f, out);
        }
        if (shift != null) {
            ops.addRowVector(out, 1f, shift);
        }
    }

    @Override
    public void close() {
        scratch.close();
        if (shift != null) {
            shift.close();
        }
    }
}
