package io.github.sae4j.api.backend;

/**
 * The scalars of one AdamW update (PyTorch's formulation): with {@code t = step} (1-based),
 * <pre>
 *   m = beta1 m + (1 - beta1) g
 *   v = beta2 v + (1 - beta2) g^2
 *   p = p (1 - lr * weightDecay) - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
 * </pre>
 */
public record AdamWStep(float learningRate, float beta1, float beta2, float eps, float weightDecay, long step) {

    public AdamWStep {
        if (step < 1) {
            throw new IllegalArgumentException("AdamW step counts from 1, got " + step);
        }
    }

    /** 1 - beta1^t, computed in double. */
    public double biasCorrection1() {
        return 1.0 - Math.pow(beta1, step);
    }

    /** 1 - beta2^t, computed in double. */
    public double biasCorrection2() {
        return 1.0 - Math.pow(beta2, step);
    }
}
