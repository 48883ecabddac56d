package io.github.sae4j.core.train;

import io.github.sae4j.api.backend.AdamWStep;
import io.github.sae4j.api.backend.DType;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.sae.SaeParameter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** AdamW over an SAE's parameters: the moment tensors live on the parameters' device. */
public final class AdamW implements AutoCloseable {

    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float weightDecay;
    private final Map<String, Tensor> firstMoments = new LinkedHashMap<>();
    private final Map<String, Tensor> secondMoments = new LinkedHashMap<>();
    private final List<SaeParameter> parameters;

    public AdamW(Device device, List<SaeParameter> parameters, double beta1, double beta2, double eps, double weightDecay) {
        this.beta1 = (float) beta1;
        this.beta2 = (float) beta2;
        this.eps = (float) eps;
        this.weightDecay = (float) weightDecay;
        this.parameters = parameters.stream().filter(SaeParameter::trainable).toList();
        for (SaeParameter p : this.parameters) {
            firstMoments.put(p.name(), device.allocate(DType.F32, p.value().shape()));
            secondMoments.put(p.name(), device.allocate(DType.F32, p.value().shape()));
        }
    }

    /** Applies step {@code step} (1-based) with learning rate {@code lr} to every parameter. */
    public void step(Map<String, Tensor> gradients, double lr, long step) {
        AdamWStep scalars = new AdamWStep((float) lr, beta1, beta2, eps, weightDecay, step);
        for (SaeParameter p : parameters) {
            p.value().device().ops().adamW(p.value(), gradients.get(p.name()), firstMoments.get(p.name()),
                    secondMoments.get(p.name()), scalars);
        }
    }

    /** First moments by parameter name (same layout as the parameter tensors). */
    public Map<String, Tensor> firstMoments() {
        return firstMoments;
    }

    /** Second moments by parameter name. */
    public Map<String, Tensor> secondMoments() {
        return secondMoments;
    }

    @Override
    public void close() {
        firstMoments.values().forEach(Tensor::close);
        secondMoments.values().forEach(Tensor::close);
    }
}
