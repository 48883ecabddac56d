package io.github.sae4j.core.residual;

import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.backend.TensorOps;
import io.github.sae4j.api.sae.LatentCodes;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeParameter;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.api.sae.TrainingContext;
import io.github.sae4j.api.sae.TrainingStepResult;
import io.github.sae4j.core.sae.TensorCache;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Trained SAEs applied one after another, each to what the ones before it failed to reconstruct: stage 1 encodes
 * x, stage 2 encodes {@code x - x_hat_1}, ...; the reconstruction is {@code x_hat_1 + x_hat_2 + ...} and the latents
 * are the stages' latents side by side. Its input is raw activations (input scale 1, no shift): each stage
 * normalizes as its own spec says. For inference and evaluation only: it cannot be initialized or trained.
 */
public final class StackSae implements Sae {

    private final SaeSpec spec;
    private final Device device;
    private final List<Sae> stages;
    private final List<String> stageNames;
    private final List<RawUnitsSae> raw = new ArrayList<>();
    private final int[] widths;
    private final List<SaeParameter> parameters = new ArrayList<>();
    private final TensorCache scratch;

    /**
     * Takes ownership of the stages (closing the stack closes them).
     *
     * @param stageNames each stage's name, prefixed to its parameters' names ({@code stage-1.W_enc})
     */
    public StackSae(SaeSpec spec, List<Sae> stages, List<String> stageNames, Device device) {
        if (stages.isEmpty() || stages.size() != stageNames.size()) {
            throw new IllegalArgumentException("a stack needs at least one stage and a name for each, got "
                    + stages.size() + " stages and names " + stageNames);
        }
        int dSae = 0;
        for (int s = 0; s < stages.size(); s++) {
            SaeSpec stage = stages.get(s).spec();
            if (stage.dIn() != spec.dIn()) {
                throw new IllegalArgumentException("stage " + stageNames.get(s) + " reads d_in=" + stage.dIn()
                        + " but the stack reads d_in=" + spec.dIn() + "; stack SAEs of one hook point");
            }
            dSae += stage.dSae();
        }
        if (dSae != spec.dSae() || spec.inputScale() != 1.0 || spec.inputShift() != null) {
            throw new IllegalArgumentException("a stack's cfg.json must say d_sae=" + dSae + " (the stages' latents)"
                    + ", input_scale=1 and no input_shift; it says d_sae=" + spec.dSae() + ", input_scale="
                    + spec.inputScale() + ", input_shift " + (spec.inputShift() == null ? "none" : "set"));
        }
        this.spec = spec;
        this.device = device;
        this.stages = List.copyOf(stages);
        this.stageNames = List.copyOf(stageNames);
        this.widths = new int[stages.size()];
        for (int s = 0; s < stages.size(); s++) {
            Sae stage = stages.get(s);
            widths[s] = stage.spec().dSae();
            raw.add(new RawUnitsSae(stage));
            for (SaeParameter p : stage.parameters()) {
                parameters.add(new SaeParameter(stageNames.get(s) + "." + p.name(), p.value(), p.transposed(), false));
            }
        }
        this.scratch = new TensorCache(device);
    }

    /** The stages, in order (owned by the stack). */
    public List<Sae> stages() {
        return stages;
    }

    @Override
    public SaeSpec spec() {
        return spec;
    }

    @Override
    public Device device() {
        return device;
    }

    /** The stages' parameters, named {@code <stage>.<name>}, none trainable. */
    @Override
    public List<SaeParameter> parameters() {
        return List.copyOf(parameters);
    }

    @Override
    public void initialize(long seed, float[] dataMean) {
        throw new UnsupportedOperationException(StackArchitecture.NOT_TRAINABLE);
    }

    @Override
    public LatentCodes encode(Tensor x) {
        TensorOps ops = device.ops();
        int rows = x.rows();
        Tensor residual = scratch.f32("residual", rows, spec.dIn());
        Tensor xHat = scratch.f32("xHat", rows, spec.dIn());
        ops.copy(x, residual);
        List<LatentCodes> codes = new ArrayList<>(stages.size());
        try {
            for (int s = 0; s < stages.size(); s++) {
                LatentCodes c = raw.get(s).encode(residual);
                codes.add(c);
                if (s + 1 < stages.size()) {
                    raw.get(s).decode(c, xHat);
                    ops.axpby(-1f, xHat, 1f, residual);
                }
            }
            return StackedCodes.join(codes, widths, device);
        } finally {
            codes.forEach(LatentCodes::close);
        }
    }

    @Override
    public void decode(LatentCodes codes, Tensor out) {
        if (codes instanceof LatentCodes.Dense d && d.activations().cols() != spec.dSae()) {
            throw new IllegalArgumentException("a dense code of the stack has " + spec.dSae() + " columns, got "
                    + d.activations().cols());
        }
        TensorOps ops = device.ops();
        Tensor part = scratch.f32("part", codes.rows(), spec.dIn());
        List<LatentCodes> parts = StackedCodes.split(codes, widths, device);
        try {
            for (int s = 0; s < stages.size(); s++) {
                raw.get(s).decode(parts.get(s), s == 0 ? out : part);
                if (s > 0) {
                    ops.axpby(1f, part, 1f, out);
                }
            }
        } finally {
            parts.forEach(LatentCodes::close);
        }
    }

    @Override
    public TrainingStepResult trainingStep(Tensor x, TrainingContext context, Map<String, Tensor> gradients) {
        throw new UnsupportedOperationException(StackArchitecture.NOT_TRAINABLE);
    }

    @Override
    public void close() {
        scratch.close();
        raw.forEach(RawUnitsSae::close);
        stages.forEach(Sae::close);
    }

    @Override
    public String toString() {
        return "stack of " + stageNames;
    }
}
