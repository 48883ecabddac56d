package io.github.sae4j.core.sae;

import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.sae.HyperParameter;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeArchitecture;
import io.github.sae4j.api.sae.SaeSpec;
import java.util.List;

/**
 * The ReLU SAE with an L1 penalty weighted by decoder norms (Anthropic, April 2024 update). Registered as
 * {@code relu}.
 */
public final class ReluL1Architecture implements SaeArchitecture {

    public static final String NAME = "relu";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "ReLU SAE with L1 penalty sum_i f_i ||W_dec,i||";
    }

    @Override
    public List<HyperParameter> hyperParameters() {
        return List.of(
                HyperParameter.optional("l1_coefficient", HyperParameter.Type.FLOAT, 5.0,
                        "weight of the decoder-norm-weighted L1 penalty"),
                HyperParameter.optional("init_decoder_norm", HyperParameter.Type.FLOAT, 0.1,
                        "initial L2 norm of each decoder row"));
    }

    @Override
    public void validate(SaeSpec spec) {
        double l1 = spec.doubleSetting("l1_coefficient");
        if (!(l1 >= 0)) {
            throw new IllegalArgumentException("ReLU setting l1_coefficient=" + l1 + " must be >= 0");
        }
        double norm = spec.doubleSetting("init_decoder_norm");
        if (!(norm > 0)) {
            throw new IllegalArgumentException("ReLU setting init_decoder_norm=" + norm + " must be > 0");
        }
    }

    @Override
    public Sae create(SaeSpec spec, Device device) {
        validate(spec);
        return new ReluL1Sae(spec, device);
    }
}
