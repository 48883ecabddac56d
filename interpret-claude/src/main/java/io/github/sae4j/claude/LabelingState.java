package io.github.sae4j.claude;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a labeling run has sent and received, kept in {@code state.json} of the state directory so that a rerun
 * after a crash sends nothing twice and loses nothing. It is rewritten whole, atomically (temp file + rename),
 * after every change: before and after each batch is created, and after each batch's results are taken in.
 *
 * <p>Plain mutable fields because it is a document that Jackson reads and writes as-is.
 */
final class LabelingState {

    static final String FILE_NAME = "state.json";
    static final String FORMAT = "sae4j-claude-labeling-state/1";

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .serializationInclusion(JsonInclude.Include.NON_NULL)
            .build();

    public String format = FORMAT;
    public Fingerprint fingerprint;
    /** Every batch this run created (or asked to create), in order. */
    public List<SubmittedBatch> batches = new ArrayList<>();
    /** Latents that have a label, by id. */
    public Map<Integer, StoredLabel> labels = new TreeMap<>();
    /** The latest failure of each latent that has no label yet, by id. */
    public Map<Integer, Failure> failures = new TreeMap<>();
    /** Token usage of every result taken in so far. */
    public UsageTotals usage = new UsageTotals();

    /**
     * What makes two runs the same run: the model, the prompt version, the latents and the exact requests.
     *
     * @param requestsSha256 over every request's parameters (prompt text, max_tokens, effort), in latent order
     */
    public record Fingerprint(String model, String promptVersion, List<Integer> latents, String requestsSha256) {
    }

    /** One create call: {@code id} is null from just before the call until it returns. */
    public static final class SubmittedBatch {
        public String id;
        /** latent id -> which attempt of that latent this batch carries (1 for the first). */
        public Map<Integer, Integer> requests = new TreeMap<>();
        public String requestedAt;
        /** True once its results have been taken into {@link #labels} and {@link #failures}. */
        public boolean collected;
    }

    public record StoredLabel(String label, double confidence, String rawResponse, String model,
                              String promptVersion, String batchId, int attempt) {
    }

    public record Failure(String error, String rawResponse, String batchId, int attempt) {
    }

    public static final class UsageTotals {
        public long results;
        public long inputTokens;
        public long outputTokens;
        public long cacheCreationInputTokens;
        public long cacheReadInputTokens;
    }

    /** How many times a latent has been sent (or is being sent). */
    int attempts(int latent) {
        int n = 0;
        for (SubmittedBatch b : batches) {
            if (b.requests.containsKey(latent)) {
                n++;
            }
        }
        return n;
    }

    /** Latents in batches whose results are not in yet. */
    Set<Integer> inFlight() {
        Set<Integer> out = new TreeSet<>();
        for (SubmittedBatch b : batches) {
            if (!b.collected) {
                out.addAll(b.requests.keySet());
            }
        }
        return out;
    }

    static Path file(Path stateDirectory) {
        return stateDirectory.resolve(FILE_NAME);
    }

    /** Reads the state file, or returns null when the directory has none. */
    static LabelingState load(Path stateDirectory) throws IOException {
        Path file = file(stateDirectory);
        if (!Files.exists(file)) {
            return null;
        }
        LabelingState state;
        try {
            state = JSON.readValue(file.toFile(), LabelingState.class);
        } catch (IOException e) {
            throw new IOException("cannot read the labeling state file " + file + ": " + e.getMessage()
                    + ". It is written atomically, so it was changed by hand or by another program; restore it, or"
                    + " delete it to start over (labels it holds are lost, batches it lists are not fetched)", e);
        }
        if (!FORMAT.equals(state.format)) {
            throw new IOException("the labeling state file " + file + " has format '" + state.format
                    + "', this version of interpret-claude reads '" + FORMAT + "'. Use a new state directory.");
        }
        return state;
    }

    /** Writes the state atomically: a reader (or a rerun after a crash) sees the old file or the new one. */
    void save(Path stateDirectory) throws IOException {
        writeAtomically(file(stateDirectory), JSON.writeValueAsBytes(this));
    }

    static void writeJson(Path file, Object value) throws IOException {
        writeAtomically(file, JSON.writeValueAsBytes(value));
    }

    static void writeAtomically(Path file, byte[] bytes) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, bytes);
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * Checks that this state belongs to the run with {@code expected}.
     *
     * @throws IllegalStateException naming the file, what differs, and what to do
     */
    void requireSameRun(Fingerprint expected, Path stateDirectory) {
        Fingerprint f = fingerprint;
        List<String> differences = new ArrayList<>();
        if (f == null) {
            differences.add("it has no fingerprint");
        } else {
            if (!Objects.equals(f.model(), expected.model())) {
                differences.add("its model is '" + f.model() + "', this run's is '" + expected.model() + "'");
            }
            if (!Objects.equals(f.promptVersion(), expected.promptVersion())) {
                differences.add("its prompt version is " + f.promptVersion() + ", this run's is "
                        + expected.promptVersion());
            }
            if (!Objects.equals(f.latents(), expected.latents())) {
                Set<Integer> added = new TreeSet<>(expected.latents());
                added.removeAll(f.latents() == null ? List.of() : f.latents());
                Set<Integer> removed = new TreeSet<>(f.latents() == null ? List.of() : f.latents());
                expected.latents().forEach(removed::remove);
                differences.add("its latents differ (" + f.latents().size() + " there, " + expected.latents().size()
                        + " here; only here: " + first(added) + "; only there: " + first(removed) + ")");
            } else if (!Objects.equals(f.requestsSha256(), expected.requestsSha256())
                    && Objects.equals(f.model(), expected.model())
                    && Objects.equals(f.promptVersion(), expected.promptVersion())) {
                differences.add("its requests differ (the latents' examples or the options examples, max-tokens or effort changed)");
            }
        }
        if (!differences.isEmpty()) {
            throw new IllegalStateException("the labeling state file " + file(stateDirectory)
                    + " belongs to another run: " + String.join("; ", differences)
                    + ". Use another state directory for this run, or delete that file to start over (the labels"
                    + " it holds are then lost).");
        }
    }

    private static String first(Set<Integer> ids) {
        if (ids.isEmpty()) {
            return "none";
        }
        List<String> shown = ids.stream().limit(5).map(String::valueOf).toList();
        return String.join(", ", shown) + (ids.size() > 5 ? " and " + (ids.size() - 5) + " more" : "");
    }
}
