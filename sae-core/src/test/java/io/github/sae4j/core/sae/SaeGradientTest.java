package io.github.sae4j.core.sae;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.sae4j.api.backend.DType;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.sae.AuxKSettings;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeParameter;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.api.sae.TrainingContext;
import io.github.sae4j.api.sae.TrainingStepResult;
import io.github.sae4j.core.backend.java.JavaBackend;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The hand-written backward passes against central finite differences of plain double-precision forward passes
 * written from the definitions (the slow, obvious twins of the SAEs).
 */
class SaeGradientTest {

    private static JavaBackend backend;
    private static Device device;

    @BeforeAll
    static void open() {
        backend = new JavaBackend(1);
        device = backend.device();
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    /** A context with the given dead latents (mask entries != 0) and AuxK settings. */
    private static TrainingContext ctx(float[] deadMask, AuxKSettings auxK) {
        int dead = 0;
        for (float v : deadMask) {
            dead += v != 0 ? 1 : 0;
        }
        return TrainingContext.of(device.upload(deadMask, deadMask.length), dead, auxK,
                device.allocate(DType.F32, deadMask.length));
    }

    /** Parameters as double arrays in the SAE's internal layout (W_enc as [d_sae, d_in] rows). */
    record Params(double[] enc, double[] dec, double[] bEnc, double[] bDec) {
        Params copy() {
            return new Params(enc.clone(), dec.clone(), bEnc.clone(), bDec.clone());
        }

        double[] get(String name) {
            return switch (name) {
                case "W_enc" -> enc;
                case "W_dec" -> dec;
                case "b_enc" -> bEnc;
                default -> bDec;
            };
        }
    }

    private static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    private static Params params(Sae sae) {
        return new Params(toDouble(sae.parameter("W_enc").value().toFloatArray()),
                toDouble(sae.parameter("W_dec").value().toFloatArray()),
                toDouble(sae.parameter("b_enc").value().toFloatArray()),
                toDouble(sae.parameter("b_dec").value().toFloatArray()));
    }

    private static double[][] preActivations(Params p, double[] x, int rows, int dIn, int dSae) {
        double[][] pre = new double[rows][dSae];
        for (int b = 0; b < rows; b++) {
            for (int i = 0; i < dSae; i++) {
                double s = p.bEnc[i];
                for (int c = 0; c < dIn; c++) {
                    s += p.enc[i * dIn + c] * (x[b * dIn + c] - p.bDec[c]);
                }
                pre[b][i] = s;
            }
        }
        return pre;
    }

    /** Indices of the k largest of {@code v} among allowed entries (ties to the lower index). */
    private static int[] topK(double[] v, boolean[] allowed, int k) {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < v.length; i++) {
            if (allowed == null || allowed[i]) {
                idx.add(i);
            }
        }
        idx.sort((a, b) -> v[a] != v[b] ? Double.compare(v[b], v[a]) : Integer.compare(a, b));
        return idx.subList(0, Math.min(k, idx.size())).stream().mapToInt(Integer::intValue).toArray();
    }

    private static double batchVariance(double[] x, int rows, int d) {
        double total = 0;
        for (int c = 0; c < d; c++) {
            double mean = 0;
            for (int b = 0; b < rows; b++) {
                mean += x[b * d + c];
            }
            mean /= rows;
            for (int b = 0; b < rows; b++) {
                double diff = x[b * d + c] - mean;
                total += diff * diff;
            }
        }
        return total;
    }

    private static double[] topKReconstruction(Params p, double[][] pre, int rows, int dIn, int k, boolean[] allowed,
                                               boolean withBias) {
        double[] out = new double[rows * dIn];
        for (int b = 0; b < rows; b++) {
            for (int i : topK(pre[b], allowed, k)) {
                double z = Math.max(0, pre[b][i]);
                for (int c = 0; c < dIn; c++) {
                    out[b * dIn + c] += z * p.dec[i * dIn + c];
                }
            }
            if (withBias) {
                for (int c = 0; c < dIn; c++) {
                    out[b * dIn + c] += p.bDec[c];
                }
            }
        }
        return out;
    }

