package io.github.sae4j.core.residual;

import io.github.sae4j.api.activation.ActivationBatch;
import io.github.sae4j.api.activation.ActivationReadOptions;
import io.github.sae4j.api.activation.ActivationSource;
import io.github.sae4j.api.activation.ActivationSourceInfo;
import io.github.sae4j.api.activation.ActivationStream;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.sae.LatentCodes;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.checkpoint.SaeCheckpoint;
import io.github.sae4j.core.sae.TensorCache;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The residuals {@code x - x_hat} of a frozen SAE over another source: each batch's rows are replaced by what the
 * SAE fails to reconstruct (in raw units), with provenance unchanged. Cursors are the inner source's, and the
 * frozen SAE is deterministic, so a run on the residuals resumes exactly. A second SAE trained here is stage 2 of
 * a {@code stack}.
 */
public final class ResidualActivationSource implements ActivationSource {

    /** The metadata key naming the frozen SAE, in {@link #info()} and in the cfg.json of an SAE trained here. */
    public static final String RESIDUAL_OF = "residual_of";

    private final ActivationSource inner;
    private final Sae frozen;
    private final boolean ownsFrozen;
    private final String residualOf;
    private final ActivationSourceInfo info;

    /**
     * Residuals of {@code frozen} over {@code inner}; takes ownership of {@code inner}, not of {@code frozen}.
     *
     * @param residualOf where the frozen SAE lives, recorded as {@value #RESIDUAL_OF}
     * @throws IllegalArgumentException if the SAE reads rows of another width than the source holds
     */
    public ResidualActivationSource(ActivationSource inner, Sae frozen, String residualOf) {
        this(inner, frozen, false, residualOf);
    }

    private ResidualActivationSource(ActivationSource inner, Sae frozen, boolean ownsFrozen, String residualOf) {
        ActivationSourceInfo in = inner.info();
        if (in.dModel() != frozen.spec().dIn()) {
            throw new IllegalArgumentException("the SAE in " + residualOf + " reads d_in=" + frozen.spec().dIn()
                    + " activations but the data holds rows of d_model=" + in.dModel() + " (" + in.hookPoint()
                    + "); train on residuals of an SAE trained on the same hook point");
        }
        this.inner = inner;
        this.frozen = frozen;
        this.ownsFrozen = ownsFrozen;
        this.residualOf = residualOf;
        Map<String, String> metadata = new LinkedHashMap<>(in.metadata());
        metadata.put(RESIDUAL_OF, residualOf);
        // Statistics of the residuals are not known in advance; the trainer estimates them.
        this.info = new ActivationSourceInfo(in.dModel(), in.tokens(), in.model(), in.hookPoint(), null, metadata);
    }

    /**
     * Residuals over {@code inner} of the SAE in {@code saeDirectory}, loaded onto {@code device}. Owns both: closing
     * this closes {@code inner} and the SAE, and so does a failure here.
     */
    public static ResidualActivationSource open(ActivationSource inner, Path saeDirectory, Device device)
            throws IOException {
        Sae sae;
        try {
            sae = SaeCheckpoint.load(saeDirectory, device, Plugins.architectures());
        } catch (IOException | RuntimeException e) {
            inner.close();
            throw e;
        }
        try {
            return new ResidualActivationSource(inner, sae, true, saeDirectory.toString());
        } catch (RuntimeException e) {
            sae.close();
            inner.close();
            throw e;
        }
    }

    /** Where the frozen SAE lives. */
    public String residualOf() {
        return residualOf;
    }

    @Override
    public ActivationSourceInfo info() {
        return info;
    }

    @Override
    public ActivationStream open(ActivationReadOptions options) throws IOException {
        return new ResidualStream(inner.open(options));
    }

    @Override
    public void close() throws IOException {
        try {
            inner.close();
        } finally {
            if (ownsFrozen) {
                frozen.close();
            }
        }
    }

    private final class ResidualStream implements ActivationStream {
        private final ActivationStream rows;
        private final RawUnitsSae sae = new RawUnitsSae(frozen);
        private final TensorCache scratch = new TensorCache(frozen.device());
        private float[] reconstruction = new float[0];

        ResidualStream(ActivationStream rows) {
            this.rows = rows;
        }

        @Override
        public boolean next(ActivationBatch batch) throws IOException {
            if (!rows.next(batch)) {
                return false;
            }
            int n = batch.rows();
            int dIn = batch.dModel();
            if (n == 0) {
                return true;
            }
            float[] values = batch.values();
            if (reconstruction.length < n * dIn) {
                reconstruction = new float[n * dIn];
            }
            // Streams may run on several threads; the frozen SAE's workspace is shared.
            synchronized (frozen) {
                Tensor x = scratch.f32("x", n, dIn);
                Tensor xHat = scratch.f32("xHat", n, dIn);
                x.copyFrom(values, 0);
                try (LatentCodes codes = sae.encode(x)) {
                    sae.decode(codes, xHat);
                }
                xHat.copyTo(reconstruction, 0);
            }
            for (int i = 0; i < n * dIn; i++) {
                values[i] -= reconstruction[i];
            }
            return true;
        }

        @Override
        public String cursor() {
            return rows.cursor();
        }

        @Override
        public void close() throws IOException {
            try {
                rows.close();
            } finally {
                synchronized (frozen) {
                    scratch.close();
                    sae.close();
                }
            }
        }
    }
}
