package io.github.sae4j.core.train;

import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.sae.Sae;
import java.util.Map;

/**
 * Keeps an SAE's decoder rows at unit norm, the one place the rule lives for every architecture: before the
 * optimizer step, remove from each row's gradient its component along the row (so the step moves along the
 * sphere); after it, renormalize the rows (to undo the step's second-order drift).
 */
public final class UnitNormDecoderConstraint {

    private final String parameter;
    private final Tensor weights;

    private UnitNormDecoderConstraint(String parameter, Tensor weights) {
        this.parameter = parameter;
        this.weights = weights;
    }

    /** The constraint for {@code sae}'s {@link Sae#unitNormRowsParameter()}, or one that does nothing. */
    public static UnitNormDecoderConstraint of(Sae sae) {
        String name = sae.unitNormRowsParameter();
        return name == null ? new UnitNormDecoderConstraint(null, null)
                : new UnitNormDecoderConstraint(name, sae.parameter(name).value());
    }

    public boolean active() {
        return parameter != null;
    }

    public void projectGradient(Map<String, Tensor> gradients) {
        if (parameter != null) {
            weights.device().ops().projectOutRowComponents(weights, gradients.get(parameter));
        }
    }

    public void renormalize() {
        if (parameter != null) {
            weights.device().ops().normalizeRows(weights);
        }
    }
}
