package io.github.sae4j.core.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeParameter;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.core.Sae4jVersion;
import io.github.sae4j.core.checkpoint.SaeCheckpoint;
import io.github.sae4j.core.io.AtomicFiles;
import io.github.sae4j.core.io.Safetensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A resumable training state: {@code checkpoints/step-000001000/} holding the SAE ({@code sae.safetensors} +
 * {@code cfg.json}), {@code optimizer.safetensors} (AdamW moments named {@code <param>.exp_avg} and
 * {@code <param>.exp_avg_sq} in checkpoint layout, and the dead-latent counters {@code dead.tokens_since_fired})
 * and {@code state.json} (step, tokens, data cursor). Written into a temporary directory and renamed, so a
 * checkpoint directory either is complete or does not exist.
 */
public final class TrainingCheckpoint {

    public static final String OPTIMIZER = "optimizer.safetensors";
    public static final String STATE = "state.json";
    public static final String FORMAT = "sae4j.training-state.v1";
    private static final Pattern NAME = Pattern.compile("step-(\\d{9,})");

    /** What state.json records. */
    public record State(long step, long tokens, String dataCursor, String configSha256) {
    }

    private TrainingCheckpoint() {
    }

    public static Path directoryFor(Path checkpoints, long step) {
        return checkpoints.resolve(String.format("step-%09d", step));
    }

    /** Writes a checkpoint of step {@code state.step()} atomically and returns its directory. */
    public static Path write(Path checkpoints, State state, Sae sae, AdamW optimizer, DeadLatentTracker dead)
            throws IOException {
        List<Safetensors.Array> parameters = new ArrayList<>();
        for (SaeParameter p : sae.parameters()) {
            parameters.add(inCheckpointLayout(p, p.name(), p.value()));
        }
        List<Safetensors.Array> moments = new ArrayList<>();
        for (SaeParameter p : optimizerParameters(sae)) {
            moments.add(inCheckpointLayout(p, p.name() + ".exp_avg", optimizer.firstMoments().get(p.name())));
            moments.add(inCheckpointLayout(p, p.name() + ".exp_avg_sq", optimizer.secondMoments().get(p.name())));
        }
        return write(checkpoints, state, sae.spec(), parameters, moments, dead);
    }

    /**
     * The same checkpoint from arrays in checkpoint layout: the SAE's parameters and the AdamW moments (named
     * {@code <param>.exp_avg}, {@code <param>.exp_avg_sq}), for example gathered from the devices its latents are
     * split over.
     */
    public static Path write(Path checkpoints, State state, SaeSpec spec, List<Safetensors.Array> parameters,
                             List<Safetensors.Array> moments, DeadLatentTracker dead) throws IOException {
        Path dir = directoryFor(checkpoints, state.step());
        AtomicFiles.writeDirectory(dir, tmp -> {
            SaeCheckpoint.writeInto(spec, parameters, tmp);
            List<Safetensors.Array> arrays = new ArrayList<>(moments);
            long[] counters = dead.tokensSinceFired();
            arrays.add(Safetensors.Array.i64("dead.tokens_since_fired", counters, counters.length));
            Safetensors.write(tmp.resolve(OPTIMIZER), arrays, java.util.Map.of("format", FORMAT));
            ObjectNode json = TrainerConfig.json().createObjectNode();
            json.put("format", FORMAT);
            json.put("step", state.step());
            json.put("tokens", state.tokens());
            json.put("data_cursor", state.dataCursor());
            json.put("config_sha256", state.configSha256());
            json.put("sae4j_version", Sae4jVersion.VERSION);
            json.put("written_at", Instant.now().toString());
            Files.writeString(tmp.resolve(STATE), TrainerConfig.json().writeValueAsString(json));
        });
        return dir;
    }

    private static List<SaeParameter> optimizerParameters(Sae sae) {
        return sae.parameters().stream().filter(SaeParameter::trainable).toList();
    }

    private static Safetensors.Array inCheckpointLayout(SaeParameter p, String name, Tensor t) {
        float[] values = t.toFloatArray();
        int[] shape = t.shape();
        if (p.transposed()) {
            values = SaeCheckpoint.transpose(values, shape[0], shape[1]);
        }
        return Safetensors.Array.f32(name, values, p.checkpointShape());
    }

    /** The complete checkpoints under {@code checkpoints}, oldest first (temporary directories are skipped). */
    public static List<Path> list(Path checkpoints) throws IOException {
        if (!Files.isDirectory(checkpoints)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(checkpoints)) {
            return s.filter(p -> NAME.matcher(p.getFileName().toString()).matches())
                    .filter(p -> Files.isRegularFile(p.resolve(STATE)))
                    .sorted(Comparator.comparingLong(TrainingCheckpoint::stepOf))
                    .toList();
        }
    }

    public static Optional<Path> latest(Path checkpoints) throws IOException {
        List<Path> all = list(checkpoints);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.getLast());
    }

    static long stepOf(Path dir) {
        Matcher m = NAME.matcher(dir.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /** Deletes all but the newest {@code keep} checkpoints and any temporary directories left by a crash. */
    public static void prune(Path checkpoints, int keep) throws IOException {
        List<Path> all = list(checkpoints);
        for (int i = 0; i < all.size() - keep; i++) {
            AtomicFiles.deleteRecursively(all.get(i));
        }
        try (Stream<Path> s = Files.list(checkpoints)) {
            for (Path p : s.filter(p -> p.getFileName().toString().contains(AtomicFiles.PARTIAL_MARKER)).toList()) {
                AtomicFiles.deleteRecursively(p);
            }
        }
    }

    public static State readState(Path dir) throws IOException {
        Path file = dir.resolve(STATE);
        JsonNode json;
        try {
            json = TrainerConfig.json().readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException(file + " is not readable JSON: " + e.getMessage(), e);
        }
        if (!FORMAT.equals(json.path("format").asText())) {
            throw new IOException(file + " is not a sae4j training state (format " + json.path("format").asText() + ")");
        }
        return new State(json.path("step").asLong(), json.path("tokens").asLong(),
                json.path("data_cursor").isNull() ? null : json.path("data_cursor").asText(null),
                json.path("config_sha256").asText(""));
    }

    /** Restores parameters, moments and dead-latent counters from checkpoint {@code dir}. */
    public static void restore(Path dir, Sae sae, AdamW optimizer, DeadLatentTracker dead) throws IOException {
        try (Safetensors.Reader weights = Safetensors.open(dir.resolve(SaeCheckpoint.WEIGHTS))) {
            SaeCheckpoint.loadParameters(sae, weights);
        }
        try (Safetensors.Reader opt = Safetensors.open(dir.resolve(OPTIMIZER))) {
            for (SaeParameter p : optimizerParameters(sae)) {
                restoreMoment(opt, p, p.name() + ".exp_avg", optimizer.firstMoments().get(p.name()));
                restoreMoment(opt, p, p.name() + ".exp_avg_sq", optimizer.secondMoments().get(p.name()));
            }
            dead.restore(opt.readI64("dead.tokens_since_fired", sae.spec().dSae()));
        }
    }

    private static void restoreMoment(Safetensors.Reader reader, SaeParameter p, String name, Tensor target)
            throws IOException {
        int[] shape = p.checkpointShape();
        float[] values = reader.readF32(name, shape);
        if (p.transposed()) {
            values = SaeCheckpoint.transpose(values, shape[0], shape[1]);
        }
        target.copyFrom(values);
    }
}
