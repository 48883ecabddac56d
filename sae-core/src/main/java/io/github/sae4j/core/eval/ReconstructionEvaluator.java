package io.github.sae4j.core.eval;

import io.github.sae4j.api.activation.ActivationBatch;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.sae.LatentCodes;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.core.metrics.ReconstructionMetrics;
import io.github.sae4j.core.sae.TensorCache;
import java.io.IOException;

/** Runs an SAE over batches of raw activations and measures its reconstructions. No side effects on the SAE. */
public final class ReconstructionEvaluator {

    private ReconstructionEvaluator() {
    }

    /** Supplies batches of raw (unscaled) activations. */
    @FunctionalInterface
    public interface Batches {
        /** Fills {@code batch}; false when there are no more rows. */
        boolean next(ActivationBatch batch) throws IOException;
    }

    /**
     * @param batchCapacity rows per forward pass
     * @param rawMean       the data mean in raw units (centres the variance sum), or null
     * @param maxRows       stop after this many rows
     */
    public static ReconstructionMetrics.Result evaluate(Sae sae, Batches batches, int batchCapacity, float[] rawMean,
                                                        long maxRows) throws IOException {
        Device device = sae.device();
        int dIn = sae.spec().dIn();
        double scale = sae.spec().inputScale();
        float[] shift = null;
        if (rawMean != null) {
            // The data mean in the SAE's units, which centres the variance sum.
            shift = rawMean.clone();
            sae.spec().normalize(shift, 0, 1);
        }
        float[] inputShift = sae.spec().inputShift();
        ActivationBatch batch = new ActivationBatch(batchCapacity, dIn);
        try (ReconstructionMetrics metrics = new ReconstructionMetrics(device.ops(), device, dIn, sae.spec().dSae(),
                scale, shift);
             TensorCache scratch = new TensorCache(device)) {
            while (metrics.rows() < maxRows && batches.next(batch)) {
                int rows = (int) Math.min(batch.rows(), maxRows - metrics.rows());
                if (rows == 0) {
                    continue;
                }
                Tensor x = scratch.f32("x", rows, dIn);
                if (rows == batchCapacity) {
                    x.copyFrom(batch.values(), 0);
                } else {
                    float[] part = new float[rows * dIn];
                    System.arraycopy(batch.values(), 0, part, 0, part.length);
                    x.copyFrom(part, 0);
                }
                if (inputShift != null) {
                    try (Tensor v = device.upload(inputShift, dIn)) {
                        device.ops().addRowVector(x, -1f, v);
                    }
                }
                if (scale != 1.0) {
                    device.ops().axpby((float) scale, x, 0f, x);
                }
                Tensor xHat = scratch.f32("xHat", rows, dIn);
                try (LatentCodes codes = sae.encode(x)) {
                    sae.decode(codes, xHat);
                    metrics.add(x, xHat, codes);
                }
            }
            return metrics.result();
        }
    }
}
