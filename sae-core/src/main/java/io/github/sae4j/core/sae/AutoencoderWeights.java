package io.github.sae4j.core.sae;

import io.github.sae4j.api.backend.DType;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.backend.TensorOps;
import io.github.sae4j.api.sae.LatentCodes;
import io.github.sae4j.api.sae.SaeParameter;
import io.github.sae4j.api.sae.SaeSpec;
import java.util.Arrays;
import java.util.List;

/**
 * The weights every linear-encoder SAE shares, and the steps they share: encoder rows {@code W_enc} (held as
 * {@code [d_sae, d_in]}, saved as {@code [d_in, d_sae]}), decoder {@code W_dec [d_sae, d_in]}, biases {@code b_enc}
 * and {@code b_dec} (also subtracted from the input), and the steering bias on the latents. Architectures differ in
 * the rule between pre-activations and codes; this class holds the rest in one place.
 */
public final class AutoencoderWeights implements AutoCloseable {

    private final SaeSpec spec;
    private final TensorOps ops;
    private final Tensor encoderRows;
    private final Tensor decoder;
    private final Tensor encoderBias;
    private final Tensor decoderBias;
    private final Tensor latentBias;
    private final List<SaeParameter> parameters;

    public AutoencoderWeights(SaeSpec spec, Device device) {
        this.spec = spec;
        this.ops = device.ops();
        int dIn = spec.dIn();
        int dSae = spec.dSae();
        encoderRows = device.allocate(DType.F32, dSae, dIn);
        decoder = device.allocate(DType.F32, dSae, dIn);
        encoderBias = device.allocate(DType.F32, dSae);
        decoderBias = device.allocate(DType.F32, dIn);
        latentBias = device.allocate(DType.F32, dSae);
        parameters = List.of(
                new SaeParameter("W_enc", encoderRows, true),
                new SaeParameter("W_dec", decoder, false),
                new SaeParameter("b_enc", encoderBias, false),
                new SaeParameter("b_dec", decoderBias, false));
    }

    /** W_enc, W_dec, b_enc, b_dec, in checkpoint order. */
    public List<SaeParameter> parameters() {
        return parameters;
    }

    public Tensor encoderRows() {
        return encoderRows;
    }

    public Tensor decoder() {
        return decoder;
    }

    public Tensor decoderBias() {
        return decoderBias;
    }

    /** The steering bias added to the pre-activations; zero unless a user raises latents. */
    public Tensor latentBias() {
        return latentBias;
    }

    /**
     * Decoder rows in random directions with norm {@code decoderNorm}, drawn from {@code seed}; the encoder starts as
     * the decoder's transpose; {@code b_enc = 0}; {@code b_dec} = the data mean (scaled units) or 0.
     */
    public void initialize(long seed, float[] dataMean, double decoderNorm) {
        float[] rows = ParameterInit.randomRows(seed, spec.dSae(), spec.dIn(), decoderNorm);
        decoder.copyFrom(rows);
        encoderRows.copyFrom(rows);
        ops.fill(encoderBias, 0f);
        ops.fill(latentBias, 0f);
        if (dataMean == null) {
            ops.fill(decoderBias, 0f);
        } else if (dataMean.length != spec.dIn()) {
            throw new IllegalArgumentException("data mean has " + dataMean.length + " dimensions, the SAE reads "
                    + spec.dIn());
        } else {
            decoderBias.copyFrom(dataMean);
        }
    }

    /** The number of rows of {@code x}, after checking it has d_in columns. */
    public int checkInput(Tensor x) {
        if (x.rank() != 2 || x.cols() != spec.dIn()) {
            throw new IllegalArgumentException("the " + spec.architecture() + " SAE reads rows of " + spec.dIn()
                    + " activations, got a tensor of shape " + Arrays.toString(x.shape()));
        }
        return x.rows();
    }

    /** {@code centered = x - b_dec}, then {@code pre = centered W_enc^T + b_enc} (+ the latent bias when asked). */
    public void preActivations(Tensor x, Tensor centered, Tensor pre, boolean withLatentBias) {
        ops.copy(x, centered);
        ops.addRowVector(centered, -1f, decoderBias);
        ops.gemm(false, true, 1f, centered, encoderRows, 0f, pre);
        ops.addRowVector(pre, 1f, encoderBias);
        if (withLatentBias) {
            ops.addRowVector(pre, 1f, latentBias);
        }
    }

    /**
     * {@code raised = pre} with {@code strength} added to column {@code latent} of every row, through {@code step}
     * (scratch, [d_sae]): the pre-activations {@link #preActivations} gives with the latent bias raised by
     * {@code strength} there, bit for bit while that bias is zero there (as it is unless a caller set it), without a
     * second encoder product.
     */
    public void raisePreActivations(Tensor pre, int latent, float strength, Tensor step, Tensor raised) {
        float[] oneLatent = new float[spec.dSae()];
        oneLatent[latent] = strength;
        step.copyFrom(oneLatent);
        ops.copy(pre, raised);
        ops.addRowVector(raised, 1f, step);
    }

    /** {@code out = codes W_dec + b_dec}, sparse or dense. */
    public void decode(LatentCodes codes, Tensor out) {
        switch (codes) {
            case LatentCodes.Sparse sparse -> ops.sparseDecode(sparse.values(), sparse.indices(), decoder, decoderBias, out);
            case LatentCodes.Dense dense -> {
                ops.gemm(false, false, 1f, dense.activations(), decoder, 0f, out);
                ops.addRowVector(out, 1f, decoderBias);
            }
        }
    }

    /**
     * The gradient of b_dec, which enters twice: added to x_hat ({@code sum_B dL/dx_hat}), and subtracted from the
     * encoder input, through every latent ({@code - W_enc^T dL/db_enc}). Call it once the encoder-bias gradient is
     * complete (AuxK included).
     */
    public void decoderBiasGradient(Tensor gradReconstruction, Tensor gradEncoderBias, Tensor gradDecoderBias) {
        ops.columnSums(gradReconstruction, 1f, 0f, gradDecoderBias);
        ops.gemm(false, false, -1f, gradEncoderBias.view(1, spec.dSae()), encoderRows, 1f,
                gradDecoderBias.view(1, spec.dIn()));
    }

    /**
     * The batch's total variance {@code sum ||x - mean_B(x)||^2}, from the centered input (x - b_dec is nearly
     * centred, which keeps the sum accurate); {@code mean} is scratch of size d_in.
     */
    public double batchVariance(Tensor centered, Tensor mean) {
        return batchVariance(ops, centered, mean);
    }

    /** {@code sum ||m_r - mean(m)||^2} over the rows of {@code m}; {@code mean} is scratch of size cols. */
    public static double batchVariance(TensorOps ops, Tensor centered, Tensor mean) {
        int rows = centered.rows();
        ops.columnSums(centered, 1f / rows, 0f, mean);
        return ops.sumSquares(centered) - rows * ops.sumSquares(mean);
    }

    @Override
    public void close() {
        encoderRows.close();
        decoder.close();
        encoderBias.close();
        decoderBias.close();
        latentBias.close();
    }
}
