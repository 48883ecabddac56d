package io.github.sae4j.core.train;

import io.github.sae4j.api.sae.AuxKSettings;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeParameter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * How a run places its SAE, gradients and optimizer state on its devices: whole on one device or replicated
 * data-parallel ({@link ReplicatedLayout}), or with its latents split over the devices ({@link LatentShards}). The
 * trainer's loop is the same for both.
 */
interface DeviceLayout extends AutoCloseable {

    /** The SAE as validation encodes and decodes with it. */
    Sae sae();

    /** Sets the initial weights (the same draw from {@code seed} on any layout), decoder rows at unit norm. */
    void initialize(long seed, float[] dataMean);

    /** Restores weights, AdamW moments and dead-latent counters from checkpoint {@code dir}. */
    void restore(Path dir, DeadLatentTracker dead) throws IOException;

    /** Forward and backward on a batch of raw rows; the gradients stay in the layout for {@link #update}. */
    DataParallelReplicas.Step step(float[] batch, float[] deadMask, int deadCount, AuxKSettings auxK);

    /** The decoder rule's projection, one AdamW step, the renormalization, then the copies between devices. */
    void update(double learningRate, long step);

    /** Every parameter tensor on every device (a replicated parameter once), for the finite check. */
    List<SaeParameter> deviceParameters();

    /** Writes a resumable checkpoint in the normal format, whatever the layout. */
    Path writeCheckpoint(Path checkpoints, TrainingCheckpoint.State state, DeadLatentTracker dead) throws IOException;

    /** Saves the full SAE ({@code sae.safetensors} + {@code cfg.json}) into {@code directory}, atomically. */
    void save(Path directory) throws IOException;

    /** A line or more for the start of a run, or null on one device. */
    String description();

    @Override
    void close();
}
