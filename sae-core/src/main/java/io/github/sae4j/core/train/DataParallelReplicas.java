package io.github.sae4j.core.train;

import io.github.sae4j.api.backend.DType;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.backend.TensorOps;
import io.github.sae4j.api.sae.AuxKSettings;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeArchitecture;
import io.github.sae4j.api.sae.SaeParameter;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.api.sae.TrainingContext;
import io.github.sae4j.api.sae.TrainingStepResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The SAE replicas of a training run, one per device; the first is the master, whose weights the optimizer
 * updates, checkpoints save and validation reads. A step gives every replica a contiguous slice of the batch and
 * runs the architecture's forward and backward on all of them at once; then, on the master's device and in replica
 * order (so the result does not depend on thread timing), the master's gradients become the mean of the replicas'
 * gradients weighted by their rows, the firing counts are summed and the losses averaged by rows. After the
 * optimizer step {@link #copyWeights()} copies the master's parameters to the other replicas.
 *
 * <p>Gradients and weights cross devices through host arrays ({@link Tensor#copyTo}/{@link Tensor#copyFrom}), the
 * one transfer every backend has, so a backend with real devices runs the same code. With one device there is
 * nothing to combine or copy: a step is exactly the single-device step.
 */
public final class DataParallelReplicas implements AutoCloseable {

    /** One device's share: its SAE, gradients and inputs. */
    private static final class Replica {
        final Device device;
        final Sae sae;
        final Map<String, Tensor> gradients = new LinkedHashMap<>();
        final int firstRow;
        final int rows;
        final Tensor x;
        final Tensor shift;
        final Tensor deadMask;
        final Tensor firedCounts;

        Replica(Device device, Sae sae, SaeSpec spec, int firstRow, int rows) {
            this.device = device;
            this.sae = sae;
            this.firstRow = firstRow;
            this.rows = rows;
            for (SaeParameter p : sae.parameters()) {
                if (p.trainable()) {
                    gradients.put(p.name(), device.allocate(DType.F32, p.value().shape()));
                }
            }
            deadMask = device.allocate(DType.F32, spec.dSae());
            firedCounts = device.allocate(DType.F32, spec.dSae());
            x = device.allocate(DType.F32, rows, spec.dIn());
            shift = spec.inputShift() == null ? null : device.upload(spec.inputShift(), spec.dIn());
        }

        void close() {
            gradients.values().forEach(Tensor::close);
            deadMask.close();
            firedCounts.close();
            x.close();
            if (shift != null) {
                shift.close();
            }
            sae.close();
        }
    }

    /** What one data-parallel step computed: the combined result and the firing counts summed over the batch. */
    public record Step(TrainingStepResult result, float[] firedCounts) {
    }

    private final SaeSpec spec;
    private final List<Replica> replicas;
    private final int batchRows;
    private final DeviceWorkers workers;
    private final Map<String, Tensor> staging = new LinkedHashMap<>();
    private final float[] host;

    private DataParallelReplicas(SaeSpec spec, List<Replica> replicas, int batchRows) {
        this.spec = spec;
        this.replicas = replicas;
        this.batchRows = batchRows;
        // The master's replica runs on the caller's thread, each other one on a thread of its own.
        this.workers = new DeviceWorkers(replicas.size(), "sae4j-replica");
        if (replicas.size() == 1) {
            host = null;
            return;
        }
        Replica master = replicas.getFirst();
        long largest = 0;
        for (SaeParameter p : master.sae.parameters()) {
            largest = Math.max(largest, p.value().size());
        }
        host = new float[Math.toIntExact(largest)];
        master.gradients.forEach((name, g) -> staging.put(name, master.device.allocate(DType.F32, g.shape())));
    }

    /**
     * One replica of {@code spec} on each device, master first, with {@code batchRows} split into contiguous slices
     * as equal as possible (the first {@code batchRows % devices} slices one row longer).
     */
    public static DataParallelReplicas open(SaeArchitecture architecture, SaeSpec spec, List<Device> devices, int batchRows) {
        if (batchRows < devices.size()) {
            throw new IllegalArgumentException("a batch of " + batchRows + " rows cannot feed " + devices.size()
                    + " devices; raise the batch size to at least " + devices.size());
        }
        List<Replica> replicas = new ArrayList<>();
        try {
            int first = 0;
            for (int r = 0; r < devices.size(); r++) {
                int rows = batchRows / devices.size() + (r < batchRows % devices.size() ? 1 : 0);
                Device device = devices.get(r);
                replicas.add(new Replica(device, architecture.create(spec, device), spec, first, rows));
                first += rows;
            }
            return new DataParallelReplicas(spec, List.copyOf(replicas), batchRows);
        } catch (RuntimeException | Error e) {
            replicas.forEach(Replica::close);
            throw e;
        }
    }

    /** The SAE whose weights are trained, saved and validated. */
    public Sae master() {
        return replicas.getFirst().sae;
    }

    /** The master's gradient tensors by parameter name: after {@link #step}, the combined gradients. */
    public Map<String, Tensor> masterGradients() {
        return replicas.getFirst().gradients;
    }

    public int size() {
        return replicas.size();
    }

    /** The rows of each replica's slice, master first. */
    public List<Integer> sliceRows() {
        return replicas.stream().map(r -> r.rows).toList();
    }

    /**
     * Forward and backward on every replica's slice of {@code batch} ({@code batchRows} raw rows of d_in floats),
     * normalized into the SAE's units; the master's gradients end up holding the row-weighted mean.
     *
     * @param deadMask  the trainer's dead-latent mask, the same for every replica (AuxK uses the global one)
     */
    public Step step(float[] batch, float[] deadMask, int deadCount, AuxKSettings auxK) {
        TrainingStepResult[] results = new TrainingStepResult[replicas.size()];
        forEachReplica(r -> {
            Replica replica = replicas.get(r);
            TensorOps ops = replica.device.ops();
            replica.x.copyFrom(batch, replica.firstRow * spec.dIn());
            if (replica.shift != null) {
                ops.addRowVector(replica.x, -1f, replica.shift);
            }
            if (spec.inputScale() != 1.0) {
                ops.axpby((float) spec.inputScale(), replica.x, 0f, replica.x);
            }
            ops.fill(replica.firedCounts, 0f);
            replica.deadMask.copyFrom(deadMask);
            TrainingContext context = TrainingContext.of(replica.deadMask, deadCount, auxK, replica.firedCounts);
            results[r] = replica.sae.trainingStep(replica.x, context, replica.gradients);
        });
        float[] fired = replicas.getFirst().firedCounts.toFloatArray();
        if (replicas.size() == 1) {
            return new Step(results[0], fired);
        }
        for (int r = 1; r < replicas.size(); r++) {
            float[] more = replicas.get(r).firedCounts.toFloatArray();
            for (int i = 0; i < fired.length; i++) {
                fired[i] += more[i];
            }
        }
        combineGradients();
        return new Step(combine(results), fired);
    }

    /** Copies the master's parameters (trained or not) to every other replica. */
    public void copyWeights() {
        List<SaeParameter> source = master().parameters();
        for (int r = 1; r < replicas.size(); r++) {
            List<SaeParameter> target = replicas.get(r).sae.parameters();
            for (int i = 0; i < source.size(); i++) {
                source.get(i).value().copyTo(host, 0);
                target.get(i).value().copyFrom(host, 0);
            }
        }
    }

    private double weight(int replica) {
        return replicas.get(replica).rows / (double) batchRows;
    }

    /**
     * master = sum_r (rows_r / B) g_r, accumulated in replica order on the master's device; the master's own weight
     * is applied in the same pass as the second replica's gradient.
     */
    private void combineGradients() {
        Replica master = replicas.getFirst();
        TensorOps ops = master.device.ops();
        for (Map.Entry<String, Tensor> e : master.gradients.entrySet()) {
            Tensor sum = e.getValue();
            Tensor incoming = staging.get(e.getKey());
            for (int r = 1; r < replicas.size(); r++) {
                replicas.get(r).gradients.get(e.getKey()).copyTo(host, 0);
                incoming.copyFrom(host, 0);
                ops.axpby((float) weight(r), incoming, r == 1 ? (float) weight(0) : 1f, sum);
            }
        }
    }

    /** Loss, terms and L0 averaged over the replicas by rows: each is a per-slice figure of the same kind. */
    private TrainingStepResult combine(TrainingStepResult[] results) {
        double loss = 0;
        double l0 = 0;
        Map<String, Double> terms = new LinkedHashMap<>();
        for (int r = 0; r < results.length; r++) {
            double w = weight(r);
            loss += w * results[r].loss();
            l0 += w * results[r].l0();
            for (Map.Entry<String, Double> t : results[r].terms().entrySet()) {
                terms.merge(t.getKey(), w * t.getValue(), Double::sum);
            }
        }
        return new TrainingStepResult(loss, terms, l0);
    }

    /** Runs {@code task} for every replica, the master's on this thread, and rethrows the first failure. */
    private void forEachReplica(java.util.function.IntConsumer task) {
        workers.forEach(task);
    }

    @Override
    public void close() {
        workers.close();
        staging.values().forEach(Tensor::close);
        replicas.forEach(Replica::close);
    }
}
