package io.github.sae4j.core.train;

import io.github.sae4j.api.activation.ActivationBatch;
import io.github.sae4j.api.activation.ActivationReadOptions;
import io.github.sae4j.api.activation.ActivationSource;
import io.github.sae4j.api.activation.ActivationSourceInfo;
import io.github.sae4j.api.activation.ActivationSplit;
import io.github.sae4j.api.activation.ActivationStatistics;
import io.github.sae4j.api.activation.ActivationStream;
import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.metrics.MetricsRecord;
import io.github.sae4j.api.metrics.MetricsSink;
import io.github.sae4j.api.metrics.MetricsSinkProvider;
import io.github.sae4j.api.sae.AuxKSettings;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeArchitecture;
import io.github.sae4j.api.sae.SaeParameter;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.api.sae.TrainingStepResult;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.eval.ReconstructionEvaluator;
import io.github.sae4j.core.io.AtomicFiles;
import io.github.sae4j.core.metrics.ReconstructionMetrics;
import io.github.sae4j.core.residual.ResidualActivationSource;
import io.github.sae4j.core.store.WelfordStatistics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Trains an SAE on an activation source, in a run directory:
 * <pre>
 *   train-config.json     the settings (a resumed run reads them back)
 *   metrics.jsonl / .png  what the metrics sinks write
 *   checkpoints/step-N/   resumable states, written atomically every checkpoint_every steps
 *   sae/                  the final SAE (sae.safetensors + cfg.json)
 *   summary.json          the final validation metrics
 * </pre>
 * Each step: read a shuffled batch, forward and backward through the architecture (which adds AuxK when latents
 * are dead), project the decoder gradient, AdamW, renormalize the decoder, update the dead-latent counters. Every
 * operation is deterministic, so a run resumed from a checkpoint ends with the same weights as one never stopped.
 *
 * <p>With several devices ({@link TrainerConfig#devices()}) the forward and backward run data-parallel, one replica
 * per device on a slice of the batch ({@link DataParallelReplicas}); everything after them (the decoder rule, AdamW,
 * the dead-latent counters, checkpoints, validation) happens once, on the master replica, as with one device. With
 * {@link TrainerConfig#shardLatents()} the devices instead split the SAE's latents ({@link LatentShards}), for SAEs
 * too wide for one device; the loop is the same ({@link DeviceLayout}).
 */
public final class Trainer {

    public static final String CONFIG_FILE = "train-config.json";
    public static final String CHECKPOINTS = "checkpoints";
    public static final String FINAL_SAE = "sae";
    public static final String SUMMARY = "summary.json";

    /** Progress callbacks (a progress bar, a test probe). All have empty defaults. */
    public interface Listener {
        default void onStart(long firstStep, long totalSteps, SaeSpec spec, Device device) {
        }

        default void onStep(long step, TrainingStepResult result, double learningRate, double deadFraction) {
        }

        default void onValidation(long step, ReconstructionMetrics.Result result) {
        }

        default void onCheckpoint(long step, Path directory) {
        }

        default void onMessage(String message) {
        }
    }

    /** What a finished run produced. */
    public record Outcome(Path saeDirectory, long steps, long tokens, ReconstructionMetrics.Result validation,
                          double secondsTraining) {
    }

    private final TrainerConfig config;
    private final Path runDirectory;
    private final Listener listener;

    public Trainer(TrainerConfig config, Path runDirectory, Listener listener) {
        this.config = config.validate();
        this.runDirectory = runDirectory;
        this.listener = listener == null ? new Listener() { } : listener;
    }

    /**
     * Starts a new run in {@code runDirectory}, which must not hold one already.
     *
     * @throws IllegalStateException if the directory already holds a run
     */
    public static Trainer start(TrainerConfig config, Path runDirectory, Listener listener) throws IOException {
        config.validate();
        if (Files.exists(runDirectory.resolve(CONFIG_FILE))) {
            throw new IllegalStateException("run directory " + runDirectory + " already holds a run ("
                    + CONFIG_FILE + " exists): resume it with --resume, or choose another --out");
        }
        return new Trainer(config, runDirectory, listener);
    }

    /** Continues the run in {@code runDirectory} with the settings it was started with. */
    public static Trainer resume(Path runDirectory, Listener listener) throws IOException {
        Path file = runDirectory.resolve(CONFIG_FILE);
        if (!Files.exists(file)) {
            throw new IllegalStateException("cannot resume: " + runDirectory + " holds no run (no " + CONFIG_FILE + ")");
        }
        TrainerConfig config;
        try {
            config = TrainerConfig.json().readValue(file.toFile(), TrainerConfig.class);
        } catch (IOException e) {
            throw new IOException(file + " is not a valid training config: " + e.getMessage(), e);
        }
        return new Trainer(config, runDirectory, listener);
    }

    public TrainerConfig config() {
        return config;
    }

    /**
     * Runs to the last step (from the latest checkpoint if there is one) and returns what it produced.
     *
     * @param sinkProviders where metrics go (opened in the run directory, told the step a resumed run continues from)
     */
    public Outcome run(List<MetricsSinkProvider> sinkProviders) throws IOException {
        Path checkpoints = runDirectory.resolve(CHECKPOINTS);
        String configJson = TrainerConfig.json().writeValueAsString(config);
        String configSha = sha256(configJson);
        Optional<Path> latest = TrainingCheckpoint.latest(checkpoints);
        long resumedAt = latest.isPresent() ? TrainingCheckpoint.readState(latest.get()).step() : -1;

        // Everything that can be wrong with the settings, the data or the plugins fails here, before a file is written.
        SaeArchitecture architecture = Plugins.architectures().get(config.architecture());
        try (Backend backend = Plugins.openBackend(config.backend(), config.backendOptions());
             ActivationSource source = openData(backend)) {
            List<Device> devices = new ArrayList<>();
            for (int index : config.deviceIndices()) {
                devices.add(backend.device(index));
            }
            ActivationSourceInfo info = source.info();
            int dIn = info.dModel();
            ActivationStatistics stats = info.statistics() != null ? info.statistics() : estimateStatistics(source, dIn);
            double scale = switch (config.normalize()) {
                case TrainerConfig.NORMALIZE_SCALAR -> Math.sqrt(dIn / Math.max(stats.meanSquaredNorm(), 1e-30));
                case TrainerConfig.NORMALIZE_UNIT -> Math.sqrt(1 / Math.max(stats.meanSquaredNorm(), 1e-30));
                default -> 1.0;
            };
            Map<String, String> metadata = new LinkedHashMap<>(info.metadata());
            metadata.put("model", info.model() == null ? "" : info.model());
            metadata.put("hook_point", info.hookPoint() == null ? "" : info.hookPoint());
            metadata.put("training_data", config.data());
            // A source of residuals already names its frozen SAE as residual_of (copied from info.metadata() above).
            metadata.put("validation_fraction", String.valueOf(config.validationFraction()));
            metadata.put("normalize", config.normalize());
            SaeSpec spec = architecture.spec(dIn, config.latents(), config.settings(), scale, metadata);
            if (TrainerConfig.NORMALIZE_CENTER.equals(config.normalize())) {
                spec = spec.withInputShift(stats.meanAsFloats());
            }

            Files.createDirectories(runDirectory);
            if (!Files.exists(runDirectory.resolve(CONFIG_FILE))) {
                AtomicFiles.writeString(runDirectory.resolve(CONFIG_FILE), configJson);
            }
            List<MetricsSink> sinks = new ArrayList<>();
            try {
                for (MetricsSinkProvider provider : sinkProviders) {
                    sinks.add(provider.open(runDirectory, resumedAt));
                }
                return train(devices, source, spec, stats, checkpoints, configSha, latest, sinks);
            } finally {
                IOException first = null;
                for (MetricsSink sink : sinks) {
                    try {
                        sink.close();
                    } catch (IOException e) {
                        first = first == null ? e : first;
                    }
                }
                if (first != null) {
                    throw first;
                }
            }
        }
    }

    private Outcome train(List<Device> devices, ActivationSource source, SaeSpec spec, ActivationStatistics stats,
                          Path checkpoints, String configSha, Optional<Path> latest, List<MetricsSink> sinks)
            throws IOException {
        Device device = devices.getFirst();
        int dIn = spec.dIn();
        SaeArchitecture architecture = Plugins.architectures().get(spec.architecture());
        try (DeviceLayout layout = config.shardLatents() ? LatentShards.open(spec, devices, config)
                : new ReplicatedLayout(architecture, spec, devices, config)) {
            Sae sae = layout.sae();
            DeadLatentTracker dead = new DeadLatentTracker(spec.dSae(), config.deadTokens());
            long step = 0;
            long resumedFrom = -1;
            long tokens = 0;
            String cursor = null;
            if (latest.isPresent()) {
                TrainingCheckpoint.State state = TrainingCheckpoint.readState(latest.get());
                if (!state.configSha256().equals(configSha)) {
                    throw new IllegalStateException("checkpoint " + latest.get() + " was written with other settings"
                            + " than " + runDirectory.resolve(CONFIG_FILE) + "; restore that file or start a new run");
                }
                layout.restore(latest.get(), dead);
                step = state.step();
                resumedFrom = step;
                tokens = state.tokens();
                cursor = state.dataCursor();
                listener.onMessage("resuming from " + latest.get() + " (step " + step + ")");
            } else {
                // b_dec starts at the data mean in the SAE's units (zero when centred).
                float[] mean = stats.meanAsFloats();
                spec.normalize(mean, 0, 1);
                layout.initialize(config.seed(), mean);
            }
            AuxKSettings auxK = config.auxKEnabled() && sae.supportsAuxK()
                    ? new AuxKSettings(config.auxK(), (float) config.auxKCoefficient()) : null;
            if (config.auxKEnabled() && !sae.supportsAuxK()) {
                listener.onMessage("architecture " + spec.architecture() + " does not use AuxK; aux_k is ignored");
            }

            List<float[]> validation = loadValidation(source, dIn);
            if (validation.isEmpty()) {
                listener.onMessage("no validation data (validation_fraction=" + config.validationFraction()
                        + "); validation metrics are skipped");
            }
            if (layout.description() != null) {
                listener.onMessage(layout.description());
            }
            listener.onStart(step + 1, config.steps(), spec, device);

            ActivationReadOptions readOptions = new ActivationReadOptions(ActivationSplit.TRAIN,
                    config.validationFraction(), true, config.seed(), config.shuffleWindowRows(), true, cursor);
            ActivationBatch batch = new ActivationBatch(config.batchSize(), dIn);
            LearningRateSchedule schedule = new LearningRateSchedule(config.learningRate(), config.warmupSteps(),
                    config.steps(), config.lrFloor());
            ReconstructionMetrics.Result lastValidation = null;
            long startNanos = System.nanoTime();
            long windowStart = System.nanoTime();
            long windowTokens = 0;
            float[] rawMean = stats.meanAsFloats();

            try (ActivationStream stream = source.open(readOptions)) {
                while (step < config.steps()) {
                    readFullBatch(stream, batch);
                    step++;
                    DataParallelReplicas.Step parallel = layout.step(batch.values(), dead.mask(), dead.deadCount(),
                            auxK);
                    TrainingStepResult result = parallel.result();
                    if (!Double.isFinite(result.loss())) {
                        throw new TrainingDivergedException("the loss became " + result.loss() + " at step " + step
                                + " (terms " + result.terms() + "). Lower the learning rate (now "
                                + config.learningRate() + ") or check the data; the last good checkpoint is in "
                                + checkpoints);
                    }
                    double lr = schedule.at(step);
                    layout.update(lr, step);
                    dead.update(parallel.firedCounts(), batch.rows());
                    tokens += batch.rows();
                    windowTokens += batch.rows();
                    listener.onStep(step, result, lr, dead.deadFraction());

                    boolean last = step == config.steps();
                    if (step % config.logEvery() == 0 || last) {
                        double seconds = (System.nanoTime() - windowStart) / 1e9;
                        Map<String, Double> values = new LinkedHashMap<>();
                        values.put("loss", result.loss());
                        values.putAll(result.terms());
                        values.put("l0", result.l0());
                        values.put("dead_fraction", dead.deadFraction());
                        values.put("lr", lr);
                        values.put("tokens_per_second", seconds > 0 ? windowTokens / seconds : Double.NaN);
                        emit(sinks, new MetricsRecord("train", step, tokens, values));
                        windowStart = System.nanoTime();
                        windowTokens = 0;
                    }
                    if (!validation.isEmpty() && (step % config.validationEvery() == 0 || last)) {
                        lastValidation = validate(sae, validation, dIn, rawMean);
                        Map<String, Double> values = new LinkedHashMap<>(lastValidation.asMap());
                        values.put("loss", lastValidation.fvu());
                        emit(sinks, new MetricsRecord("val", step, tokens, values));
                        listener.onValidation(step, lastValidation);
                    }
                    if (step % config.checkpointEvery() == 0 || last) {
                        requireFiniteParameters(layout, step);
                        Path dir = layout.writeCheckpoint(checkpoints,
                                new TrainingCheckpoint.State(step, tokens, stream.cursor(), configSha), dead);
                        TrainingCheckpoint.prune(checkpoints, config.keepCheckpoints());
                        for (MetricsSink s : sinks) {
                            s.flush();
                        }
                        listener.onCheckpoint(step, dir);
                    }
                }
            }
            if (lastValidation == null && !validation.isEmpty()) {
                lastValidation = validate(sae, validation, dIn, rawMean);
            }
            Path saeDir = runDirectory.resolve(FINAL_SAE);
            layout.save(saeDir);
            writeSummary(step, tokens, lastValidation, latest.isPresent() ? resumedFrom : -1);
            for (MetricsSink s : sinks) {
                s.flush();
            }
            return new Outcome(saeDir, step, tokens, lastValidation, (System.nanoTime() - startNanos) / 1e9);
        }
    }

    /** The training data: the activations, or with residual_of their residuals after that frozen SAE. */
    private ActivationSource openData(Backend backend) throws IOException {
        ActivationSource activations = Plugins.openActivations(Path.of(config.data()));
        if (config.residualOf() == null) {
            return activations;
        }
        Device device;
        try {
            device = backend.device(config.device());
        } catch (RuntimeException e) {
            activations.close();
            throw e;
        }
        return ResidualActivationSource.open(activations, Path.of(config.residualOf()), device);
    }

    /** Refuses to checkpoint a poisoned SAE: a NaN in the weights would otherwise be resumed from forever. */
    private void requireFiniteParameters(DeviceLayout layout, long step) {
        for (SaeParameter p : layout.deviceParameters()) {
            long bad = p.value().device().ops().countNonFinite(p.value());
            if (bad > 0) {
                throw new TrainingDivergedException(p.name() + " holds " + bad + " NaN or infinite values at step " + step
                        + "; no checkpoint was written. Lower the learning rate (now " + config.learningRate()
                        + ") and resume from the last good checkpoint in " + runDirectory.resolve(CHECKPOINTS));
            }
        }
    }

    private static void emit(List<MetricsSink> sinks, MetricsRecord record) throws IOException {
        for (MetricsSink s : sinks) {
            s.record(record);
        }
    }

    private static void readFullBatch(ActivationStream stream, ActivationBatch batch) throws IOException {
        if (!stream.next(batch) || batch.rows() < batch.capacity()) {
            throw new IOException("the training split ended early (" + batch.rows() + " of " + batch.capacity()
                    + " rows): the data holds too few training rows for one batch; write more activations or lower "
                    + "--batch-size");
        }
    }

    private List<float[]> loadValidation(ActivationSource source, int dIn) throws IOException {
        List<float[]> rows = new ArrayList<>();
        if (config.validationFraction() <= 0) {
            return rows;
        }
        ActivationReadOptions options = new ActivationReadOptions(ActivationSplit.VALIDATION,
                config.validationFraction(), false, 0, config.shuffleWindowRows(), false, null);
        int capacity = Math.min(config.batchSize(), config.validationTokens());
        ActivationBatch batch = new ActivationBatch(capacity, dIn);
        long total = 0;
        try (ActivationStream stream = source.open(options)) {
            while (total < config.validationTokens() && stream.next(batch)) {
                int take = (int) Math.min(batch.rows(), config.validationTokens() - total);
                float[] copy = new float[take * dIn];
                System.arraycopy(batch.values(), 0, copy, 0, copy.length);
                rows.add(copy);
                total += take;
            }
        }
        return rows;
    }

    private ReconstructionMetrics.Result validate(Sae sae, List<float[]> validation, int dIn, float[] rawMean)
            throws IOException {
        int capacity = validation.stream().mapToInt(a -> a.length / dIn).max().orElse(1);
        var iterator = validation.iterator();
        return ReconstructionEvaluator.evaluate(sae, b -> {
            if (!iterator.hasNext()) {
                return false;
            }
            float[] rows = iterator.next();
            System.arraycopy(rows, 0, b.values(), 0, rows.length);
            b.setRows(rows.length / dIn);
            return true;
        }, capacity, rawMean, Long.MAX_VALUE);
    }

    /** Mean and variance from the first rows, for sources that do not carry statistics. */
    private ActivationStatistics estimateStatistics(ActivationSource source, int dIn) throws IOException {
        ActivationReadOptions options = new ActivationReadOptions(ActivationSplit.TRAIN, config.validationFraction(),
                false, 0, config.shuffleWindowRows(), false, null);
        WelfordStatistics welford = new WelfordStatistics(dIn);
        ActivationBatch batch = new ActivationBatch(Math.min(4096, config.batchSize()), dIn);
        try (ActivationStream stream = source.open(options)) {
            while (welford.count() < 65_536 && stream.next(batch)) {
                welford.add(batch.values(), 0, batch.rows());
            }
        }
        listener.onMessage("the data carries no statistics; estimated the mean from " + welford.count() + " rows");
        return welford.toStatistics();
    }

    private void writeSummary(long step, long tokens, ReconstructionMetrics.Result validation, long resumedAt)
            throws IOException {
        var json = TrainerConfig.json().createObjectNode();
        json.put("steps", step);
        json.put("tokens", tokens);
        json.put("resumed_at_step", resumedAt);
        if (validation != null) {
            var v = json.putObject("validation");
            validation.asMap().forEach((k, val) -> {
                if (Double.isFinite(val)) {
                    v.put(k, val);
                } else {
                    v.putNull(k);
                }
            });
        }
        AtomicFiles.writeString(runDirectory.resolve(SUMMARY), TrainerConfig.json().writeValueAsString(json));
    }

    private static String sha256(String text) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(md.digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
