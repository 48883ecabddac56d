package io.github.sae4j.core.train;

import io.github.sae4j.api.backend.DType;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.backend.TensorOps;
import io.github.sae4j.api.sae.AuxKSettings;
import io.github.sae4j.api.sae.LatentCodes;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeParameter;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.api.sae.TrainingContext;
import io.github.sae4j.api.sae.TrainingStepResult;
import io.github.sae4j.core.checkpoint.SaeCheckpoint;
import io.github.sae4j.core.io.AtomicFiles;
import io.github.sae4j.core.io.Safetensors;
import io.github.sae4j.core.sae.AuxKLoss;
import io.github.sae4j.core.sae.AutoencoderWeights;
import io.github.sae4j.core.sae.ParameterInit;
import io.github.sae4j.core.sae.TensorCache;
import io.github.sae4j.core.sae.TopKArchitecture;
import io.github.sae4j.core.sae.TopKLatentShard;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A TopK SAE whose latents are split over several devices, for SAEs too wide for one: device s holds the contiguous
 * slice {@code [first_s, first_s + width_s)} of the latents ({@code W_enc} rows, {@code W_dec} rows, {@code b_enc},
 * their gradients and AdamW moments, as a {@link TopKLatentShard}); {@code b_dec} is trained on the first device (the
 * home) and copied to the others after each step. A step is the math of {@link io.github.sae4j.core.sae.TopKSae}:
 * <ol>
 *   <li>every slice computes its pre-activations and its top {@code min(k, width)} candidates per row;</li>
 *   <li>on the host the candidates merge into the global top-k, in the order of the backend's top-k (larger value
 *       first, ties to the lower latent id), so the selection is the unsharded SAE's;</li>
 *   <li>each slice decodes its selected latents; the parts are summed on the home device (+ b_dec) into x_hat; the
 *       loss and dL/dx_hat are computed there once and sent to every slice;</li>
 *   <li>each slice writes the gradients of its own rows (only its active latents), AuxK the same way over the global
 *       top-k_aux of the dead latents; the b_dec gradient sums the slices' parts on the home device;</li>
 *   <li>{@link #update}: per slice, the unit-norm decoder rule ({@link UnitNormDecoderConstraint}, row-wise) around
 *       the slice's AdamW step.</li>
 * </ol>
 * Everything crosses devices through host arrays, as in {@link DataParallelReplicas}. Checkpoints gather the slices
 * into the normal format; {@link #restore} splits a checkpoint again.
 */
final class LatentShards implements DeviceLayout {

    /** Parameters every slice holds whole; the first device's copy is the trained one. */
    private static final String SHARED = "b_dec";

    private static final class Shard {
        final Device device;
        final TopKLatentShard topk;
        final Map<String, Tensor> gradients = new LinkedHashMap<>();
        final AdamW optimizer;
        final UnitNormDecoderConstraint constraint;
        final TensorCache buffers;
        final Tensor x;
        final Tensor shift;

        Shard(Device device, TopKLatentShard topk, SaeSpec spec, int rows, boolean home, TrainerConfig config) {
            this.device = device;
            this.topk = topk;
            this.buffers = new TensorCache(device);
            List<SaeParameter> trained = new ArrayList<>();
            for (SaeParameter p : topk.sae().parameters()) {
                if (p.trainable() && (home || !p.name().equals(SHARED))) {
                    trained.add(p);
                    gradients.put(p.name(), device.allocate(DType.F32, p.value().shape()));
                }
            }
            optimizer = new AdamW(device, trained, config.beta1(), config.beta2(), config.eps(), config.weightDecay());
            constraint = UnitNormDecoderConstraint.of(topk.sae());
            x = device.allocate(DType.F32, rows, spec.dIn());
            shift = spec.inputShift() == null ? null : device.upload(spec.inputShift(), spec.dIn());
        }

        TensorOps ops() {
            return device.ops();
        }

        void close() {
            gradients.values().forEach(Tensor::close);
            optimizer.close();
            buffers.close();
            x.close();
            if (shift != null) {
                shift.close();
            }
            topk.close();
        }
    }

    /** The global top-k of a batch: {@code values} before relu and global latent ids, {@code [rows, k]}, -1 empty. */
    record Selection(int rows, int k, float[] values, int[] ids) {
    }

    private final SaeSpec spec;
    private final int k;
    private final List<Shard> shards;
    private final DeviceWorkers workers;
    private final Sae view;
    private Selection lastSelection;

    private LatentShards(SaeSpec spec, List<Shard> shards) {
        this.spec = spec;
        this.k = spec.intSetting("k");
        this.shards = shards;
        this.workers = new DeviceWorkers(shards.size(), "sae4j-latent-shard");
        this.view = new ShardedSae();
    }

    /**
     * Splits the latents of {@code spec} over {@code devices}, contiguous and as equal as possible (the first
     * {@code d_sae mod N} slices one latent wider).
     *
     * @throws IllegalArgumentException for an architecture other than TopK, or more devices than latents
     */
    static LatentShards open(SaeSpec spec, List<Device> devices, TrainerConfig config) {
        if (!TopKArchitecture.NAME.equals(spec.architecture())) {
            throw new IllegalArgumentException("training setting shard_latents=true is impossible with architecture '"
                    + spec.architecture() + "': latent sharding supports topk only; train it on one device or "
                    + "data-parallel (--devices without --shard-latents)");
        }
        int n = devices.size();
        if (spec.dSae() < n) {
            throw new IllegalArgumentException("training setting shard_latents=true is impossible with " + spec.dSae()
                    + " latents on " + n + " devices: every device needs at least one latent; use at most "
                    + spec.dSae() + " devices");
        }
        List<Shard> shards = new ArrayList<>();
        try {
            int first = 0;
            for (int s = 0; s < n; s++) {
                int width = spec.dSae() / n + (s < spec.dSae() % n ? 1 : 0);
                TopKLatentShard topk = TopKLatentShard.create(spec, first, width, devices.get(s));
                try {
                    shards.add(new Shard(devices.get(s), topk, spec, config.batchSize(), s == 0, config));
                } catch (RuntimeException | Error e) {
                    topk.close();
                    throw e;
                }
                first += width;
            }
            return new LatentShards(spec, List.copyOf(shards));
        } catch (RuntimeException | Error e) {
            shards.forEach(Shard::close);
            throw e;
        }
    }

    /** The slice widths, first device first. */
    List<Integer> widths() {
        return shards.stream().map(s -> s.topk.width()).toList();
    }

    @Override
    public Sae sae() {
        return view;
    }

    @Override
    public String description() {
        StringBuilder sb = new StringBuilder("latents split over " + shards.size() + " devices, " + widths()
                + " latents each:");
        for (Shard s : shards) {
            sb.append("\n  ").append(s.device.index()).append(": ").append(s.device.description());
        }
        return sb.toString();
    }

    // ------------------------------------------------------------------ weights

    /** The unsharded SAE's draw (one host array for all rows), each slice taking its rows. */
    @Override
    public void initialize(long seed, float[] dataMean) {
        float[] rows = ParameterInit.randomRows(seed, spec.dSae(), spec.dIn(), 1.0);
        for (Shard s : shards) {
            s.topk.sae().initialize(seed, dataMean);
            int offset = s.topk.first() * spec.dIn();
            s.topk.sae().parameter("W_dec").value().copyFrom(rows, offset);
            s.topk.sae().parameter("W_enc").value().copyFrom(rows, offset);
            s.constraint.renormalize();
        }
    }

    @Override
    public void restore(Path dir, DeadLatentTracker dead) throws IOException {
        try (Safetensors.Reader weights = Safetensors.open(dir.resolve(SaeCheckpoint.WEIGHTS))) {
            for (SaeParameter p : shards.getFirst().topk.sae().parameters()) {
                scatter(p, readHeld(weights, p, p.name()), s -> s.topk.sae().parameter(p.name()).value());
            }
        }
        try (Safetensors.Reader opt = Safetensors.open(dir.resolve(TrainingCheckpoint.OPTIMIZER))) {
            for (SaeParameter p : shards.getFirst().topk.sae().parameters()) {
                if (p.trainable()) {
                    scatter(p, readHeld(opt, p, p.name() + ".exp_avg"), s -> s.optimizer.firstMoments().get(p.name()));
                    scatter(p, readHeld(opt, p, p.name() + ".exp_avg_sq"),
                            s -> s.optimizer.secondMoments().get(p.name()));
                }
            }
            dead.restore(opt.readI64("dead.tokens_since_fired", spec.dSae()));
        }
        copySharedParameters();
    }

    @Override
    public Path writeCheckpoint(Path checkpoints, TrainingCheckpoint.State state, DeadLatentTracker dead)
            throws IOException {
        List<Safetensors.Array> moments = new ArrayList<>();
        for (SaeParameter p : shards.getFirst().topk.sae().parameters()) {
            if (p.trainable()) {
                moments.add(gather(p, p.name() + ".exp_avg", s -> s.optimizer.firstMoments().get(p.name())));
                moments.add(gather(p, p.name() + ".exp_avg_sq", s -> s.optimizer.secondMoments().get(p.name())));
            }
        }
        return TrainingCheckpoint.write(checkpoints, state, spec, gatherParameters(), moments, dead);
    }

    @Override
    public void save(Path directory) throws IOException {
        List<Safetensors.Array> parameters = gatherParameters();
        AtomicFiles.writeDirectory(directory, tmp -> SaeCheckpoint.writeInto(spec, parameters, tmp));
    }

    @Override
    public List<SaeParameter> deviceParameters() {
        List<SaeParameter> all = new ArrayList<>();
        for (int s = 0; s < shards.size(); s++) {
            for (SaeParameter p : shards.get(s).topk.sae().parameters()) {
                if (s == 0 || !p.name().equals(SHARED)) {
                    all.add(p);
                }
            }
        }
        return all;
    }

    private List<Safetensors.Array> gatherParameters() {
        List<Safetensors.Array> arrays = new ArrayList<>();
        for (SaeParameter p : shards.getFirst().topk.sae().parameters()) {
            arrays.add(gather(p, p.name(), s -> s.topk.sae().parameter(p.name()).value()));
        }
        return arrays;
    }

    /**
     * The full tensor of parameter {@code p} in checkpoint layout: the slices' rows one after the other (each slice
     * holds its latents as the first dimension), or the first device's copy of a shared parameter.
     */
    private Safetensors.Array gather(SaeParameter p, String name, java.util.function.Function<Shard, Tensor> tensor) {
        int[] full = fullHeldShape(p);
        float[] values;
        if (p.name().equals(SHARED)) {
            values = tensor.apply(shards.getFirst()).toFloatArray();
        } else {
            values = new float[Math.multiplyExact(full[0], full.length == 2 ? full[1] : 1)];
            for (Shard s : shards) {
                tensor.apply(s).copyTo(values, s.topk.first() * (full.length == 2 ? full[1] : 1));
            }
        }
        if (p.transposed()) {
            values = SaeCheckpoint.transpose(values, full[0], full[1]);
            full = new int[] {full[1], full[0]};
        }
        return Safetensors.Array.f32(name, values, full);
    }

    private float[] readHeld(Safetensors.Reader reader, SaeParameter p, String name) throws IOException {
        int[] held = fullHeldShape(p);
        int[] stored = p.transposed() ? new int[] {held[1], held[0]} : held;
        float[] values = reader.readF32(name, stored);
        return p.transposed() ? SaeCheckpoint.transpose(values, stored[0], stored[1]) : values;
    }

    private void scatter(SaeParameter p, float[] held, java.util.function.Function<Shard, Tensor> tensor) {
        int rowSize = p.value().rank() == 2 ? p.value().cols() : 1;
        for (Shard s : shards) {
            Tensor target = tensor.apply(s);
            // Only the first slice holds the moments of a shared parameter.
            if (target != null) {
                target.copyFrom(held, p.name().equals(SHARED) ? 0 : s.topk.first() * rowSize);
            }
        }
    }

    /** The unsharded SAE's layout of {@code p} (as held on a device): the latents as the first dimension. */
    private int[] fullHeldShape(SaeParameter p) {
        int[] shape = p.value().shape();
        if (!p.name().equals(SHARED)) {
            shape[0] = spec.dSae();
        }
        return shape;
    }

    private void copySharedParameters() {
        float[] host = shards.getFirst().topk.sae().parameter(SHARED).value().toFloatArray();
        for (int s = 1; s < shards.size(); s++) {
            shards.get(s).topk.sae().parameter(SHARED).value().copyFrom(host);
        }
    }

    // ------------------------------------------------------------------ training step

    @Override
    public DataParallelReplicas.Step step(float[] batch, float[] deadMask, int deadCount, AuxKSettings auxK) {
        int rows = shards.getFirst().x.rows();
        int dIn = spec.dIn();
        Shard home = shards.getFirst();
        TensorOps ops = home.ops();

        // 1-2: each slice's candidates, merged on the host into the global top-k.
        float[][] candidateValues = new float[shards.size()][];
        int[][] candidateIds = new int[shards.size()][];
        workers.forEach(i -> {
            Shard s = shards.get(i);
            loadInput(s, batch);
            Tensor values = s.buffers.f32("candidates.values", rows, s.topk.localK());
            Tensor indices = s.buffers.i32("candidates.indices", rows, s.topk.localK());
            s.topk.selectCandidates(s.x, false, values, indices);
            candidateValues[i] = values.toFloatArray();
            candidateIds[i] = indices.toIntArray();
        });
        Selection selection = merge(rows, k, candidateValues, candidateIds, firsts());
        lastSelection = selection;

        // 3: each slice decodes its part; x_hat = sum of the parts + b_dec, on the home device.
        Tensor reconstruction = home.buffers.f32("reconstruction", rows, dIn);
        decodeParts(selection, "main", reconstruction);
        ops.addRowVector(reconstruction, 1f, home.topk.sae().parameter(SHARED).value());

        // The loss, once: FVU against the batch mean, as TopKSae.
        Tensor centered = home.topk.encoderInput(rows);
        double variance = AutoencoderWeights.batchVariance(ops, centered, home.buffers.f32("mean", dIn));
        if (!(variance > 0)) {
            variance = Math.max(ops.sumSquares(centered), 1e-30);
        }
        Tensor residual = home.buffers.f32("residual", rows, dIn);
        ops.copy(home.x, residual);
        ops.axpby(-1f, reconstruction, 1f, residual);
        double sse = ops.sumSquares(residual);
        double fvu = sse / variance;
        Tensor gradReconstruction = home.buffers.f32("gradReconstruction", rows, dIn);
        ops.axpby((float) (-2.0 / variance), residual, 0f, gradReconstruction);

        // 4: the gradients of each slice's rows, from the shared dL/dx_hat.
        float[] gradHost = rows * dIn == 0 ? new float[0] : gradReconstruction.toFloatArray();
        workers.forEach(i -> {
            Shard s = shards.get(i);
            Tensor grad = i == 0 ? gradReconstruction : s.buffers.f32("gradReconstruction", rows, dIn);
            if (i != 0) {
                grad.copyFrom(gradHost);
            }
            s.topk.backward(s.buffers.f32("main.values", rows, k), s.buffers.i32("main.indices", rows, k), grad,
                    s.gradients);
        });

        // 5: AuxK over the global dead set.
        double auxFvu = auxK(rows, deadMask, deadCount, auxK, residual);

        // b_dec: sum_B dL/dx_hat, plus each slice's - W_enc^T dL/db_enc.
        Tensor gDecBias = home.gradients.get(SHARED);
        float[][] parts = new float[shards.size()][];
        workers.forEach(i -> {
            Shard s = shards.get(i);
            Tensor part = s.buffers.f32("decoderBiasPart", dIn);
            s.topk.decoderBiasGradientPart(s.gradients.get("b_enc"), part);
            parts[i] = part.toFloatArray();
        });
        ops.columnSums(gradReconstruction, 1f, 0f, gDecBias);
        Tensor incoming = home.buffers.f32("decoderBiasIncoming", dIn);
        for (float[] part : parts) {
            incoming.copyFrom(part);
            ops.axpby(1f, incoming, 1f, gDecBias);
        }

        // Firing counts, per slice, laid side by side.
        float[] fired = new float[spec.dSae()];
        workers.forEach(i -> {
            Shard s = shards.get(i);
            Tensor counts = s.buffers.f32("fired", s.topk.width());
            s.ops().fill(counts, 0f);
            s.topk.countFired(s.buffers.f32("main.values", rows, k), s.buffers.i32("main.indices", rows, k), counts);
            counts.copyTo(fired, s.topk.first());
        });
        long active = 0;
        for (float v : selection.values()) {
            if (v > 0f) {
                active++;
            }
        }
        double coefficient = auxK == null ? 0 : auxK.coefficient();
        Map<String, Double> terms = new LinkedHashMap<>();
        terms.put("fvu", fvu);
        terms.put("mse", sse / ((double) rows * dIn));
        terms.put("auxk", auxFvu);
        return new DataParallelReplicas.Step(new TrainingStepResult(fvu + coefficient * auxFvu, terms,
                active / (double) rows), fired);
    }

    /**
     * The AuxK loss of {@link AuxKLoss#accumulate}, sharded: the global top-k_aux among the dead latents (the
     * trainer's mask), decoded in parts and summed on the home device; the gradient of e_hat goes back to the slices.
     */
    private double auxK(int rows, float[] deadMask, int deadCount, AuxKSettings settings, Tensor residual) {
        if (settings == null || deadCount == 0 || settings.coefficient() == 0f) {
            return 0;
        }
        int kAux = Math.min(settings.kAux(), Math.min(deadCount, spec.dSae()));
        int dIn = spec.dIn();
        Shard home = shards.getFirst();
        TensorOps ops = home.ops();
        float[][] candidateValues = new float[shards.size()][];
        int[][] candidateIds = new int[shards.size()][];
        workers.forEach(i -> {
            Shard s = shards.get(i);
            int dead = 0;
            for (int c = 0; c < s.topk.width(); c++) {
                dead += deadMask[s.topk.first() + c] != 0f ? 1 : 0;
            }
            int localK = Math.min(kAux, dead);
            if (localK == 0) {
                candidateValues[i] = new float[0];
                candidateIds[i] = new int[0];
                return;
            }
            Tensor mask = s.buffers.f32("deadMask", s.topk.width());
            mask.copyFrom(deadMask, s.topk.first());
            Tensor values = s.buffers.f32("auxk.candidates.values", rows, localK);
            Tensor indices = s.buffers.i32("auxk.candidates.indices", rows, localK);
            s.topk.selectDeadCandidates(mask, localK, values, indices);
            candidateValues[i] = values.toFloatArray();
            candidateIds[i] = indices.toIntArray();
        });
        Selection selection = merge(rows, kAux, candidateValues, candidateIds, firsts());

        double variance = AutoencoderWeights.batchVariance(ops, residual, home.buffers.f32("auxk.mean", dIn));
        if (!(variance > 0)) {
            return 0;
        }
        Tensor errorHat = home.buffers.f32("auxk.errorHat", rows, dIn);
        decodeParts(selection, "auxk", errorHat);
        double auxFvu = ops.sumSquaredDifference(errorHat, residual) / variance;
        AuxKLoss.gradientOfErrorHat(ops, settings, variance, residual, errorHat);
        float[] gradHost = errorHat.toFloatArray();
        workers.forEach(i -> {
            Shard s = shards.get(i);
            Tensor grad = i == 0 ? errorHat : s.buffers.f32("auxk.gradErrorHat", rows, dIn);
            if (i != 0) {
                grad.copyFrom(gradHost);
            }
            s.topk.auxKBackward(s.buffers.f32("auxk.values", rows, kAux), s.buffers.i32("auxk.indices", rows, kAux),
                    grad, s.gradients);
        });
        return auxFvu;
    }

    /** x, normalized into the SAE's units on the slice's device (every slice holds the whole batch). */
    private void loadInput(Shard s, float[] batch) {
        TensorOps ops = s.ops();
        s.x.copyFrom(batch, 0);
        if (s.shift != null) {
            ops.addRowVector(s.x, -1f, s.shift);
        }
        if (spec.inputScale() != 1.0) {
            ops.axpby((float) spec.inputScale(), s.x, 0f, s.x);
        }
    }

    /**
     * Gives every slice its part of {@code selection} (as {@code <name>.values} after relu and {@code <name>.indices}
     * in local ids, -1 for another slice's latents), decodes the parts and sums them in slice order into {@code out}
     * on the home device.
     */
    private void decodeParts(Selection selection, String name, Tensor out) {
        int rows = selection.rows();
        int slots = selection.k();
        int dIn = spec.dIn();
        float[][] parts = new float[shards.size()][];
        workers.forEach(i -> {
            Shard s = shards.get(i);
            float[] values = new float[rows * slots];
            int[] indices = new int[rows * slots];
            int first = s.topk.first();
            int end = first + s.topk.width();
            for (int e = 0; e < values.length; e++) {
                int id = selection.ids()[e];
                boolean mine = id >= first && id < end;
                values[e] = mine ? selection.values()[e] : 0f;
                indices[e] = mine ? id - first : -1;
            }
            Tensor v = s.buffers.f32(name + ".values", rows, slots);
            Tensor ix = s.buffers.i32(name + ".indices", rows, slots);
            v.copyFrom(values);
            ix.copyFrom(indices);
            s.ops().relu(v, 0f, v);
            Tensor part = i == 0 ? out : s.buffers.f32(name + ".part", rows, dIn);
            s.topk.decodePart(v, ix, part);
            if (i != 0) {
                parts[i] = part.toFloatArray();
            }
        });
        TensorOps ops = shards.getFirst().ops();
        Tensor incoming = shards.getFirst().buffers.f32("part.incoming", rows, dIn);
        for (int i = 1; i < shards.size(); i++) {
            incoming.copyFrom(parts[i]);
            ops.axpby(1f, incoming, 1f, out);
        }
    }

    private int[] firsts() {
        return shards.stream().mapToInt(s -> s.topk.first()).toArray();
    }

    /**
     * Merges the slices' candidate lists ({@code [rows, k_s]} each, best first, local ids, -1 empty) into the global
     * top-{@code k} per row with the order of {@link TensorOps#topKRows}: larger value first (as
     * {@link Float#compare}), ties to the lower latent id. Slices are ascending ranges of ids, so among equal values
     * the earlier slice's candidate wins, and within a slice its own order already holds.
     */
    static Selection merge(int rows, int k, float[][] values, int[][] ids, int[] firsts) {
        int n = values.length;
        float[] outValues = new float[rows * k];
        int[] outIds = new int[rows * k];
        int[] next = new int[n];
        int[] width = new int[n];
        for (int s = 0; s < n; s++) {
            width[s] = rows == 0 ? 0 : values[s].length / rows;
        }
        for (int r = 0; r < rows; r++) {
            java.util.Arrays.fill(next, 0);
            for (int slot = 0; slot < k; slot++) {
                int best = -1;
                float bestValue = 0f;
                for (int s = 0; s < n; s++) {
                    if (next[s] >= width[s] || ids[s][r * width[s] + next[s]] < 0) {
                        continue;
                    }
                    float v = values[s][r * width[s] + next[s]];
                    if (best < 0 || Float.compare(v, bestValue) > 0) {
                        best = s;
                        bestValue = v;
                    }
                }
                int out = r * k + slot;
                if (best < 0) {
                    outValues[out] = 0f;
                    outIds[out] = -1;
                } else {
                    outValues[out] = bestValue;
                    outIds[out] = firsts[best] + ids[best][r * width[best] + next[best]];
                    next[best]++;
                }
            }
        }
        return new Selection(rows, k, outValues, outIds);
    }

    // ------------------------------------------------------------------ optimizer

    @Override
    public void update(double learningRate, long step) {
        workers.forEach(i -> {
            Shard s = shards.get(i);
            s.constraint.projectGradient(s.gradients);
            s.optimizer.step(s.gradients, learningRate, step);
            s.constraint.renormalize();
        });
        copySharedParameters();
    }

    /** The gradients of slice {@code s} after {@link #step} (for tests). */
    Map<String, Tensor> gradients(int s) {
        return shards.get(s).gradients;
    }

    /** The last step's global top-k (for tests). */
    Selection lastSelection() {
        return lastSelection;
    }

    @Override
    public void close() {
        workers.close();
        shards.forEach(Shard::close);
    }

    /**
     * The sharded SAE as validation sees it: {@link #encode} merges the slices' candidates into global codes on the
     * home device, {@link #decode} sums the slices' parts. Its parameters live on the slices, so it has no
     * {@link #parameters()} of its own and does not train through {@link #trainingStep} (the layout does).
     */
    private final class ShardedSae implements Sae {

        @Override
        public SaeSpec spec() {
            return spec;
        }

        @Override
        public Device device() {
            return shards.getFirst().device;
        }

        @Override
        public List<SaeParameter> parameters() {
            throw new UnsupportedOperationException("a latent-sharded SAE holds its parameters on " + shards.size()
                    + " devices; its checkpoint gathers them");
        }

        @Override
        public void initialize(long seed, float[] dataMean) {
            LatentShards.this.initialize(seed, dataMean);
        }

        @Override
        public LatentCodes encode(Tensor x) {
            int rows = x.rows();
            float[] host = x.toFloatArray();
            float[][] candidateValues = new float[shards.size()][];
            int[][] candidateIds = new int[shards.size()][];
            workers.forEach(i -> {
                Shard s = shards.get(i);
                Tensor input = i == 0 ? x : s.buffers.f32("encode.x", rows, spec.dIn());
                if (i != 0) {
                    input.copyFrom(host);
                }
                Tensor values = s.buffers.f32("encode.values", rows, s.topk.localK());
                Tensor indices = s.buffers.i32("encode.indices", rows, s.topk.localK());
                s.topk.selectCandidates(input, true, values, indices);
                candidateValues[i] = values.toFloatArray();
                candidateIds[i] = indices.toIntArray();
            });
            Selection selection = merge(rows, k, candidateValues, candidateIds, firsts());
            Device home = device();
            Tensor values = home.allocate(DType.F32, rows, k);
            Tensor indices = home.allocate(DType.I32, rows, k);
            values.copyFrom(selection.values());
            indices.copyFrom(selection.ids());
            home.ops().relu(values, 0f, values);
            return new LatentCodes.Sparse(values, indices);
        }

        @Override
        public void decode(LatentCodes codes, Tensor out) {
            if (!(codes instanceof LatentCodes.Sparse sparse)) {
                throw new IllegalArgumentException("a latent-sharded TopK SAE decodes sparse codes");
            }
            Selection selection = new Selection(sparse.rows(), sparse.values().cols(), sparse.values().toFloatArray(),
                    sparse.indices().toIntArray());
            decodeParts(selection, "decode", out);
            device().ops().addRowVector(out, 1f, shards.getFirst().topk.sae().parameter(SHARED).value());
        }

        @Override
        public boolean supportsAuxK() {
            return true;
        }

        @Override
        public TrainingStepResult trainingStep(Tensor x, TrainingContext context, Map<String, Tensor> gradients) {
            throw new UnsupportedOperationException("a latent-sharded SAE trains through LatentShards.step");
        }

        /** The layout owns the slices and closes them. */
        @Override
        public void close() {
        }
    }
}
