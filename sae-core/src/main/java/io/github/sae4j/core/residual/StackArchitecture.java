package io.github.sae4j.core.residual;

import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.plugin.PluginRegistry;
import io.github.sae4j.api.sae.HyperParameter;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeArchitecture;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.core.checkpoint.SaeCheckpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A stack of trained SAEs, each trained on the residuals of the ones before ({@link StackSae}). Registered as
 * {@code stack}. Its directory holds a cfg.json whose setting {@code stages} names the stage directories, relative
 * to it (copies inside it, as {@link StackCheckpoint} writes them). Loaded, never trained.
 */
public final class StackArchitecture implements SaeArchitecture, SaeCheckpoint.CompositeArchitecture {

    public static final String NAME = "stack";
    public static final String STAGES = "stages";

    static final String NOT_TRAINABLE = "a stack SAE is not trained as a whole: train stage 1 with 'sae4j train', "
            + "stage 2 with 'sae4j train --residual-of STAGE1', then combine them with 'sae4j stack --out DIR STAGE1 STAGE2'";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "trained SAEs applied in turn, each to the residual of the ones before (sae4j stack); inference only";
    }

    @Override
    public List<HyperParameter> hyperParameters() {
        return List.of(HyperParameter.required(STAGES, HyperParameter.Type.STRING,
                "the stage directories, comma-separated, relative to the stack's directory"));
    }

    /** Refuses: a stack is built from trained stages, not configured for training. */
    @Override
    public SaeSpec spec(int dIn, int dSae, Map<String, ?> rawSettings, double inputScale, Map<String, String> metadata) {
        throw new IllegalArgumentException(NOT_TRAINABLE);
    }

    @Override
    public void validate(SaeSpec spec) {
        if (stageNames(spec).isEmpty()) {
            throw new IllegalArgumentException("stack setting stages='" + spec.stringSetting(STAGES)
                    + "' names no stage directory; it should read for example 'stage-1,stage-2'");
        }
    }

    /** Refuses: a stack's stages come from its directory, through {@link #load}. */
    @Override
    public Sae create(SaeSpec spec, Device device) {
        throw new UnsupportedOperationException("a stack SAE is loaded from its directory (SaeCheckpoint.load), "
                + "not created empty; " + NOT_TRAINABLE);
    }

    @Override
    public Sae load(Path directory, SaeSpec spec, Device device, PluginRegistry<SaeArchitecture> architectures)
            throws IOException {
        List<String> names;
        try {
            validate(spec);
            names = stageNames(spec);
        } catch (IllegalArgumentException e) {
            throw new IOException(directory.resolve(SaeCheckpoint.CONFIG) + ": " + e.getMessage(), e);
        }
        List<Sae> stages = new ArrayList<>();
        try {
            for (String name : names) {
                try {
                    stages.add(SaeCheckpoint.load(directory.resolve(name), device, architectures));
                } catch (IOException e) {
                    throw new IOException("stack " + directory + ", stage '" + name + "': " + e.getMessage(), e);
                }
            }
            return new StackSae(spec, stages, names, device);
        } catch (IOException | RuntimeException e) {
            stages.forEach(Sae::close);
            if (e instanceof IllegalArgumentException) {
                throw new IOException(directory.resolve(SaeCheckpoint.CONFIG) + ": " + e.getMessage(), e);
            }
            throw e;
        }
    }

    static List<String> stageNames(SaeSpec spec) {
        return Arrays.stream(spec.stringSetting(STAGES).split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }
}