    private static double sse(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (a[i] - b[i]) * (a[i] - b[i]);
        }
        return s;
    }

    /** Central differences of {@code loss} for every element of every parameter. */
    private static Map<String, double[]> numericGradients(Params p, ToDoubleFunction<Params> loss) {
        Map<String, double[]> grads = new LinkedHashMap<>();
        double h = 1e-5;
        for (String name : List.of("W_enc", "W_dec", "b_enc", "b_dec")) {
            double[] g = new double[p.get(name).length];
            for (int i = 0; i < g.length; i++) {
                Params plus = p.copy();
                plus.get(name)[i] += h;
                Params minus = p.copy();
                minus.get(name)[i] -= h;
                g[i] = (loss.applyAsDouble(plus) - loss.applyAsDouble(minus)) / (2 * h);
            }
            grads.put(name, g);
        }
        return grads;
    }

    private static Map<String, Tensor> gradientTensors(Sae sae) {
        Map<String, Tensor> grads = new LinkedHashMap<>();
        for (SaeParameter p : sae.parameters()) {
            grads.put(p.name(), device.allocate(DType.F32, p.value().shape()));
            device.ops().fill(grads.get(p.name()), 123f);
        }
        return grads;
    }

    private static void assertGradientsMatch(Map<String, Tensor> analytic, Map<String, double[]> numeric) {
        for (var e : numeric.entrySet()) {
            float[] a = analytic.get(e.getKey()).toFloatArray();
            double[] n = e.getValue();
            double scale = Arrays.stream(n).map(Math::abs).max().orElse(0) + 1e-6;
            for (int i = 0; i < n.length; i++) {
                assertThat(Math.abs(a[i] - n[i]))
                        .as("d loss / d %s[%d]: analytic %s, finite difference %s", e.getKey(), i, a[i], n[i])
                        .isLessThan(2e-3 * scale + 1e-4 * Math.abs(n[i]));
            }
        }
    }

    private static float[] random(long seed, int n, double scale) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * scale);
        }
        return a;
    }

    @Test
    void topKBackwardWithAuxKMatchesFiniteDifferences() {
        int dIn = 6;
        int dSae = 14;
        int k = 3;
        int kAux = 4;
        int rows = 5;
        float coefficient = 0.5f;
        SaeSpec spec = new TopKArchitecture().spec(dIn, dSae, Map.of("k", k), 1.0, Map.of());
        float[] deadMask = new float[dSae];
        boolean[] dead = new boolean[dSae];
        for (int i = 0; i < dSae; i += 2) {
            deadMask[i] = 1f;
            dead[i] = true;
        }
        float[] xf = random(1, rows * dIn, 1);
        double[] x = toDouble(xf);
        try (Sae sae = new TopKArchitecture().create(spec, device); Tensor xt = device.upload(xf, rows, dIn)) {
            sae.initialize(7, random(2, dIn, 0.3));
            // Move away from the symmetric start so every gradient term is exercised.
            sae.parameter("b_enc").value().copyFrom(random(3, dSae, 0.3));
            sae.parameter("W_enc").value().copyFrom(random(4, dSae * dIn, 0.5));
            Params p = params(sae);
            TrainingContext ctx = ctx(deadMask, new AuxKSettings(kAux, coefficient));
            Map<String, Tensor> grads = gradientTensors(sae);
            TrainingStepResult result = sae.trainingStep(xt, ctx, grads);

            double variance = batchVariance(x, rows, dIn);
            double[] x0 = topKReconstruction(p, preActivations(p, x, rows, dIn, dSae), rows, dIn, k, null, true);
            double[] error0 = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                error0[i] = x[i] - x0[i];
            }
            double errorVariance = batchVariance(error0, rows, dIn);
            ToDoubleFunction<Params> loss = q -> {
                double[][] pre = preActivations(q, x, rows, dIn, dSae);
                double main = sse(x, topKReconstruction(q, pre, rows, dIn, k, null, true)) / variance;
                double aux = sse(error0, topKReconstruction(q, pre, rows, dIn, kAux, dead, false)) / errorVariance;
                return main + coefficient * aux;
            };
            assertThat(result.loss()).as("loss").isCloseTo(loss.applyAsDouble(p), org.assertj.core.data.Offset.offset(1e-4));
            assertGradientsMatch(grads, numericGradients(p, loss));
        }
    }

    @Test
    void auxKGradientReachesTheEncoderRowsOfDeadLatents() {
        int dIn = 8;
        int dSae = 32;
        SaeSpec spec = new TopKArchitecture().spec(dIn, dSae, Map.of("k", 2), 1.0, Map.of());
        float[] deadMask = new float[dSae];
        for (int i = 16; i < dSae; i++) {
            deadMask[i] = 1f;
        }
        try (Sae sae = new TopKArchitecture().create(spec, device); Tensor x = device.upload(random(5, 16 * dIn, 1), 16, dIn)) {
            sae.initialize(9, null);
            // Only latents 0..15 can win the main TopK: the live half sits far above the dead half.
            float[] bias = new float[dSae];
            for (int i = 0; i < 16; i++) {
                bias[i] = 10f;
            }
            sae.parameter("b_enc").value().copyFrom(bias);
            Map<String, Tensor> withAux = gradientTensors(sae);
            Map<String, Tensor> without = gradientTensors(sae);
            sae.trainingStep(x, ctx(deadMask, new AuxKSettings(4, 1f / 32)), withAux);
            sae.trainingStep(x, ctx(deadMask, null), without);
            float[] encWith = withAux.get("W_enc").toFloatArray();
            float[] encWithout = without.get("W_enc").toFloatArray();
            float[] decWith = withAux.get("W_dec").toFloatArray();
            double deadEncoderWith = 0;
            double deadEncoderWithout = 0;
            double deadDecoderWith = 0;
            for (int i = 16; i < dSae; i++) {
                for (int c = 0; c < dIn; c++) {
                    deadEncoderWith += Math.abs(encWith[i * dIn + c]);
                    deadEncoderWithout += Math.abs(encWithout[i * dIn + c]);
                    deadDecoderWith += Math.abs(decWith[i * dIn + c]);
                }
            }
            assertThat(deadEncoderWithout).as("dead latents get no encoder gradient without AuxK").isZero();
            assertThat(deadEncoderWith).as("AuxK's gradient reaches the dead latents' encoder rows").isGreaterThan(1e-4);
            assertThat(deadDecoderWith).as("and their decoder rows").isGreaterThan(1e-4);
            assertThat(sum(Arrays.copyOfRange(withAux.get("b_enc").toFloatArray(), 16, 32)))
                    .as("and their encoder biases").isGreaterThan(1e-4);
        }
    }

    private static double sum(float[] a) {
        double s = 0;
        for (float v : a) {
            s += Math.abs(v);
        }
        return s;
    }

    @Test
    void reluL1BackwardMatchesFiniteDifferences() {
        int dIn = 5;
        int dSae = 9;
        int rows = 4;
        double l1 = 0.7;
        SaeSpec spec = new ReluL1Architecture().spec(dIn, dSae, Map.of("l1_coefficient", l1), 1.0, Map.of());
        float[] xf = random(11, rows * dIn, 1);
        double[] x = toDouble(xf);
        try (Sae sae = new ReluL1Architecture().create(spec, device); Tensor xt = device.upload(xf, rows, dIn)) {
            sae.initialize(12, random(13, dIn, 0.2));
            sae.parameter("W_enc").value().copyFrom(random(14, dSae * dIn, 0.6));
            sae.parameter("b_enc").value().copyFrom(random(15, dSae, 0.3));
            Params p = params(sae);
            Map<String, Tensor> grads = gradientTensors(sae);
            TrainingStepResult result = sae.trainingStep(xt, ctx(new float[dSae], null), grads);
            ToDoubleFunction<Params> loss = q -> {
                double[][] pre = preActivations(q, x, rows, dIn, dSae);
                double total = 0;
                for (int b = 0; b < rows; b++) {
                    double[] xh = q.bDec.clone();
                    for (int i = 0; i < dSae; i++) {
                        double f = Math.max(0, pre[b][i]);
                        double norm = 0;
                        for (int c = 0; c < dIn; c++) {
                            xh[c] += f * q.dec[i * dIn + c];
                            norm += q.dec[i * dIn + c] * q.dec[i * dIn + c];
                        }
                        total += l1 * f * Math.sqrt(norm);
                    }
                    for (int c = 0; c < dIn; c++) {
                        total += (x[b * dIn + c] - xh[c]) * (x[b * dIn + c] - xh[c]);
                    }
                }
                return total / rows;
            };
            assertThat(result.loss()).isCloseTo(loss.applyAsDouble(p), org.assertj.core.data.Offset.offset(1e-4));
            assertGradientsMatch(grads, numericGradients(p, loss));
        }
    }

    @Test
    void topKStartsAsTheDesignSays() {
        int dIn = 10;
        int dSae = 40;
        SaeSpec spec = new TopKArchitecture().spec(dIn, dSae, Map.of("k", 4), 1.0, Map.of());
        float[] mean = random(16, dIn, 1);
        try (Sae sae = new TopKArchitecture().create(spec, device)) {
            sae.initialize(17, mean);
            float[] dec = sae.parameter("W_dec").value().toFloatArray();
            float[] enc = sae.parameter("W_enc").value().toFloatArray();
            assertThat(enc).as("encoder starts as the decoder's transpose (same rows internally)").containsExactly(dec);
            for (int i = 0; i < dSae; i++) {
                double n = 0;
                for (int c = 0; c < dIn; c++) {
                    n += dec[i * dIn + c] * dec[i * dIn + c];
                }
                assertThat(Math.sqrt(n)).as("decoder row " + i + " norm").isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
            }
            assertThat(sae.parameter("b_dec").value().toFloatArray()).as("b_dec = data mean").containsExactly(mean);
            assertThat(sae.parameter("b_enc").value().toFloatArray()).containsOnly(0f);
            assertThat(sae.latentBias().toFloatArray()).as("steering bias is zero").containsOnly(0f);
        }
    }

    @Test
    void encodingHasNoSideEffects() {
        int dIn = 12;
        int dSae = 48;
        SaeSpec spec = new TopKArchitecture().spec(dIn, dSae, Map.of("k", 5), 1.0, Map.of());
        try (Sae sae = new TopKArchitecture().create(spec, device); Tensor x = device.upload(random(18, 20 * dIn, 1), 20, dIn)) {
            sae.initialize(19, null);
            float[] before = sae.parameter("W_dec").value().toFloatArray();
            var first = sae.encode(x);
            var second = sae.encode(x);
            assertThat(((io.github.sae4j.api.sae.LatentCodes.Sparse) first).indices().toIntArray())
                    .containsExactly(((io.github.sae4j.api.sae.LatentCodes.Sparse) second).indices().toIntArray());
            assertThat(sae.parameter("W_dec").value().toFloatArray()).containsExactly(before);
            first.close();
            second.close();
        }
    }
}
