package io.github.sae4j.core.synth;

import io.github.sae4j.core.io.AtomicFiles;
import io.github.sae4j.core.io.Safetensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The known dictionary behind synthetic activations ({@code ground_truth.safetensors} beside the shards), and how
 * well an SAE's decoder recovered it.
 */
public final class GroundTruth {

    public static final String FILE = "ground_truth.safetensors";

    private final float[] dictionary;
    private final int features;
    private final int dModel;

    public GroundTruth(float[] dictionary, int features, int dModel) {
        if (dictionary.length != features * dModel) {
            throw new IllegalArgumentException("dictionary of " + dictionary.length + " values is not " + features + " x "
                    + dModel);
        }
        this.dictionary = dictionary;
        this.features = features;
        this.dModel = dModel;
    }

    public int features() {
        return features;
    }

    public int dModel() {
        return dModel;
    }

    public float[] dictionary() {
        return dictionary.clone();
    }

    public static void write(Path file, SyntheticActivations generator) throws IOException {
        SyntheticConfig c = generator.config();
        double[] freq = generator.frequencies();
        float[] f = new float[freq.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) freq[i];
        }
        AtomicFiles.writeFile(file, tmp -> Safetensors.write(tmp, List.of(
                Safetensors.Array.f32("dictionary", generator.dictionary(), c.features(), c.dModel()),
                Safetensors.Array.f32("frequency", f, c.features()),
                Safetensors.Array.f32("offset", generator.offset(), c.dModel())),
                Map.of("format", "sae4j.synthetic-ground-truth.v1", "mean_active", String.valueOf(c.meanActive()),
                        "noise_std", String.valueOf(c.noiseStd()), "seed", String.valueOf(c.seed()))));
    }

    public static GroundTruth read(Path file) throws IOException {
        try (Safetensors.Reader r = Safetensors.open(file)) {
            Safetensors.Info info = r.info("dictionary");
            if (info.shape().length != 2) {
                throw new IOException(file + ": 'dictionary' must be [features, d_model], got shape "
                        + java.util.Arrays.toString(info.shape()));
            }
            return new GroundTruth(r.readF32("dictionary"), info.shape()[0], info.shape()[1]);
        }
    }

    /**
     * For each ground-truth feature, the largest cosine similarity with any row of {@code decoder}
     * ({@code [latents, d_model]}).
     */
    public double[] maxCosines(float[] decoder, int latents) {
        if (decoder.length != latents * dModel) {
            throw new IllegalArgumentException("decoder of " + decoder.length + " values is not " + latents + " x " + dModel);
        }
        double[] norms = new double[latents];
        for (int j = 0; j < latents; j++) {
            double s = 0;
            for (int c = 0; c < dModel; c++) {
                double v = decoder[j * dModel + c];
                s += v * v;
            }
            norms[j] = Math.sqrt(s);
        }
        double[] best = new double[features];
        for (int i = 0; i < features; i++) {
            double max = -1;
            for (int j = 0; j < latents; j++) {
                if (norms[j] == 0) {
                    continue;
                }
                double dot = 0;
                for (int c = 0; c < dModel; c++) {
                    dot += (double) dictionary[i * dModel + c] * decoder[j * dModel + c];
                }
                max = Math.max(max, dot / norms[j]);
            }
            best[i] = max;
        }
        return best;
    }

    /** The fraction of ground-truth features whose best-matching decoder row has cosine above {@code threshold}. */
    public double fractionRecovered(float[] decoder, int latents, double threshold) {
        double[] best = maxCosines(decoder, latents);
        int hit = 0;
        for (double b : best) {
            if (b > threshold) {
                hit++;
            }
        }
        return (double) hit / features;
    }
}
