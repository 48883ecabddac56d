package io.github.sae4j.core.bench;

import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.sae.LatentCodes;
import io.github.sae4j.api.sae.Sae;
import io.github.sae4j.api.sae.SaeSpec;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.interpret.Aggregation;
import io.github.sae4j.core.interpret.TopActivationMiner;
import io.github.sae4j.core.interpret.TopActivationWriter;
import io.github.sae4j.core.io.AtomicFiles;
import io.github.sae4j.core.sae.TopKArchitecture;
import io.github.sae4j.core.store.ActivationDType;
import io.github.sae4j.core.store.ActivationDataset;
import io.github.sae4j.core.store.ActivationDatasetWriter;
import io.github.sae4j.core.store.ActivationShardReader;
import io.github.sae4j.core.store.DatasetHeader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Top-activation mining against plain encoding, in one run: a TopK SAE with 65,536 latents and k = 64 over stored
 * bf16 activations (random rows grouped into 32-token sentences, written by the benchmark). "Encode" reads every
 * record batch, normalizes it, encodes it and copies the codes to the host, which mining needs too; "mine" is the
 * first pass of {@code sae4j top-activations} (scores, top 50 per latent, statistics); "examples" is its second pass.
 *
 * <pre>java ... io.github.sae4j.core.bench.MiningBenchmark [--rows N] [--d-in N] [--latents N] [-k N] [--threads N]</pre>
 */
public final class MiningBenchmark {

    private MiningBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int rows = 65_536;
        int dIn = 768;
        int latents = 65_536;
        int k = 64;
        String threads = String.valueOf(Runtime.getRuntime().availableProcessors());
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rows" -> rows = Integer.parseInt(args[++i]);
                case "--d-in" -> dIn = Integer.parseInt(args[++i]);
                case "--latents" -> latents = Integer.parseInt(args[++i]);
                case "-k" -> k = Integer.parseInt(args[++i]);
                case "--threads" -> threads = args[++i];
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        Path tmp = Files.createTempDirectory("sae4j-mining-bench");
        try (Backend backend = Plugins.openBackend("java", Map.of("threads", threads))) {
            Path data = tmp.resolve("acts");
            SplittableRandom r = new SplittableRandom(1);
            try (ActivationDatasetWriter w = ActivationDatasetWriter.create(data, new DatasetHeader(dIn,
                    ActivationDType.BF16, "random", "blocks.0.hook_resid_post", Map.of()), 1 << 20, 4096)) {
                float[] v = new float[32 * dIn];
                long[] ids = new long[32];
                int[] pos = new int[32];
                for (int s = 0; s < rows / 32; s++) {
                    for (int i = 0; i < v.length; i++) {
                        v[i] = (float) r.nextGaussian();
                    }
                    for (int t = 0; t < 32; t++) {
                        ids[t] = s;
                        pos[t] = t;
                    }
                    w.append(v, 0, 32, ids, pos, new int[32]);
                }
            }
            SaeSpec spec = new TopKArchitecture().spec(dIn, latents, Map.of("k", k), 1.0, Map.of());
            try (Sae sae = new TopKArchitecture().create(spec, backend.devices().getFirst());
                 ActivationDataset d = ActivationDataset.open(data)) {
                sae.initialize(1, null);
                System.out.printf(Locale.ROOT, "mining benchmark: %d rows (bf16, d_in %d), TopK SAE %d latents, k = %d, "
                        + "%s threads%n", rows, dIn, latents, k, threads);
                double[] encode = new double[3];
                double[] mine = new double[3];
                for (int round = -1; round < 3; round++) {
                    long t0 = System.nanoTime();
                    encodeOnly(d, sae);
                    double e = (System.nanoTime() - t0) / 1e9;
                    t0 = System.nanoTime();
                    TopActivationMiner.mine(d, sae, Aggregation.MAX, 50, 4096, null, n -> { });
                    double m = (System.nanoTime() - t0) / 1e9;
                    if (round >= 0) {
                        encode[round] = e;
                        mine[round] = m;
                    }
                }
                Arrays.sort(encode);
                Arrays.sort(mine);
                long t0 = System.nanoTime();
                var result = TopActivationMiner.mine(d, sae, Aggregation.MAX, 50, 4096, null, n -> { });
                double firstPass = (System.nanoTime() - t0) / 1e9;
                t0 = System.nanoTime();
                var examples = TopActivationWriter.examples(d, sae, result.top(), null);
                double secondPass = (System.nanoTime() - t0) / 1e9;
                System.out.printf(Locale.ROOT, "  encode only      %7.2f s  %9.0f tokens/s%n", encode[1], rows / encode[1]);
                System.out.printf(Locale.ROOT, "  mine (pass 1)    %7.2f s  %9.0f tokens/s   overhead %.1f%% over encoding "
                        + "(target <= 25%%)%n", mine[1], rows / mine[1], 100 * (mine[1] - encode[1]) / encode[1]);
                System.out.printf(Locale.ROOT, "  examples (pass 2) %6.2f s  for %d examples (one run after pass 1 in %.2f s)%n",
                        secondPass, examples.size(), firstPass);
            }
        } finally {
            AtomicFiles.deleteRecursively(tmp);
        }
    }

    /** Reads, normalizes, encodes and fetches the codes of every batch: the work mining cannot avoid. */
    static long encodeOnly(ActivationDataset d, Sae sae) throws java.io.IOException {
        int dIn = sae.spec().dIn();
        long sink = 0;
        for (Path shardPath : d.shards()) {
            try (ActivationShardReader shard = ActivationShardReader.open(shardPath)) {
                for (int b = 0; b < shard.batchCount(); b++) {
                    int n = shard.batchRows(b);
                    float[] values = new float[n * dIn];
                    shard.readBatch(b, values, new long[n], new int[n], new int[n], 0);
                    sae.spec().normalize(values, 0, n);
                    try (Tensor x = sae.device().upload(values, n, dIn); LatentCodes codes = sae.encode(x)) {
                        if (codes instanceof LatentCodes.Sparse s) {
                            sink += s.indices().toIntArray()[0] + (long) s.values().toFloatArray()[0];
                        }
                    }
                }
            }
        }
        return sink;
    }
}
