package io.github.sae4j.core.eval;

import io.github.sae4j.api.activation.ActivationBatch;
import io.github.sae4j.api.activation.ActivationReadOptions;
import io.github.sae4j.api.activation.ActivationSource;
import io.github.sae4j.api.activation.ActivationSplit;
import io.github.sae4j.api.activation.ActivationStream;
import io.github.sae4j.api.backend.DType;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeParameter;
import io.github.sae4j.api.sae.TrainingContext;
import io.github.sae4j.api.sae.TrainingStepResult;
import io.github.sae4j.core.metrics.ReconstructionMetrics;
import io.github.sae4j.core.train.AdamW;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Undoing shrinkage: fine-tunes an SAE's decoder ({@code W_dec}, {@code b_dec}) with the encoder frozen, so which
 * latents fire, and so L0, stay exactly as they were, while the decoder learns to scale each latent's contribution
 * back up. The decoder rows are left free of the unit-norm constraint for that: a row's norm becomes that latent's
 * scale. AuxK is off (it exists to revive latents through the encoder).
 */
public final class DecoderFinetune {

    /** Reconstruction on the validation split before and after, and how much was trained. */
    public record Outcome(ReconstructionMetrics.Result before, ReconstructionMetrics.Result after, long steps,
                          long tokens) {
    }

    private static final List<String> DECODER = List.of("W_dec", "b_dec");

    private DecoderFinetune() {
    }

    /**
     * Trains {@code sae}'s decoder in place on the training split of {@code source} (validation held out with
     * {@code validationFraction}, evaluated on at most {@code validationTokens} rows before and after).
     */
    public static Outcome run(Sae sae, ActivationSource source, int batchSize, long steps, double learningRate,
                              long seed, double validationFraction, long validationTokens) throws IOException {
        Device device = sae.device();
        int dIn = sae.spec().dIn();
        if (source.info().dModel() != dIn) {
            throw new IllegalArgumentException("the SAE reads d_in=" + dIn + " but the activations have d_model="
                    + source.info().dModel() + "; fine-tune it on the activations it was trained on");
        }
        List<SaeParameter> decoder = new ArrayList<>();
        for (String name : DECODER) {
            decoder.add(sae.parameter(name));
        }
        ActivationReadOptions validation = new ActivationReadOptions(ActivationSplit.VALIDATION, validationFraction,
                false, 0, 1 << 16, false, null);
        float[] mean = source.info().statistics() != null ? source.info().statistics().meanAsFloats() : null;
        ReconstructionMetrics.Result before = evaluate(sae, source, validation, batchSize, mean, validationTokens);

        Map<String, Tensor> gradients = new LinkedHashMap<>();
        float[] shiftHost = sae.spec().inputShift();
        try (AdamW optimizer = new AdamW(device, decoder, 0.9, 0.999, 1e-8, 0);
             Tensor deadMask = device.allocate(DType.F32, sae.spec().dSae());
             Tensor fired = device.allocate(DType.F32, sae.spec().dSae());
             Tensor x = device.allocate(DType.F32, batchSize, dIn);
             Tensor shift = shiftHost == null ? null : device.upload(shiftHost, dIn);
             ActivationStream stream = source.open(new ActivationReadOptions(ActivationSplit.TRAIN, validationFraction,
                     true, seed, Math.max(batchSize * 16, 1 << 16), true, null))) {
            for (SaeParameter p : sae.parameters()) {
                gradients.put(p.name(), device.allocate(DType.F32, p.value().shape()));
            }
            device.ops().fill(deadMask, 0f);
            ActivationBatch batch = new ActivationBatch(batchSize, dIn);
            long tokens = 0;
            for (long step = 1; step <= steps; step++) {
                int filled = 0;
                float[] rows = new float[batchSize * dIn];
                while (filled < batchSize) {
                    if (!stream.next(batch)) {
                        throw new IllegalStateException("the training split ran out of rows");
                    }
                    int take = Math.min(batch.rows(), batchSize - filled);
                    System.arraycopy(batch.values(), 0, rows, filled * dIn, take * dIn);
                    filled += take;
                }
                x.copyFrom(rows, 0);
                if (shift != null) {
                    device.ops().addRowVector(x, -1f, shift);
                }
                if (sae.spec().inputScale() != 1.0) {
                    device.ops().axpby((float) sae.spec().inputScale(), x, 0f, x);
                }
                device.ops().fill(fired, 0f);
                TrainingStepResult result = sae.trainingStep(x, TrainingContext.of(deadMask, 0, null, fired), gradients);
                if (!Double.isFinite(result.loss())) {
                    throw new IllegalStateException("the loss became " + result.loss() + " at step " + step
                            + "; lower the learning rate (now " + learningRate + ")");
                }
                Map<String, Tensor> decoderGradients = new LinkedHashMap<>();
                for (String name : DECODER) {
                    decoderGradients.put(name, gradients.get(name));
                }
                optimizer.step(decoderGradients, learningRate, step);
                tokens += batchSize;
            }
            ReconstructionMetrics.Result after = evaluate(sae, source, validation, batchSize, mean, validationTokens);
            return new Outcome(before, after, steps, tokens);
        } finally {
            gradients.values().forEach(Tensor::close);
        }
    }

    private static ReconstructionMetrics.Result evaluate(Sae sae, ActivationSource source, ActivationReadOptions o,
                                                         int batchSize, float[] mean, long maxRows) throws IOException {
        try (ActivationStream s = source.open(o)) {
            ReconstructionMetrics.Result r = ReconstructionEvaluator.evaluate(sae, s::next, batchSize, mean, maxRows);
            if (r.tokens() == 0) {
                throw new IllegalArgumentException("the validation split holds no rows; raise the validation fraction");
            }
            return r;
        }
    }
}
