package io.github.sae4j.core.train;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonPOJOBuilder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything that determines a training run. Saved as {@code train-config.json} in the run directory, so that a
 * resumed run uses exactly the settings it started with. Defaults follow the reference pipeline (AdamW
 * 0.85 / 0.9999 / 6.25e-10, AuxK with k_aux 512 and coefficient 1/32, latents dead after 10M tokens).
 *
 * @param data               the activation source (a shard directory or file)
 * @param architecture       SAE architecture name ({@code topk}, {@code relu}, or a plugin's)
 * @param latents            d_sae
 * @param settings           the architecture's settings, for example {@code {"k": 32}}
 * @param batchSize          activation rows per step
 * @param steps              optimizer steps in the whole run
 * @param learningRate       peak learning rate
 * @param warmupSteps        linear warm-up from 0 to the peak
 * @param lrFloor            the cosine decay ends at {@code lrFloor * learningRate}
 * @param deadTokens         a latent is dead once it has not fired for this many tokens
 * @param auxK               k_aux: dead latents that reconstruct the error (0 turns AuxK off)
 * @param auxKCoefficient    weight of the AuxK loss
 * @param normalize          how raw activations become the SAE's input, from the data's statistics: {@code none};
 *                           {@code center}: subtract the data mean; {@code unit}: scale so E||x||^2 = 1;
 *                           {@code scalar}: scale so E||x||^2 = d_in. Recorded in the SAE's cfg.json and applied
 *                           the same way wherever the SAE runs
 * @param validationFraction share of the data held out for validation
 * @param validationEvery    steps between validation passes
 * @param validationTokens   rows of held-out data used for validation
 * @param checkpointEvery    steps between checkpoints
 * @param keepCheckpoints    how many of the newest checkpoints to keep
 * @param logEvery           steps between training metric records
 * @param shuffleWindowRows  the shuffle buffer: rows mixed at a time from across the shards
 * @param backend            compute backend name
 * @param backendOptions     backend options, for example {@code {"threads": "2"}}
 * @param device             device index within the backend (with {@code devices}: the first of them, the master)
 * @param devices            device indices for data-parallel training, or null for the one {@code device}: one SAE
 *                           replica per device, each on a contiguous slice of every batch (see {@link Trainer}).
 *                           Left out of the JSON when null, so that single-device runs keep their config hash
 * @param shardLatents       with {@code devices}: split the SAE's latents over the devices instead of replicating it
 *                           (for SAEs too wide for one device; TopK only; see {@link LatentShards}). Left out of
 *                           the JSON when false, so that other runs keep their config hash
 * @param residualOf         an SAE directory, or null: train on the residuals {@code x - x_hat} of that frozen SAE
 *                           instead of the activations (stage 2 of a {@code stack}). Left out of the JSON when null,
 *                           so that runs started before it existed still resume
 */
@JsonDeserialize(builder = TrainerConfig.Builder.class)
public record TrainerConfig(
        String data,
        String architecture,
        int latents,
        Map<String, Object> settings,
        int batchSize,
        long steps,
        double learningRate,
        long warmupSteps,
        double lrFloor,
        double beta1,
        double beta2,
        double eps,
        double weightDecay,
        long seed,
        long deadTokens,
        int auxK,
        @JsonProperty("aux_k_coefficient") double auxKCoefficient,
        String normalize,
        double validationFraction,
        long validationEvery,
        int validationTokens,
        long checkpointEvery,
        int keepCheckpoints,
        long logEvery,
        int shuffleWindowRows,
        String backend,
        Map<String, String> backendOptions,
        int device,
        @JsonInclude(JsonInclude.Include.NON_NULL) List<Integer> devices,
        @JsonInclude(JsonInclude.Include.NON_DEFAULT) boolean shardLatents,
        @JsonInclude(JsonInclude.Include.NON_NULL) String residualOf) {

    public static final String NORMALIZE_NONE = "none";
    public static final String NORMALIZE_SCALAR = "scalar";
    public static final String NORMALIZE_CENTER = "center";
    public static final String NORMALIZE_UNIT = "unit";

    public TrainerConfig {
        settings = settings == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(settings));
        backendOptions = backendOptions == null ? Map.of()
                : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(backendOptions));
        devices = devices == null || devices.isEmpty() ? null : java.util.Collections.unmodifiableList(
                new java.util.ArrayList<>(devices));
    }

    static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT);

    /** The JSON mapper for configs (snake_case names). */
    public static ObjectMapper json() {
        return JSON;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().data(data).architecture(architecture).latents(latents).settings(settings)
                .batchSize(batchSize).steps(steps).learningRate(learningRate).warmupSteps(warmupSteps).lrFloor(lrFloor)
                .beta1(beta1).beta2(beta2).eps(eps).weightDecay(weightDecay).seed(seed).deadTokens(deadTokens)
                .auxK(auxK).auxKCoefficient(auxKCoefficient).normalize(normalize)
                .validationFraction(validationFraction).validationEvery(validationEvery)
                .validationTokens(validationTokens).checkpointEvery(checkpointEvery).keepCheckpoints(keepCheckpoints)
                .logEvery(logEvery).shuffleWindowRows(shuffleWindowRows).backend(backend)
                .backendOptions(backendOptions).device(device).devices(devices).shardLatents(shardLatents)
                .residualOf(residualOf);
    }

    /** The devices this run trains on, master first: {@code devices}, or the one {@code device}. */
    @JsonIgnore
    public List<Integer> deviceIndices() {
        return devices == null ? List.of(device) : devices;
    }

    @JsonIgnore
    public boolean auxKEnabled() {
        return auxK > 0 && auxKCoefficient > 0;
    }

    /**
     * Checks every setting, naming the first one that is impossible and what would be valid.
     *
     * @throws IllegalArgumentException for an impossible setting
     */
    public TrainerConfig validate() {
        require(data != null && !data.isBlank(), "data", data, "the activation shards to train on");
        require(architecture != null && !architecture.isBlank(), "architecture", architecture, "a name such as topk");
        require(latents >= 1, "latents", latents, ">= 1");
        require(batchSize >= 1, "batch_size", batchSize, ">= 1");
        require(steps >= 1, "steps", steps, ">= 1");
        require(learningRate > 0 && Double.isFinite(learningRate), "learning_rate", learningRate, "a positive number");
        require(warmupSteps >= 0 && warmupSteps <= steps, "warmup_steps", warmupSteps, "between 0 and steps (" + steps + ")");
        require(lrFloor >= 0 && lrFloor <= 1, "lr_floor", lrFloor, "a fraction of the learning rate in [0, 1]");
        require(beta1 >= 0 && beta1 < 1, "beta1", beta1, "in [0, 1)");
        require(beta2 >= 0 && beta2 < 1, "beta2", beta2, "in [0, 1)");
        require(eps >= 0 && Double.isFinite(eps), "eps", eps, ">= 0");
        require(weightDecay >= 0 && Double.isFinite(weightDecay), "weight_decay", weightDecay, ">= 0");
        require(deadTokens >= 1, "dead_tokens", deadTokens, ">= 1");
        require(auxK >= 0, "aux_k", auxK, ">= 0 (0 turns AuxK off)");
        require(auxKCoefficient >= 0 && Double.isFinite(auxKCoefficient), "aux_k_coefficient", auxKCoefficient, ">= 0");
        require(List.of(NORMALIZE_NONE, NORMALIZE_CENTER, NORMALIZE_UNIT, NORMALIZE_SCALAR).contains(normalize),
                "normalize", normalize, "none, center, unit or scalar");
        require(validationFraction >= 0 && validationFraction < 1, "validation_fraction", validationFraction, "in [0, 1)");
        require(validationEvery >= 1, "validation_every", validationEvery, ">= 1");
        require(validationTokens >= 1, "validation_tokens", validationTokens, ">= 1");
        require(checkpointEvery >= 1, "checkpoint_every", checkpointEvery, ">= 1");
        require(keepCheckpoints >= 1, "keep_checkpoints", keepCheckpoints, ">= 1");
        require(logEvery >= 1, "log_every", logEvery, ">= 1");
        require(shuffleWindowRows >= 1, "shuffle_window_rows", shuffleWindowRows, ">= 1");
        require(backend != null && !backend.isBlank(), "backend", backend, "a backend name such as java");
        require(device >= 0, "device", device, ">= 0");
        if (devices != null) {
            for (int i = 0; i < devices.size(); i++) {
                Integer d = devices.get(i);
                require(d != null && d >= 0, "devices", devices, "device indices >= 0, such as [0, 1]");
                require(devices.indexOf(d) == i, "devices", devices,
                        "distinct device indices (device " + d + " is listed twice; each device holds one replica)");
            }
            require(device == devices.getFirst(), "device", device,
                    "the first of devices " + devices + " (the master replica), or left out");
            require(shardLatents || batchSize >= devices.size(), "batch_size", batchSize,
                    "at least the number of devices (" + devices.size() + " in " + devices
                    + "), so that every device trains on rows of each batch");
        }
        require(!shardLatents || devices != null, "shard_latents", shardLatents,
                "false with one device (list two or more devices to split the latents over, e.g. --devices 0,1)");
        require(!shardLatents || "topk".equals(architecture), "shard_latents", shardLatents, "false with architecture "
                + architecture + ": latent sharding supports topk only (train " + architecture + " on one device, or "
                + "data-parallel without shard_latents)");
        require(!shardLatents || latents >= devices.size(), "shard_latents", shardLatents, "false with " + latents
                + " latents on " + (devices == null ? 1 : devices.size()) + " devices: every device needs at least one "
                + "latent; list at most " + latents + " devices");
        require(residualOf == null || !residualOf.isBlank(), "residual_of", residualOf,
                "an SAE directory (or left out)");
        return this;
    }

    private static void require(boolean ok, String field, Object value, String valid) {
        if (!ok) {
            throw new IllegalArgumentException("training setting " + field + "=" + value + " is impossible: it must be "
                    + valid);
        }
    }

    /** Builds a config; every field has a default except data, latents and steps. */
    @JsonPOJOBuilder(withPrefix = "")
    public static final class Builder {
        private String data;
        private String architecture = "topk";
        private int latents;
        private Map<String, Object> settings = new LinkedHashMap<>();
        private int batchSize = 4096;
        private long steps;
        private double learningRate = 2e-4;
        private long warmupSteps = -1;
        private double lrFloor = 0.1;
        private double beta1 = 0.85;
        private double beta2 = 0.9999;
        private double eps = 6.25e-10;
        private double weightDecay = 0;
        private long seed = 0;
        private long deadTokens = 10_000_000L;
        private int auxK = 512;
        private double auxKCoefficient = 1.0 / 32;
        private String normalize = NORMALIZE_NONE;
        private double validationFraction = 0.02;
        private long validationEvery = 500;
        private int validationTokens = 65_536;
        private long checkpointEvery = 1000;
        private int keepCheckpoints = 3;
        private long logEvery = 10;
        private int shuffleWindowRows = 262_144;
        private String backend = "java";
        private Map<String, String> backendOptions = new LinkedHashMap<>();
        private int device = 0;
        private List<Integer> devices;
        private boolean shardLatents;
        private String residualOf;

        public Builder data(String v) { data = v; return this; }
        public Builder architecture(String v) { architecture = v; return this; }
        public Builder latents(int v) { latents = v; return this; }
        public Builder settings(Map<String, Object> v) { settings = new LinkedHashMap<>(v); return this; }
        public Builder setting(String name, Object v) { settings.put(name, v); return this; }
        public Builder batchSize(int v) { batchSize = v; return this; }
        public Builder steps(long v) { steps = v; return this; }
        public Builder learningRate(double v) { learningRate = v; return this; }
        public Builder warmupSteps(long v) { warmupSteps = v; return this; }
        public Builder lrFloor(double v) { lrFloor = v; return this; }
        public Builder beta1(double v) { beta1 = v; return this; }
        public Builder beta2(double v) { beta2 = v; return this; }
        public Builder eps(double v) { eps = v; return this; }
        public Builder weightDecay(double v) { weightDecay = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder deadTokens(long v) { deadTokens = v; return this; }
        public Builder auxK(int v) { auxK = v; return this; }
        @JsonProperty("aux_k_coefficient")
        public Builder auxKCoefficient(double v) { auxKCoefficient = v; return this; }
        public Builder normalize(String v) { normalize = v; return this; }
        public Builder validationFraction(double v) { validationFraction = v; return this; }
        public Builder validationEvery(long v) { validationEvery = v; return this; }
        public Builder validationTokens(int v) { validationTokens = v; return this; }
        public Builder checkpointEvery(long v) { checkpointEvery = v; return this; }
        public Builder keepCheckpoints(int v) { keepCheckpoints = v; return this; }
        public Builder logEvery(long v) { logEvery = v; return this; }
        public Builder shuffleWindowRows(int v) { shuffleWindowRows = v; return this; }
        public Builder backend(String v) { backend = v; return this; }
        public Builder backendOptions(Map<String, String> v) { backendOptions = new LinkedHashMap<>(v); return this; }
        public Builder device(int v) { device = v; return this; }

        /** Data-parallel devices, master first; one device is the same as {@link #device(int)}. */
        public Builder devices(List<Integer> v) {
            if (v == null || v.isEmpty()) {
                devices = null;
            } else if (v.size() == 1 && v.getFirst() != null) {
                device = v.getFirst();
                devices = null;
            } else {
                devices = new java.util.ArrayList<>(v);
                if (v.getFirst() != null) {
                    device = v.getFirst();
                }
            }
            return this;
        }
        /** Split the latents over {@link #devices} instead of replicating the SAE (see {@link LatentShards}). */
        public Builder shardLatents(boolean v) { shardLatents = v; return this; }
        public Builder residualOf(String v) { residualOf = v; return this; }

        /** Applies derived defaults (warm-up: 5% of the steps, at most 1000) and validates. */
        public TrainerConfig build() {
            long warmup = warmupSteps >= 0 ? warmupSteps : Math.min(1000, steps / 20);
            return new TrainerConfig(data, architecture, latents, settings, batchSize, steps, learningRate, warmup,
                    lrFloor, beta1, beta2, eps, weightDecay, seed, deadTokens, auxK, auxKCoefficient, normalize,
                    validationFraction, validationEvery, validationTokens, checkpointEvery, keepCheckpoints, logEvery,
                    shuffleWindowRows, backend, backendOptions, device, devices, shardLatents, residualOf).validate();
        }
    }
}
