package io.github.sae4j.core.residual;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.core.checkpoint.SaeCheckpoint;
import io.github.sae4j.core.io.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Writes a {@code stack} SAE: a directory with a copy of each stage ({@code stage-1/}, {@code stage-2/}, ...) and a
 * cfg.json that names them. Copies rather than links, so the stack stays valid when the training runs are moved or
 * deleted.
 */
public final class StackCheckpoint {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private StackCheckpoint() {
    }

    /**
     * Writes the stack of {@code stages} (SAE directories, stage 1 first) into {@code out}, atomically.
     *
     * @return the stack's spec
     * @throws IllegalArgumentException if the stages read activations of different widths or hook points
     */
    public static SaeSpec write(List<Path> stages, Path out) throws IOException {
        if (stages.isEmpty()) {
            throw new IllegalArgumentException("a stack needs at least one stage SAE directory");
        }
        List<SaeSpec> specs = new ArrayList<>();
        for (Path stage : stages) {
            specs.add(SaeCheckpoint.readSpec(stage));
        }
        SaeSpec first = specs.getFirst();
        String hook = first.metadata().getOrDefault("hook_point", "");
        int dSae = 0;
        List<String> names = new ArrayList<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("model", first.metadata().getOrDefault("model", ""));
        metadata.put("hook_point", hook);
        metadata.put("validation_fraction", first.metadata().getOrDefault("validation_fraction", "0.02"));
        for (int s = 0; s < specs.size(); s++) {
            SaeSpec spec = specs.get(s);
            String stageHook = spec.metadata().getOrDefault("hook_point", "");
            if (spec.dIn() != first.dIn() || (!hook.isEmpty() && !stageHook.isEmpty() && !hook.equals(stageHook))) {
                throw new IllegalArgumentException("stage " + (s + 1) + " (" + stages.get(s) + ") reads d_in="
                        + spec.dIn() + " at '" + stageHook + "' but stage 1 (" + stages.getFirst() + ") reads d_in="
                        + first.dIn() + " at '" + hook + "'; stack SAEs trained on the same hook point");
            }
            String name = "stage-" + (s + 1);
            names.add(name);
            metadata.put(name + "_from", stages.get(s).toAbsolutePath().normalize().toString());
            dSae += spec.dSae();
        }
        SaeSpec spec = new SaeSpec(StackArchitecture.NAME, first.dIn(), dSae,
                Map.of(StackArchitecture.STAGES, String.join(",", names)), 1.0, metadata);
        AtomicFiles.writeDirectory(out, tmp -> {
            for (int s = 0; s < stages.size(); s++) {
                copyTree(stages.get(s), tmp.resolve(names.get(s)));
            }
            Files.writeString(tmp.resolve(SaeCheckpoint.CONFIG), JSON.writeValueAsString(SaeCheckpoint.configJson(spec)));
        });
        return spec;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            files.forEach(p -> {
                Path target = to.resolve(from.relativize(p).toString());
                try {
                    if (Files.isDirectory(p)) {
                        Files.createDirectories(target);
                    } else {
                        Files.copy(p, target);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
