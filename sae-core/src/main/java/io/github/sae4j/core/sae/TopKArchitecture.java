package io.github.sae4j.core.sae;

import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.sae.HyperParameter;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeArchitecture;
import io.github.sae4j.api.sae.SaeSpec;
import java.util.List;

/** The TopK SAE (Gao et al. 2024): keep the k largest pre-activations of each row. Registered as {@code topk}. */
public final class TopKArchitecture implements SaeArchitecture {

    public static final String NAME = "topk";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "TopK SAE: the k largest pre-activations per token, unit-norm decoder, AuxK revival";
    }

    @Override
    public List<HyperParameter> hyperParameters() {
        return List.of(HyperParameter.required("k", HyperParameter.Type.INT, "active latents per token"));
    }

    @Override
    public void validate(SaeSpec spec) {
        int k = spec.intSetting("k");
        if (k < 1 || k > spec.dSae()) {
            throw new IllegalArgumentException("TopK setting k=" + k + " is impossible with " + spec.dSae()
                    + " latents: choose 1 <= k <= " + spec.dSae());
        }
    }

    @Override
    public Sae create(SaeSpec spec, Device device) {
        validate(spec);
        return new TopKSae(spec, device);
    }
}
