package io.github.sae4j.examples.batchtopk;

import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.sae.HyperParameter;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeArchitecture;
import io.github.sae4j.api.sae.SaeSpec;
import java.util.List;

/**
 * BatchTopK (Bussmann, Leask and Nanda, 2024) as a plugin: this class, {@link BatchTopKSae} and one line in
 * {@code META-INF/services/io.github.sae4j.api.sae.SaeArchitecture}. With the examples jar on the class path,
 * {@code sae4j train --arch batchtopk -k 8 ...} trains it; sae-core does not know it exists.
 */
public final class BatchTopKArchitecture implements SaeArchitecture {

    public static final String NAME = "batchtopk";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "BatchTopK SAE (example plugin): the batch's B*k largest activations, a threshold at inference";
    }

    @Override
    public List<HyperParameter> hyperParameters() {
        return List.of(
                HyperParameter.required("k", HyperParameter.Type.INT, "average active latents per token"),
                HyperParameter.optional("threshold_momentum", HyperParameter.Type.FLOAT, 0.01,
                        "weight of each batch in the running inference threshold"));
    }

    @Override
    public void validate(SaeSpec spec) {
        int k = spec.intSetting("k");
        if (k < 1 || k > spec.dSae()) {
            throw new IllegalArgumentException("BatchTopK setting k=" + k + " is impossible with " + spec.dSae()
                    + " latents: choose 1 <= k <= " + spec.dSae());
        }
        double momentum = spec.doubleSetting("threshold_momentum");
        if (!(momentum > 0 && momentum <= 1)) {
            throw new IllegalArgumentException("BatchTopK setting threshold_momentum=" + momentum + " must be in (0, 1]");
        }
    }

    @Override
    public Sae create(SaeSpec spec, Device device) {
        validate(spec);
        return new BatchTopKSae(spec, device);
    }
}
