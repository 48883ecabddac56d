package io.github.sae4j.llama3.model;

/**
 * RoPE's inverse frequencies and the cos/sin tables built from them, in float64 and rounded to float32 at the end,
 * as the PyTorch reference ({@code tools/reference/llama3_reference.py}) does.
 */
public final class RopeFrequencies {

    private RopeFrequencies() {
    }

    /** {@code theta^(-2i/d)} for {@code i < d/2}, with Llama 3.1's scaling applied when the config has it. */
    public static double[] fromConfig(LlamaConfig config) {
        int half = config.headDim() / 2;
        double[] inv = new double[half];
        for (int i = 0; i < half; i++) {
            inv[i] = 1.0 / Math.pow(config.ropeTheta(), (2.0 * i) / config.headDim());
        }
        LlamaConfig.RopeScaling rs = config.ropeScaling();
        if (rs == null) {
            return inv;
        }
        if (rs.type().equals("linear")) {
            for (int i = 0; i < half; i++) {
                inv[i] /= rs.factor();
            }
            return inv;
        }
        double oldContext = rs.originalMaxPositions();
        double lowWavelength = oldContext / rs.lowFreqFactor();
        double highWavelength = oldContext / rs.highFreqFactor();
        for (int i = 0; i < half; i++) {
            double f = inv[i];
            double wavelength = 2.0 * Math.PI / f;
            if (wavelength < highWavelength) {
                continue; // high frequencies are kept
            }
            if (wavelength > lowWavelength) {
                inv[i] = f / rs.factor();
            } else {
                double smooth = (oldContext / wavelength - rs.lowFreqFactor()) / (rs.highFreqFactor() - rs.lowFreqFactor());
                inv[i] = (1.0 - smooth) * f / rs.factor() + smooth * f;
            }
        }
        return inv;
    }

    /**
     * GGUF form: the plain frequencies divided by llama.cpp's {@code rope_freqs.weight} factors (null when the file
     * has none).
     */
    public static double[] fromBaseAndDivisors(LlamaConfig config, float[] divisors) {
        LlamaConfig plain = new LlamaConfig(config.name(), config.hidden(), config.intermediate(), config.layers(),
                config.heads(), config.kvHeads(), config.headDim(), config.vocabSize(), config.rmsNormEps(),
                config.ropeTheta(), null, config.maxPositions(), config.tiedEmbeddings());
        double[] inv = fromConfig(plain);
        if (divisors != null) {
            if (divisors.length != inv.length) {
                throw new IllegalArgumentException("rope_freqs.weight has " + divisors.length + " factors; head_dim "
                        + config.headDim() + " needs " + inv.length);
            }
            for (int i = 0; i < inv.length; i++) {
                inv[i] /= divisors[i];
            }
        }
        return inv;
    }

    /** {@code [positions, d/2]} tables, row-major: {@code table[p * half + i]}. */
    public static float[][] cosSin(double[] inverseFrequencies, int positions) {
        int half = inverseFrequencies.length;
        float[] cos = new float[Math.multiplyExact(positions, half)];
        float[] sin = new float[cos.length];
        for (int p = 0; p < positions; p++) {
            for (int i = 0; i < half; i++) {
                double angle = p * inverseFrequencies[i];
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
        return new float[][] {cos, sin};
    }
}
