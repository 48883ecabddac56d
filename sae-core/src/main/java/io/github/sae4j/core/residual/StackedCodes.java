package io.github.sae4j.core.residual;

import io.github.sae4j.api.backend.DType;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.sae.LatentCodes;
import java.util.ArrayList;
import java.util.List;

/**
 * The latents of a stack: the stages' latents side by side (stage 1's, then stage 2's, ...), so that latent
 * {@code j} of stage {@code s} is latent {@code offset(s) + j} of the stack. Joined and split on the host: the
 * stack is for inference and evaluation, where this copy costs little next to the encoders.
 */
final class StackedCodes {

    private StackedCodes() {
    }

    /** One code for the stack from one code per stage ({@code widths}: each stage's d_sae). Closes nothing. */
    static LatentCodes join(List<LatentCodes> stages, int[] widths, Device device) {
        int rows = stages.getFirst().rows();
        if (stages.stream().allMatch(c -> c instanceof LatentCodes.Sparse)) {
            int total = 0;
            for (LatentCodes c : stages) {
                total += ((LatentCodes.Sparse) c).values().cols();
            }
            float[] values = new float[rows * total];
            int[] indices = new int[rows * total];
            int column = 0;
            int offset = 0;
            for (int s = 0; s < stages.size(); s++) {
                LatentCodes.Sparse c = (LatentCodes.Sparse) stages.get(s);
                int k = c.values().cols();
                float[] v = c.values().toFloatArray();
                int[] ix = c.indices().toIntArray();
                for (int r = 0; r < rows; r++) {
                    for (int j = 0; j < k; j++) {
                        int index = ix[r * k + j];
                        values[r * total + column + j] = v[r * k + j];
                        indices[r * total + column + j] = index < 0 ? -1 : index + offset;
                    }
                }
                column += k;
                offset += widths[s];
            }
            return sparse(device, rows, total, values, indices);
        }
        int total = 0;
        for (int w : widths) {
            total += w;
        }
        float[] dense = new float[rows * total];
        int offset = 0;
        for (int s = 0; s < stages.size(); s++) {
            switch (stages.get(s)) {
                case LatentCodes.Sparse c -> {
                    int k = c.values().cols();
                    float[] v = c.values().toFloatArray();
                    int[] ix = c.indices().toIntArray();
                    for (int r = 0; r < rows; r++) {
                        for (int j = 0; j < k; j++) {
                            int index = ix[r * k + j];
                            if (index >= 0) {
                                dense[r * total + offset + index] = v[r * k + j];
                            }
                        }
                    }
                }
                case LatentCodes.Dense c -> {
                    float[] a = c.activations().toFloatArray();
                    for (int r = 0; r < rows; r++) {
                        System.arraycopy(a, r * widths[s], dense, r * total + offset, widths[s]);
                    }
                }
            }
            offset += widths[s];
        }
        Tensor t = device.allocate(DType.F32, rows, total);
        t.copyFrom(dense);
        return new LatentCodes.Dense(t);
    }

    /** The stages' parts of a stack's code, in stage units; the caller closes them. */
    static List<LatentCodes> split(LatentCodes codes, int[] widths, Device device) {
        int rows = codes.rows();
        List<LatentCodes> parts = new ArrayList<>(widths.length);
        switch (codes) {
            case LatentCodes.Sparse c -> {
                // Every stage keeps all k slots; slots that belong to another stage become empty (-1).
                int k = c.values().cols();
                float[] v = c.values().toFloatArray();
                int[] ix = c.indices().toIntArray();
                int offset = 0;
                for (int width : widths) {
                    float[] values = new float[rows * k];
                    int[] indices = new int[rows * k];
                    for (int i = 0; i < rows * k; i++) {
                        int local = ix[i] - offset;
                        boolean mine = ix[i] >= 0 && local < width && local >= 0;
                        values[i] = mine ? v[i] : 0f;
                        indices[i] = mine ? local : -1;
                    }
                    parts.add(sparse(device, rows, k, values, indices));
                    offset += width;
                }
            }
            case LatentCodes.Dense c -> {
                int total = c.activations().cols();
                float[] a = c.activations().toFloatArray();
                int offset = 0;
                for (int width : widths) {
                    float[] part = new float[rows * width];
                    for (int r = 0; r < rows; r++) {
                        System.arraycopy(a, r * total + offset, part, r * width, width);
                    }
                    Tensor t = device.allocate(DType.F32, rows, width);
                    t.copyFrom(part);
                    parts.add(new LatentCodes.Dense(t));
                    offset += width;
                }
            }
        }
        return parts;
    }

    private static LatentCodes.Sparse sparse(Device device, int rows, int k, float[] values, int[] indices) {
        Tensor v = device.allocate(DType.F32, rows, k);
        Tensor ix = device.allocate(DType.I32, rows, k);
        v.copyFrom(values);
        ix.copyFrom(indices);
        return new LatentCodes.Sparse(v, ix);
    }
}
