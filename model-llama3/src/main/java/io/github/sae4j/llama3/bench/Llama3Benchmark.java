package io.github.sae4j.llama3.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.sae4j.api.backend.Backend;
import io.github.sae4j.api.backend.BackendProvider;
import io.github.sae4j.api.backend.DType;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.backend.WeightFormat;
import io.github.sae4j.api.backend.WeightMatrix;
import io.github.sae4j.api.model.GenerationOptions;
import io.github.sae4j.api.model.Tokenizer;
import io.github.sae4j.api.plugin.PluginRegistry;
import io.github.sae4j.llama3.Llama3Models;
import io.github.sae4j.llama3.model.Llama3Model;
import io.github.sae4j.llama3.model.LlamaConfig;
import io.github.sae4j.llama3.model.LlamaWeights;
import io.github.sae4j.llama3.model.RopeFrequencies;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Llama 3 forward throughput, each figure against a baseline measured in the same run:
 * <ol>
 *   <li>prefill of the 64 held-out sentences of {@code tools/reference/bench-ids.json} (no BOS, at most 192
 *       tokens, logits at every position) on the embedded tiny model, against the PyTorch reference forward
 *       ({@code tools/reference/bench_forward.py}) on the same ids and threads when Debian's python3-torch is there;</li>
 *   <li>the same prefill on a randomly initialized model with Llama 3.2-1B shapes (BF16 weights), as a fraction of
 *       the backend's F32 GEMM rate measured at a typical layer shape;</li>
 *   <li>single-sequence decode tokens/s on that model, against the memory-bandwidth bound (weight bytes per token
 *       over a streaming-read bandwidth measured here).</li>
 * </ol>
 * Run with {@code scripts/bench-llama3.sh [--threads N] [--sentences-1b N] [--json FILE]}.
 */
public final class Llama3Benchmark {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Llama3Benchmark() {
    }

