package io.github.sae4j.core.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.sae4j.api.backend.DType;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.sae.LatentCodes;
import io.github.sae4j.core.backend.java.JavaBackend;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every reconstruction metric on cases whose answer is known in closed form. */
class ReconstructionMetricsTest {

    private static JavaBackend backend;
    private static Device device;
    private static final int ROWS = 50;
    private static final int D = 7;
    private static final int LATENTS = 5;

    @BeforeAll
    static void open() {
        backend = new JavaBackend(1);
        device = backend.device();
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    private static float[] data() {
        SplittableRandom r = new SplittableRandom(3);
        float[] x = new float[ROWS * D];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (r.nextGaussian() + 5);
        }
        return x;
    }

    /** Dense codes with {@code active} positive latents in every row (latent i only if i < active). */
    private static LatentCodes.Dense codes(int active) {
        float[] f = new float[ROWS * LATENTS];
        for (int r = 0; r < ROWS; r++) {
            for (int i = 0; i < active; i++) {
                f[r * LATENTS + i] = 1f;
            }
        }
        return new LatentCodes.Dense(device.upload(f, ROWS, LATENTS));
    }

    private static ReconstructionMetrics.Result measure(float[] x, float[] xHat, int active, double scale) {
        try (ReconstructionMetrics m = new ReconstructionMetrics(device.ops(), device, D, LATENTS, scale, null);
             Tensor xt = device.upload(x, ROWS, D); Tensor ht = device.upload(xHat, ROWS, D);
             LatentCodes c = codes(active)) {
            m.add(xt, ht, c);
            return m.result();
        }
    }

    @Test
    void perfectReconstructionExplainsAllVariance() {
        float[] x = data();
        ReconstructionMetrics.Result r = measure(x, x.clone(), 3, 1);
        assertThat(r.fvu()).isEqualTo(0.0);
        assertThat(r.fve()).isEqualTo(1.0);
        assertThat(r.normalizedMse()).isEqualTo(0.0);
        assertThat(r.mse()).isEqualTo(0.0);
        assertThat(r.cosine()).isCloseTo(1.0, within(1e-6));
        assertThat(r.l2Ratio()).isCloseTo(1.0, within(1e-6));
        assertThat(r.l0()).isEqualTo(3.0);
        assertThat(r.deadFraction()).as("latents 3 and 4 never fire").isEqualTo(2.0 / 5);
        assertThat(r.tokens()).isEqualTo(ROWS);
    }

    @Test
    void predictingTheMeanExplainsNothing() {
        float[] x = data();
        float[] mean = new float[D];
        for (int r = 0; r < ROWS; r++) {
            for (int c = 0; c < D; c++) {
                mean[c] += x[r * D + c] / ROWS;
            }
        }
        float[] xHat = new float[x.length];
        for (int r = 0; r < ROWS; r++) {
            System.arraycopy(mean, 0, xHat, r * D, D);
        }
        ReconstructionMetrics.Result r = measure(x, xHat, 0, 1);
        assertThat(r.fvu()).isCloseTo(1.0, within(1e-5));
        assertThat(r.fve()).isCloseTo(0.0, within(1e-5));
        assertThat(r.l0()).isZero();
        assertThat(r.deadFraction()).isEqualTo(1.0);
    }

    @Test
    void zeroReconstructionHasNormalizedMseOneAndNoLength() {
        float[] x = data();
        ReconstructionMetrics.Result r = measure(x, new float[x.length], 1, 1);
        assertThat(r.normalizedMse()).isCloseTo(1.0, within(1e-6));
        assertThat(r.l2Ratio()).isZero();
        assertThat(r.cosine()).isZero();
    }

    @Test
    void doublingTheInputDoublesTheLengthAndKeepsTheDirection() {
        float[] x = data();
        float[] twice = new float[x.length];
        double sq = 0;
        for (int i = 0; i < x.length; i++) {
            twice[i] = 2 * x[i];
            sq += (double) x[i] * x[i];
        }
        ReconstructionMetrics.Result r = measure(x, twice, 1, 1);
        assertThat(r.l2Ratio()).isCloseTo(2.0, within(1e-6));
        assertThat(r.cosine()).isCloseTo(1.0, within(1e-6));
        assertThat(r.normalizedMse()).isCloseTo(1.0, within(1e-6));
        assertThat(r.mse()).isCloseTo(sq / x.length, within(1e-3));
    }

    @Test
    void mseIsReportedInTheActivationsOwnUnits() {
        float[] x = data();
        float[] off = x.clone();
        off[0] += 3;
        ReconstructionMetrics.Result raw = measure(x, off, 1, 1);
        float[] xs = x.clone();
        float[] offs = off.clone();
        for (int i = 0; i < xs.length; i++) {
            xs[i] *= 4;
            offs[i] *= 4;
        }
        ReconstructionMetrics.Result scaled = measure(xs, offs, 1, 4);
        assertThat(raw.mse()).isCloseTo(9.0 / x.length, within(1e-5));
        assertThat(scaled.mse()).as("scaled inputs, input_scale 4").isCloseTo(raw.mse(), within(1e-5));
        assertThat(scaled.fvu()).isCloseTo(raw.fvu(), within(1e-6));
    }

    @Test
    void batchesAccumulateToTheWholeSetsMean() {
        // Two batches with different means: FVU uses the mean over both, not each batch's own.
        float[] a = new float[ROWS * D];
        float[] b = new float[ROWS * D];
        java.util.Arrays.fill(a, 1f);
        java.util.Arrays.fill(b, 3f);
        float[] guessA = new float[ROWS * D];
        float[] guessB = new float[ROWS * D];
        java.util.Arrays.fill(guessA, 2f);
        java.util.Arrays.fill(guessB, 2f);
        try (ReconstructionMetrics m = new ReconstructionMetrics(device.ops(), device, D, LATENTS, 1, null);
             Tensor ta = device.upload(a, ROWS, D); Tensor tb = device.upload(b, ROWS, D);
             Tensor ga = device.upload(guessA, ROWS, D); Tensor gb = device.upload(guessB, ROWS, D);
             LatentCodes c = codes(1)) {
            m.add(ta, ga, c);
            m.add(tb, gb, c);
            assertThat(m.result().fvu()).as("predicting the overall mean").isCloseTo(1.0, within(1e-6));
        }
    }

    @Test
    void sparseCodesCountOnlyPositiveSlots() {
        float[] x = data();
        try (ReconstructionMetrics m = new ReconstructionMetrics(device.ops(), device, D, LATENTS, 1, null);
             Tensor xt = device.upload(x, ROWS, D)) {
            float[] vals = new float[ROWS * 2];
            int[] idx = new int[ROWS * 2];
            for (int r = 0; r < ROWS; r++) {
                vals[2 * r] = 1f;
                idx[2 * r] = 4;
                vals[2 * r + 1] = 0f;
                idx[2 * r + 1] = 1;
            }
            Tensor v = device.upload(vals, ROWS, 2);
            Tensor i = device.allocate(DType.I32, ROWS, 2);
            i.copyFrom(idx);
            try (LatentCodes c = new LatentCodes.Sparse(v, i)) {
                m.add(xt, xt, c);
            }
            assertThat(m.result().l0()).isEqualTo(1.0);
            assertThat(m.result().deadFraction()).as("only latent 4 fired").isEqualTo(4.0 / 5);
        }
    }
}
