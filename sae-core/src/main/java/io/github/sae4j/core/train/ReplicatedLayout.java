package io.github.sae4j.core.train;

import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.sae.AuxKSettings;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeArchitecture;
import io.github.sae4j.api.sae.SaeParameter;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.core.checkpoint.SaeCheckpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The whole SAE on each device: one device, or data-parallel replicas ({@link DataParallelReplicas}) whose master
 * holds the optimizer and the decoder rule.
 */
final class ReplicatedLayout implements DeviceLayout {

    private final DataParallelReplicas replicas;
    private final AdamW optimizer;
    private final UnitNormDecoderConstraint constraint;
    private final List<Device> devices;

    ReplicatedLayout(SaeArchitecture architecture, SaeSpec spec, List<Device> devices, TrainerConfig config) {
        this.devices = devices;
        this.replicas = DataParallelReplicas.open(architecture, spec, devices, config.batchSize());
        try {
            this.optimizer = new AdamW(devices.getFirst(), replicas.master().parameters(), config.beta1(),
                    config.beta2(), config.eps(), config.weightDecay());
        } catch (RuntimeException | Error e) {
            replicas.close();
            throw e;
        }
        this.constraint = UnitNormDecoderConstraint.of(replicas.master());
    }

    @Override
    public Sae sae() {
        return replicas.master();
    }

    @Override
    public void initialize(long seed, float[] dataMean) {
        replicas.master().initialize(seed, dataMean);
        constraint.renormalize();
        replicas.copyWeights();
    }

    @Override
    public void restore(Path dir, DeadLatentTracker dead) throws IOException {
        TrainingCheckpoint.restore(dir, replicas.master(), optimizer, dead);
        replicas.copyWeights();
    }

    @Override
    public DataParallelReplicas.Step step(float[] batch, float[] deadMask, int deadCount, AuxKSettings auxK) {
        return replicas.step(batch, deadMask, deadCount, auxK);
    }

    @Override
    public void update(double learningRate, long step) {
        constraint.projectGradient(replicas.masterGradients());
        optimizer.step(replicas.masterGradients(), learningRate, step);
        constraint.renormalize();
        replicas.copyWeights();
    }

    @Override
    public List<SaeParameter> deviceParameters() {
        return replicas.master().parameters();
    }

    @Override
    public Path writeCheckpoint(Path checkpoints, TrainingCheckpoint.State state, DeadLatentTracker dead)
            throws IOException {
        return TrainingCheckpoint.write(checkpoints, state, replicas.master(), optimizer, dead);
    }

    @Override
    public void save(Path directory) throws IOException {
        SaeCheckpoint.save(replicas.master(), directory);
    }

    @Override
    public String description() {
        if (replicas.size() == 1) {
            return null;
        }
        StringBuilder sb = new StringBuilder("data-parallel over " + replicas.size() + " devices, "
                + replicas.sliceRows() + " rows of each batch:");
        for (Device d : devices) {
            sb.append("\n  ").append(d.index()).append(": ").append(d.description());
        }
        return sb.toString();
    }

    @Override
    public void close() {
        optimizer.close();
        replicas.close();
    }
}
