package io.github.sae4j.core.bench;

import io.github.sae4j.api.activation.ActivationBatch;
import io.github.sae4j.api.activation.ActivationReadOptions;
import io.github.sae4j.api.activation.ActivationStream;
import io.github.sae4j.api.model.HookPoint;
import io.github.sae4j.api.model.LanguageModel;
import io.github.sae4j.api.model.ResidualHook;
import io.github.sae4j.api.model.ResidualSlice;
import io.github.sae4j.api.text.Sentence;
import io.github.sae4j.api.text.SentenceSource;
import io.github.sae4j.core.Plugins;
import io.github.sae4j.core.capture.ActivationCapture;
import io.github.sae4j.core.capture.CaptureListener;
import io.github.sae4j.core.capture.CaptureOptions;
import io.github.sae4j.core.capture.ModelFingerprint;
import io.github.sae4j.core.io.AtomicFiles;
import io.github.sae4j.core.store.ActivationDataset;
import io.github.sae4j.core.store.ActivationShardReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Capture throughput against the model forward alone, and shard reading against a raw read of the same bytes, in
 * one run (the baselines measured beside what they judge, rounds interleaved, medians reported).
 *
 * <ul>
 *   <li>forward only: the sentences tokenized and packed exactly as capture packs them, run through the model with a
 *   hook that copies the captured rows out (what capture does before handing rows to the writer);</li>
 *   <li>capture: {@link ActivationCapture} into a fresh directory, writer thread and all;</li>
 *   <li>shard read: every record batch of the captured dataset through {@link ActivationShardReader#readBatch}
 *   (provenance and values, bfloat16 widened to float), and every row through {@link ActivationDataset}'s
 *   sequential stream (which adds the prefetching window the shuffled reader needs), against reading the same files
 *   with a plain {@link FileChannel} loop. Each is repeated three times per round, after a warm-up read.</li>
 * </ul>
 *
 * <pre>scripts/bench-capture.sh [--model DIR] [--sentences PATH] [--hook blocks.L.hook_resid_post]
 *     [--max-sentences N] [--rounds N] [--threads N]</pre>
 */
public final class CaptureBenchmark {

    private CaptureBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path modelPath = Path.of("models/tiny-llama3");
        Path sentencesPath = Path.of("data/demo-corpus");
        String hook = null;
        long maxSentences = 4000;
        int rounds = 3;
        String threads = String.valueOf(Runtime.getRuntime().availableProcessors());
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--model" -> modelPath = Path.of(args[++i]);
                case "--sentences" -> sentencesPath = Path.of(args[++i]);
                case "--hook" -> hook = args[++i];
                case "--max-sentences" -> maxSentences = Long.parseLong(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--threads" -> threads = args[++i];
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + "; use --model DIR "
                        + "--sentences PATH --hook NAME --max-sentences N --rounds N --threads N");
            }
        }
        LanguageModel model = open(modelPath, threads);
        Path tmp = Files.createTempDirectory("sae4j-capture-bench");
        try (model; SentenceSource sentences = Plugins.openSentences(sentencesPath, Map.of())) {
            HookPoint point = HookPoint.parse(hook != null ? hook
                    : "blocks." + (model.info().layers() * 2 / 3) + ".hook_resid_post");
            CaptureOptions options = CaptureOptions.defaults().withMaxSentences(maxSentences).withShardBytes(64L << 20);
            ModelFingerprint fingerprint = ModelFingerprint.of(modelPath);
            System.out.printf(Locale.ROOT, "capture benchmark: %s, %s, %s, first %d sentences of %s, %s threads%n",
                    model.info().name(), point, options.dtype().wireName(), maxSentences, sentencesPath, threads);

            double[] forward = new double[rounds];
            double[] capture = new double[rounds];
            double[] read = new double[rounds];
            double[] stream = new double[rounds];
            double[] raw = new double[rounds];
            long tokens = 0;
            long bytes = 0;
            long rows = 0;
            for (int r = 0; r < rounds; r++) {
                long t0 = System.nanoTime();
                tokens = forwardOnly(model, sentences, point, options);
                forward[r] = (System.nanoTime() - t0) / 1e9;

                Path out = tmp.resolve("round-" + r);
                t0 = System.nanoTime();
                var result = ActivationCapture.run(new ActivationCapture.Request(model, modelPath.toString(),
                        fingerprint, sentences, sentencesPath.toString(), List.of(point), options, out),
                        CaptureListener.NONE);
                capture[r] = (System.nanoTime() - t0) / 1e9;
                Path dataset = result.datasets().get(point);

                int d = model.info().dModel();
                rawRead(dataset);
                shardRead(dataset, d);
                datasetRead(dataset, d);
                raw[r] = Double.MAX_VALUE;
                read[r] = Double.MAX_VALUE;
                stream[r] = Double.MAX_VALUE;
                for (int rep = 0; rep < 3; rep++) {
                    t0 = System.nanoTime();
                    bytes = rawRead(dataset);
                    raw[r] = Math.min(raw[r], (System.nanoTime() - t0) / 1e9);
                    t0 = System.nanoTime();
                    rows = shardRead(dataset, d);
                    read[r] = Math.min(read[r], (System.nanoTime() - t0) / 1e9);
                    t0 = System.nanoTime();
                    datasetRead(dataset, d);
                    stream[r] = Math.min(stream[r], (System.nanoTime() - t0) / 1e9);
                }
                AtomicFiles.deleteRecursively(out);
            }
            double f = median(forward);
            double c = median(capture);
            double rr = median(raw);
            double dr = median(read);
            double ds = median(stream);
            System.out.printf(Locale.ROOT, "  forward only   %8.3f s  %10.0f tokens/s%n", f, tokens / f);
            System.out.printf(Locale.ROOT, "  capture        %8.3f s  %10.0f tokens/s   writer overhead %.1f%% "
                    + "(target <= 10%%)%n", c, tokens / c, 100 * (c - f) / f);
            System.out.printf(Locale.ROOT, "  raw file read  %8.3f s  %10.1f MB/s (%d bytes, page cache)%n", rr,
                    bytes / rr / 1e6, bytes);
            System.out.printf(Locale.ROOT, "  shard read     %8.3f s  %10.1f MB/s  %.0f rows/s   %.0f%% of raw "
                    + "(target >= 50%%)%n", dr, bytes / dr / 1e6, rows / dr, 100 * rr / dr);
            System.out.printf(Locale.ROOT, "  dataset stream %8.3f s  %10.1f MB/s  %.0f rows/s   %.0f%% of raw%n", ds,
                    bytes / ds / 1e6, rows / ds, 100 * rr / ds);
            System.out.println("  rounds (s): forward " + Arrays.toString(forward) + " capture " + Arrays.toString(capture)
                    + " raw " + Arrays.toString(raw) + " shard " + Arrays.toString(read) + " stream "
                    + Arrays.toString(stream));
        } finally {
            AtomicFiles.deleteRecursively(tmp);
        }
    }

    private static LanguageModel open(Path modelPath, String threads) throws IOException {
        return Plugins.openModel(modelPath, Map.of("threads", threads));
    }

    /** Tokenizes and packs like capture, runs the forward with a hook that copies the rows out; returns tokens fed. */
    static long forwardOnly(LanguageModel model, SentenceSource sentences, HookPoint point, CaptureOptions options) {
        int d = model.info().dModel();
        float[] rows = new float[options.forwardTokens() * d];
        ResidualHook copy = new ResidualHook() {
            int at;

            @Override
            public HookPoint point() {
                return point;
            }

            @Override
            public void onResidual(ResidualSlice s) {
                if (s.sequence() == 0) {
                    at = 0;
                }
                System.arraycopy(s.data(), s.offset(), rows, at, s.positions() * d);
                at += s.positions() * d;
            }
        };
        long fed = 0;
        long read = 0;
        List<int[]> batch = new ArrayList<>();
        int inBatch = 0;
        for (Sentence sentence : (Iterable<Sentence>) sentences::iterator) {
            if (read++ >= options.maxSentences()) {
                break;
            }
            if (sentence.text().isBlank()) {
                continue;
            }
            int[] ids = model.tokenizer().encode(sentence.text(), options.addBos());
            if (ids.length > options.maxTokens()) {
                ids = Arrays.copyOf(ids, options.maxTokens());
            }
            if (ids.length == 0) {
                continue;
            }
            if (inBatch + ids.length > options.forwardTokens()) {
                model.forward(batch, List.of(copy), null);
                batch = new ArrayList<>();
                inBatch = 0;
            }
            batch.add(ids);
            inBatch += ids.length;
            fed += ids.length;
        }
        if (!batch.isEmpty()) {
            model.forward(batch, List.of(copy), null);
        }
        return fed;
    }

    static long rawRead(Path dataset) throws IOException {
        long total = 0;
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
        try (var files = Files.list(dataset)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".arrow")).sorted().toList()) {
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                    for (int n; (n = ch.read(buf.clear())) > 0; ) {
                        total += n;
                    }
                }
            }
        }
        return total;
    }

    /** Every record batch of every shard, in order, through the shard reader; returns the rows. */
    static long shardRead(Path dataset, int dModel) throws IOException {
        long rows = 0;
        try (ActivationDataset d = ActivationDataset.open(dataset)) {
            int capacity = 0;
            for (Path shard : d.shards()) {
                try (ActivationShardReader r = ActivationShardReader.open(shard)) {
                    for (int b = 0; b < r.batchCount(); b++) {
                        capacity = Math.max(capacity, r.batchRows(b));
                    }
                }
            }
            float[] values = new float[capacity * dModel];
            long[] ids = new long[capacity];
            int[] positions = new int[capacity];
            int[] tokens = new int[capacity];
            for (Path shard : d.shards()) {
                try (ActivationShardReader r = ActivationShardReader.open(shard)) {
                    for (int b = 0; b < r.batchCount(); b++) {
                        r.readBatch(b, values, ids, positions, tokens, 0);
                        rows += r.batchRows(b);
                    }
                }
            }
        }
        return rows;
    }

    static long datasetRead(Path dataset, int dModel) throws IOException {
        long rows = 0;
        double sink = 0;
        try (ActivationDataset d = ActivationDataset.open(dataset);
             ActivationStream s = d.open(ActivationReadOptions.sequential())) {
            ActivationBatch b = new ActivationBatch(4096, dModel);
            while (s.next(b)) {
                rows += b.rows();
                sink += b.values()[0];
            }
        }
        if (sink == 0.123456789) {
            System.out.print("");
        }
        return rows;
    }

    private static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