    public static void main(String[] args) throws Exception {
        int threads = Runtime.getRuntime().availableProcessors();
        int sentences1b = 16;
        int reps = 3;
        int decodeTokens = 16;
        boolean skipTorch = false;
        boolean skip1b = false;
        Path root = Path.of("").toAbsolutePath();
        Path jsonOut = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--sentences-1b" -> sentences1b = Integer.parseInt(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--decode-tokens" -> decodeTokens = Integer.parseInt(args[++i]);
                case "--no-torch" -> skipTorch = true;
                case "--no-1b" -> skip1b = true;
                case "--root" -> root = Path.of(args[++i]).toAbsolutePath();
                case "--json" -> jsonOut = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + "; options: --threads N "
                        + "--sentences-1b N --reps N --decode-tokens N --no-torch --no-1b --root DIR --json FILE");
            }
        }
        ObjectNode result = JSON.createObjectNode();
        result.put("threads", threads);
        result.put("cpu", cpuName());
        List<int[]> ids = readIds(root.resolve("tools/reference/bench-ids.json"));
        Backend backend = PluginRegistry.load(BackendProvider.class, "backend").get("java")
                .open(Map.of("threads", String.valueOf(threads)));
        try (backend) {
            Device device = backend.device(0);
            System.out.println("device: " + device.description());
            tinyPrefill(root, device, ids, reps, threads, skipTorch, result);
            if (!skip1b) {
                oneB(device, ids.subList(0, Math.min(sentences1b, ids.size())), reps, decodeTokens, threads, result);
            }
        }
        if (jsonOut != null) {
            JSON.writerWithDefaultPrettyPrinter().writeValue(jsonOut.toFile(), result);
            System.out.println("wrote " + jsonOut);
        }
    }

    // ------------------------------------------------------------------ tiny model vs PyTorch

    private static void tinyPrefill(Path root, Device device, List<int[]> ids, int reps, int threads, boolean skipTorch,
                                    ObjectNode result) throws Exception {
        Path model = root.resolve("models/tiny-llama3");
        long tokens = ids.stream().mapToLong(s -> s.length).sum();
        double seconds;
        try (Llama3Model m = Llama3Models.open(model, device, Llama3Model.DEFAULT_CHUNK_ROWS, List.of())) {
            seconds = median(reps, 1, () -> m.forward(ids, List.of(), (s, p, row) -> { }));
        }
        double javaRate = tokens / seconds;
        System.out.printf(Locale.ROOT, "tiny model prefill: %d sentences, %d tokens, logits at every position%n",
                ids.size(), tokens);
        System.out.printf(Locale.ROOT, "  java     %8.3f s  %10.0f tokens/s%n", seconds, javaRate);
        ObjectNode tiny = result.putObject("tiny_prefill");
        tiny.put("sentences", ids.size());
        tiny.put("tokens", tokens);
        tiny.put("java_s", seconds);
        tiny.put("java_tokens_per_s", javaRate);
        if (skipTorch) {
            return;
        }
        Path python = Path.of("/usr/bin/python3");
        Path script = root.resolve("tools/reference/bench_forward.py");
        Path out = Files.createTempFile("bench-torch", ".json");
        try {
            if (!Files.isExecutable(python) || !Files.exists(script)) {
                System.out.println("  torch    skipped: /usr/bin/python3 or " + script + " missing");
                return;
            }
            Process p = new ProcessBuilder(python.toString(), script.toString(), model.toString(), "--threads",
                    String.valueOf(threads), "--batch", String.valueOf(ids.size()), "--max-len", "192", "--text-file",
                    root.resolve("tools/reference/bench-sentences.txt").toString(), "--warmup", "1", "--reps",
                    String.valueOf(reps), "--json", out.toString()).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
                System.out.println("  torch    skipped: bench_forward.py failed (is python3-torch installed?):\n" + log);
                return;
            }
            JsonNode torch = JSON.readTree(out.toFile());
            long torchTokens = torch.get("real_tokens").asLong();
            if (torchTokens != tokens) {
                System.out.println("  torch    ran " + torchTokens + " tokens, not " + tokens + ": ids differ");
            }
            double torchRate = torch.get("real_tokens").asDouble() / torch.get("median_s").asDouble();
            System.out.printf(Locale.ROOT, "  torch    %8.3f s  %10.0f tokens/s  (padded batch of %d x %d)%n",
                    torch.get("median_s").asDouble(), torchRate, torch.get("batch").asInt(),
                    torch.get("padded_len").asInt());
            System.out.printf(Locale.ROOT, "  java / torch = %.2fx%n", javaRate / torchRate);
            tiny.put("torch_s", torch.get("median_s").asDouble());
            tiny.put("torch_tokens_per_s", torchRate);
            tiny.put("java_over_torch", javaRate / torchRate);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    // ------------------------------------------------------------------ Llama 3.2-1B shapes

    private static void oneB(Device device, List<int[]> ids, int reps, int decodeTokens, int threads,
                             ObjectNode result) {
        LlamaConfig c = LlamaConfig.llama32OneB();
        System.out.println("random model: " + c);
        try (Arena arena = Arena.ofShared()) {
            long start = System.nanoTime();
            LlamaWeights w = randomWeights(c, arena, threads);
            System.out.printf(Locale.ROOT, "  random BF16 weights in %.1f s%n", (System.nanoTime() - start) / 1e9);
            Llama3Model m = new Llama3Model(c, w, RopeFrequencies.fromConfig(c), new NoTokenizer(c.vocabSize()), device,
                    Llama3Model.DEFAULT_CHUNK_ROWS, List.of());
            try (m) {
                long tokens = ids.stream().mapToLong(s -> s.length).sum();
                double flops = prefillFlops(c, ids);
                double seconds = median(reps, 1, () -> m.forward(ids, List.of(), (s, p, row) -> { }));
                double gemm = gemmRate(device, reps, 512, c.hidden(), c.intermediate());
                double rate = flops / seconds;
                System.out.printf(Locale.ROOT, "  prefill %d sentences, %d tokens: %.2f s, %.1f tokens/s, %.1f GFLOP/s%n",
                        ids.size(), tokens, seconds, tokens / seconds, rate / 1e9);
                System.out.printf(Locale.ROOT, "  F32 GEMM [512 x %d] x [%d x %d]^T: %.1f GFLOP/s -> prefill at %.0f%% "
                        + "of GEMM%n", c.hidden(), c.intermediate(), c.hidden(), gemm / 1e9, 100 * rate / gemm);
                ObjectNode pre = result.putObject("llama32_1b_prefill");
                pre.put("sentences", ids.size());
                pre.put("tokens", tokens);
                pre.put("seconds", seconds);
                pre.put("tokens_per_s", tokens / seconds);
                pre.put("gflops", rate / 1e9);
                pre.put("gemm_gflops", gemm / 1e9);
                pre.put("fraction_of_gemm", rate / gemm);

                int[] prompt = Arrays.copyOf(ids.get(0), Math.min(16, ids.get(0).length));
                GenerationOptions one = GenerationOptions.greedy(1).withStopTokens();
                GenerationOptions many = GenerationOptions.greedy(1 + decodeTokens).withStopTokens();
                double t1 = median(reps, 1, () -> m.generate(prompt, one, List.of(), null));
                double tn = median(reps, 0, () -> m.generate(prompt, many, List.of(), null));
                double perToken = (tn - t1) / decodeTokens;
                double bandwidth = readBandwidth(arena, threads, reps);
                double bound = bandwidth / m.weightBytesPerToken();
                System.out.printf(Locale.ROOT, "  decode: %.1f ms/token = %.2f tokens/s; weights %.2f GB/token; read "
                        + "bandwidth %.1f GB/s -> bound %.2f tokens/s; decode at %.0f%% of the bound%n", perToken * 1e3,
                        1 / perToken, m.weightBytesPerToken() / 1e9, bandwidth / 1e9, bound, 100 / perToken / bound);
                ObjectNode dec = result.putObject("llama32_1b_decode");
                dec.put("ms_per_token", perToken * 1e3);
                dec.put("tokens_per_s", 1 / perToken);
                dec.put("weight_bytes_per_token", m.weightBytesPerToken());
                dec.put("read_bandwidth_gb_s", bandwidth / 1e9);
                dec.put("bound_tokens_per_s", bound);
                dec.put("fraction_of_bound", 1 / perToken / bound);
            }
        }
    }

    /** 2 x weights per token for every matrix, plus QK^T and PV of causal attention. */
    static double prefillFlops(LlamaConfig c, List<int[]> ids) {
        double perTokenMatrices = 2.0 * ((double) c.hidden() * (c.qDim() + 2L * c.kvDim()) + (double) c.qDim()
                * c.hidden() + 3.0 * c.hidden() * c.intermediate()) * c.layers() + 2.0 * c.vocabSize() * c.hidden();
        double total = 0;
        for (int[] s : ids) {
            total += perTokenMatrices * s.length;
            double pairs = s.length * (s.length + 1) / 2.0;
            total += 4.0 * pairs * c.qDim() * c.layers();
        }
        return total;
    }

    static LlamaWeights randomWeights(LlamaConfig c, Arena arena, int threads) {
        WeightMatrix embedding = random("embed", c.vocabSize(), c.hidden(), arena, 1);
        float[] ones = new float[c.hidden()];
        Arrays.fill(ones, 1f);
        List<LlamaWeights.Layer> layers = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            long seed = 100L * (l + 2);
            layers.add(new LlamaWeights.Layer(ones,
                    random("q" + l, c.qDim(), c.hidden(), arena, seed),
                    random("k" + l, c.kvDim(), c.hidden(), arena, seed + 1),
                    random("v" + l, c.kvDim(), c.hidden(), arena, seed + 2),
                    random("o" + l, c.hidden(), c.qDim(), arena, seed + 3), ones,
                    random("gate" + l, c.intermediate(), c.hidden(), arena, seed + 4),
                    random("up" + l, c.intermediate(), c.hidden(), arena, seed + 5),
                    random("down" + l, c.hidden(), c.intermediate(), arena, seed + 6)));
        }
        return new LlamaWeights(embedding, embedding, ones, layers, false);
    }

    /** BF16 weights uniform in +-sqrt(3 / cols) (unit-variance outputs for unit-variance inputs). */
    static WeightMatrix random(String name, int rows, int cols, Arena arena, long seed) {
        MemorySegment data = arena.allocate((long) rows * cols * 2, 64);
        float scale = (float) Math.sqrt(3.0 / cols);
        IntStream.range(0, rows).parallel().forEach(r -> {
            SplittableRandom random = new SplittableRandom(seed * 1_000_003L + r);
            long at = (long) r * cols * 2;
            for (int i = 0; i < cols; i++) {
                float v = (float) ((random.nextDouble() * 2 - 1) * scale);
                data.set(ValueLayout.JAVA_SHORT_UNALIGNED, at + 2L * i, (short) (Float.floatToIntBits(v) >>> 16));
            }
        });
        return new WeightMatrix(name, WeightFormat.BF16, rows, cols, data);
    }

    /** FLOP/s of the backend's F32 GEMM out[m, n] = x[m, k] w[n, k]^T (a Llama up projection). */
    static double gemmRate(Device device, int reps, int m, int k, int n) {
        try (Tensor x = device.allocate(DType.F32, m, k);
             Tensor w = device.allocate(DType.F32, n, k);
             Tensor out = device.allocate(DType.F32, m, n)) {
            SplittableRandom random = new SplittableRandom(1);
            float[] xs = new float[m * k];
            float[] ws = new float[n * k];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = (float) random.nextDouble();
            }
            for (int i = 0; i < ws.length; i++) {
                ws[i] = (float) random.nextDouble();
            }
            x.copyFrom(xs, 0);
            w.copyFrom(ws, 0);
            double s = median(Math.max(reps, 3), 1, () -> device.ops().gemm(false, true, 1f, x, w, 0f, out));
            return 2.0 * m * n * k / s;
        }
    }

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    /** Bytes/s of a multi-threaded streaming read (vector sums) over 1 GiB that no cache holds. */
    static double readBandwidth(Arena arena, int threads, int reps) {
        long bytes = 1L << 30;
        MemorySegment data = arena.allocate(bytes, 64);
        data.fill((byte) 1);
        long perThread = bytes / threads / F.vectorByteSize() * F.vectorByteSize();
        double[] sink = new double[threads];
        double s = median(Math.max(reps, 3), 1, () -> IntStream.range(0, threads).parallel().forEach(t -> {
            FloatVector acc = FloatVector.zero(F);
            long from = t * perThread;
            for (long at = from; at < from + perThread; at += F.vectorByteSize()) {
                acc = acc.add(FloatVector.fromMemorySegment(F, data, at, java.nio.ByteOrder.LITTLE_ENDIAN));
            }
            sink[t] = acc.reduceLanes(VectorOperators.ADD);
        }));
        return perThread * threads / s;
    }

    static double median(int reps, int warmup, Runnable body) {
        for (int i = 0; i < warmup; i++) {
            body.run();
        }
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long start = System.nanoTime();
            body.run();
            t[i] = (System.nanoTime() - start) / 1e9;
        }
        Arrays.sort(t);
        return t[reps / 2];
    }

    static List<int[]> readIds(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new IOException(file + " is missing; it holds the benchmark's token ids (tools/reference/)");
        }
        List<int[]> out = new ArrayList<>();
        for (JsonNode s : JSON.readTree(file.toFile()).get("sequences")) {
            int[] seq = new int[s.size()];
            for (int i = 0; i < seq.length; i++) {
                seq[i] = s.get(i).asInt();
            }
            out.add(seq);
        }
        return out;
    }

    private static String cpuName() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux: fall through
        }
        return System.getProperty("os.arch");
    }

    /** The random model has no tokenizer; the benchmark feeds token ids. */
    private record NoTokenizer(int vocabSize) implements Tokenizer {
        @Override
        public int[] encode(String text, boolean addBos) {
            throw new UnsupportedOperationException("the benchmark's random model has no tokenizer");
        }

        @Override
        public String decode(int[] tokens) {
            return "";
        }

        @Override
        public String tokenText(int token) {
            return "";
        }

        @Override
        public int bosToken() {
            return -1;
        }

        @Override
        public int[] stopTokens() {
            return new int[0];
        }

        @Override
        public StreamingDecoder streamingDecoder() {
            return new StreamingDecoder() {
                @Override
                public String push(int token) {
                    return "";
                }

                @Override
                public String finish() {
                    return "";
                }
            };
        }
    }
}
