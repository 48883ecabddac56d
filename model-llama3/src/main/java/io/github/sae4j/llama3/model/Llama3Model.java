package io.github.sae4j.llama3.model;

import io.github.sae4j.api.backend.AttentionLayout;
import io.github.sae4j.api.backend.DType;
import io.github.sae4j.api.backend.Device;
import io.github.sae4j.api.backend.Tensor;
import io.github.sae4j.api.backend.TensorOps;
import io.github.sae4j.api.backend.WeightMatrix;
import io.github.sae4j.api.model.BatchGenerationListener;
import io.github.sae4j.api.model.GenerationListener;
import io.github.sae4j.api.model.GenerationOptions;
import io.github.sae4j.api.model.GenerationResult;
import io.github.sae4j.api.model.HookPoint;
import io.github.sae4j.api.model.LanguageModel;
import io.github.sae4j.api.model.LogitsConsumer;
import io.github.sae4j.api.model.ModelInfo;
import io.github.sae4j.api.model.ResidualHook;
import io.github.sae4j.api.model.ResidualSlice;
import io.github.sae4j.api.model.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Llama 3.x on a compute {@link Device}: a batched forward pass over packed sequences (no padding, no attention
 * across sequences), hooks at every TransformerLens hook point, and KV-cached batched generation. Every
 * computation goes through the device's {@link TensorOps}, so a faster backend makes the model faster.
 * <p>Not thread-safe: one forward or generation at a time.
 */
public final class Llama3Model implements LanguageModel {

    /** Rows (tokens) per forward chunk unless the caller says otherwise: bounds activation memory. */
    public static final int DEFAULT_CHUNK_ROWS = 2048;
    /** Logit floats computed at once (rows x vocab). */
    private static final int LOGIT_FLOATS = 1 << 23;

    private final LlamaConfig config;
    private final LlamaWeights weights;
    private final Tokenizer tokenizer;
    private final Device device;
    private final TensorOps ops;
    private final int chunkRows;
    private final double[] inverseFrequencies;
    private final List<AutoCloseable> owned;
    private final Tensor finalNorm;
    private final Tensor[] attentionNorms;
    private final Tensor[] mlpNorms;
    private Tensor cos;
    private Tensor sin;
    private int ropeRows;
    private boolean closed;

    /**
     * @param owned closed with the model, after its tensors (the model files, the backend)
     */
    public Llama3Model(LlamaConfig config, LlamaWeights weights, double[] inverseFrequencies, Tokenizer tokenizer,
                       Device device, int chunkRows, List<? extends AutoCloseable> owned) {
        this.config = Objects.requireNonNull(config, "config");
        this.weights = Objects.requireNonNull(weights, "weights");
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.device = Objects.requireNonNull(device, "device");
        this.ops = device.ops();
        if (chunkRows < 1) {
            throw new IllegalArgumentException("chunk rows must be positive, got " + chunkRows);
        }
        if (inverseFrequencies.length != config.headDim() / 2) {
            throw new IllegalArgumentException("need " + config.headDim() / 2 + " RoPE frequencies, got "
                    + inverseFrequencies.length);
        }
        this.chunkRows = chunkRows;
        this.inverseFrequencies = inverseFrequencies.clone();
        this.owned = List.copyOf(owned);
        this.finalNorm = device.upload(weights.finalNorm(), config.hidden());
        this.attentionNorms = new Tensor[config.layers()];
        this.mlpNorms = new Tensor[config.layers()];
        for (int l = 0; l < config.layers(); l++) {
            attentionNorms[l] = device.upload(weights.layers().get(l).attentionNorm(), config.hidden());
            mlpNorms[l] = device.upload(weights.layers().get(l).mlpNorm(), config.hidden());
        }
        ensureRope(Math.min(config.maxPositions(), 256));
    }

    public LlamaConfig config() {
        return config;
    }

    public LlamaWeights weights() {
        return weights;
    }

    public Device device() {
        return device;
    }

    @Override
    public ModelInfo info() {
        return new ModelInfo(config.name(), "llama", config.hidden(), config.layers(), config.vocabSize(),
                config.maxPositions());
    }

    @Override
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    // ------------------------------------------------------------------ forward

    @Override
    public void forward(List<int[]> sequences, List<ResidualHook> hooks, LogitsConsumer logits) {
        checkOpen();
        Hooks h = new Hooks(hooks, config.layers());
        int blocks = logits != null ? config.layers() : h.blocksNeeded();
        if (blocks < 0) {
            return; // nothing asked for
        }
        for (int s = 0; s < sequences.size(); s++) {
            checkTokens(sequences.get(s), "sequence " + s);
        }
        int s = 0;
        while (s < sequences.size()) {
            int end = s;
            int rows = 0;
            while (end < sequences.size() && (end == s || rows + sequences.get(end).length <= chunkRows)) {
                rows += sequences.get(end).length;
                end++;
            }
            Batch batch = new Batch(end - s);
            for (int i = s; i < end; i++) {
                batch.add(i, sequences.get(i), 0, sequences.get(i), i - s);
            }
            try (Tensor x = runBlocks(batch, null, h, blocks)) {
                if (logits != null) {
                    emitLogits(x, batch, false, logits);
                }
            }
            s = end;
        }
    }

    /** Rows of one forward step: the tokens of several sequences packed one after another. */
    private static final class Batch {
        final int[] sequence;      // index reported to hooks and logits consumers
        final int[] start;         // first row
        final int[] count;         // rows
        final int[] firstPosition; // position of the first row within its sequence
        final int[][] tokensSoFar; // the whole sequence up to and including these rows, for hooks
        final int[] slot;          // KV cache slot
        int[] tokens = new int[16];
        int[] positions = new int[16];
        int n;
        int rows;

        Batch(int capacity) {
            sequence = new int[capacity];
            start = new int[capacity];
            count = new int[capacity];
            firstPosition = new int[capacity];
            tokensSoFar = new int[capacity][];
            slot = new int[capacity];
        }

        void add(int seq, int[] newTokens, int first, int[] allTokens, int cacheSlot) {
            sequence[n] = seq;
            start[n] = rows;
            count[n] = newTokens.length;
            firstPosition[n] = first;
            tokensSoFar[n] = allTokens;
            slot[n] = cacheSlot;
            n++;
            if (rows + newTokens.length > tokens.length) {
                int cap = Math.max(tokens.length * 2, rows + newTokens.length);
                tokens = Arrays.copyOf(tokens, cap);
                positions = Arrays.copyOf(positions, cap);
            }
            for (int i = 0; i < newTokens.length; i++) {
                tokens[rows + i] = newTokens[i];
                positions[rows + i] = first + i;
            }
            rows += newTokens.length;
        }

        int maxPosition() {
            int m = 0;
            for (int i = 0; i < n; i++) {
                m = Math.max(m, firstPosition[i] + count[i]);
            }
            return m;
        }
    }

    /** Hooks grouped by site and layer, each list in the caller's order. */
    private static final class Hooks {
        final Map<HookPoint.Site, List<ResidualHook>[]> bySite = new EnumMap<>(HookPoint.Site.class);
        int lastBlock = -1;

        @SuppressWarnings("unchecked")
        Hooks(List<ResidualHook> hooks, int layers) {
            for (ResidualHook hook : hooks == null ? List.<ResidualHook>of() : hooks) {
                HookPoint p = hook.point();
                if (p.layer() >= layers) {
                    throw new IllegalArgumentException("hook " + p + " names layer " + p.layer() + " but the model has "
                            + layers + " layers (0.." + (layers - 1) + ")");
                }
                List<ResidualHook>[] perLayer = bySite.computeIfAbsent(p.site(), k -> new List[layers]);
                if (perLayer[p.layer()] == null) {
                    perLayer[p.layer()] = new ArrayList<>();
                }
                perLayer[p.layer()].add(hook);
                lastBlock = Math.max(lastBlock, p.site() == HookPoint.Site.RESID_PRE ? p.layer() - 1 : p.layer());
            }
            if (!bySite.isEmpty()) {
                lastBlock = Math.max(lastBlock, -1);
            }
        }

        /** How many blocks must run for the hooks to see their tensors; -1 if there are no hooks. */
        int blocksNeeded() {
            return bySite.isEmpty() ? -1 : lastBlock + 1;
        }

        List<ResidualHook> at(HookPoint.Site site, int layer) {
            List<ResidualHook>[] perLayer = bySite.get(site);
            return perLayer == null ? null : perLayer[layer];
        }
    }

    /** Runs the embedding and the first {@code blocks} blocks; returns the residual stream (the caller closes it). */
    private Tensor runBlocks(Batch b, KvCache cache, Hooks hooks, int blocks) {
        int rows = b.rows;
        int d = config.hidden();
        ensureRope(b.maxPosition());
        int[] tokens = Arrays.copyOf(b.tokens, rows);
        int[] positions = Arrays.copyOf(b.positions, rows);
        Tensor x = device.allocate(DType.F32, rows, d);
        boolean ok = false;
        try (Tensor h = device.allocate(DType.F32, rows, d);
             Tensor q = device.allocate(DType.F32, rows, config.qDim());
             Tensor k = device.allocate(DType.F32, rows, config.kvDim());
             Tensor v = device.allocate(DType.F32, rows, config.kvDim());
             Tensor attention = device.allocate(DType.F32, rows, config.qDim());
             Tensor sub = device.allocate(DType.F32, rows, d);
             Tensor gate = device.allocate(DType.F32, rows, config.intermediate());
             Tensor up = device.allocate(DType.F32, rows, config.intermediate())) {
            ops.embedding(weights.embedding(), tokens, x);
            float[] host = null;
            for (int l = 0; l < config.layers(); l++) {
                host = hook(hooks, HookPoint.Site.RESID_PRE, l, x, b, host);
                if (l >= blocks) {
                    break;
                }
                LlamaWeights.Layer w = weights.layers().get(l);
                ops.rmsNorm(x, attentionNorms[l], config.rmsNormEps(), h);
                ops.linear(h, w.q(), q);
                ops.linear(h, w.k(), k);
                ops.linear(h, w.v(), v);
                ops.rotaryEmbedding(q, config.headDim(), positions, cos, sin, weights.interleavedRope());
                ops.rotaryEmbedding(k, config.headDim(), positions, cos, sin, weights.interleavedRope());
                if (cache == null) {
                    ops.causalAttention(q, k, v, AttentionLayout.packed(config.heads(), config.kvHeads(),
                            config.headDim(), Arrays.copyOf(b.start, b.n), Arrays.copyOf(b.count, b.n)), attention);
                } else {
                    int[] keyRow = new int[b.n];
                    for (int i = 0; i < b.n; i++) {
                        keyRow[i] = cache.firstRow(b.slot[i]);
                        ops.copyRows(k, b.start[i], cache.keys(l), keyRow[i] + b.firstPosition[i], b.count[i]);
                        ops.copyRows(v, b.start[i], cache.values(l), keyRow[i] + b.firstPosition[i], b.count[i]);
                    }
                    ops.causalAttention(q, cache.keys(l), cache.values(l), new AttentionLayout(config.heads(),
                            config.kvHeads(), config.headDim(), Arrays.copyOf(b.start, b.n),
                            Arrays.copyOf(b.count, b.n), keyRow, Arrays.copyOf(b.firstPosition, b.n)), attention);
                }
                ops.linear(attention, w.o(), sub);
                host = hook(hooks, HookPoint.Site.ATTN_OUT, l, sub, b, host);
                ops.axpby(1f, sub, 1f, x);
                host = hook(hooks, HookPoint.Site.RESID_MID, l, x, b, host);
                ops.rmsNorm(x, mlpNorms[l], config.rmsNormEps(), h);
                ops.linear(h, w.gate(), gate);
                ops.linear(h, w.up(), up);
                ops.siluMul(gate, up, gate);
                ops.linear(gate, w.down(), sub);
                host = hook(hooks, HookPoint.Site.MLP_OUT, l, sub, b, host);
                ops.axpby(1f, sub, 1f, x);
                host = hook(hooks, HookPoint.Site.RESID_POST, l, x, b, host);
            }
            ok = true;
            return x;
        } finally {
            if (!ok) {
                x.close();
            }
        }
    }

    /** Runs the hooks at one point on a host copy of {@code t}, then writes the (possibly edited) copy back. */
    private float[] hook(Hooks hooks, HookPoint.Site site, int layer, Tensor t, Batch b, float[] host) {
        if (hooks == null) {
            return host;
        }
        List<ResidualHook> list = hooks.at(site, layer);
        if (list == null) {
            return host;
        }
        int d = config.hidden();
        int size = b.rows * d;
        if (host == null || host.length < size) {
            host = new float[size];
        }
        t.copyTo(host, 0);
        for (int i = 0; i < b.n; i++) {
            ResidualSlice slice = new ResidualSlice(b.sequence[i], b.tokensSoFar[i], b.firstPosition[i], host,
                    b.start[i] * d, b.count[i], d);
            for (ResidualHook hook : list) {
                hook.onResidual(slice);
            }
        }
        t.copyFrom(host, 0);
        return host;
    }

    /**
     * Final norm and output layer for every row ({@code lastOnly == false}) or the last row of each sequence,
     * computed a few rows at a time so that rows x vocab stays bounded.
     */
    private void emitLogits(Tensor x, Batch b, boolean lastOnly, LogitsConsumer consumer) {
        int d = config.hidden();
        int vocab = config.vocabSize();
        int[] rowList;
        int[] seqOf;
        int[] posOf;
        if (lastOnly) {
            rowList = new int[b.n];
            seqOf = new int[b.n];
            posOf = new int[b.n];
            for (int i = 0; i < b.n; i++) {
                rowList[i] = b.start[i] + b.count[i] - 1;
                seqOf[i] = b.sequence[i];
                posOf[i] = b.firstPosition[i] + b.count[i] - 1;
            }
        } else {
            rowList = new int[b.rows];
            seqOf = new int[b.rows];
            posOf = new int[b.rows];
            for (int i = 0; i < b.n; i++) {
                for (int j = 0; j < b.count[i]; j++) {
                    rowList[b.start[i] + j] = b.start[i] + j;
                    seqOf[b.start[i] + j] = b.sequence[i];
                    posOf[b.start[i] + j] = b.firstPosition[i] + j;
                }
            }
        }
        int per = Math.max(1, Math.min(rowList.length, LOGIT_FLOATS / vocab));
        float[] host = new float[per * vocab];
        float[] row = new float[vocab];
        try (Tensor normed = device.allocate(DType.F32, b.rows, d)) {
            ops.rmsNorm(x, finalNorm, config.rmsNormEps(), normed);
            for (int from = 0; from < rowList.length; from += per) {
                int n = Math.min(per, rowList.length - from);
                try (Tensor in = device.allocate(DType.F32, n, d); Tensor out = device.allocate(DType.F32, n, vocab)) {
                    int j = 0;
                    while (j < n) { // copy runs of consecutive rows at once
                        int run = 1;
                        while (j + run < n && rowList[from + j + run] == rowList[from + j] + run) {
                            run++;
                        }
                        ops.copyRows(normed, rowList[from + j], in, j, run);
                        j += run;
                    }
                    ops.linear(in, weights.output(), out);
                    out.copyTo(host, 0);
                }
                for (int j = 0; j < n; j++) {
                    System.arraycopy(host, j * vocab, row, 0, vocab);
                    consumer.accept(seqOf[from + j], posOf[from + j], row);
                }
            }
        }
    }

    // ------------------------------------------------------------------ generation

    @Override
    public GenerationResult generate(int[] prompt, GenerationOptions options, List<ResidualHook> hooks,
                                     GenerationListener listener) {
        return generate(List.of(prompt), options, hooks,
                listener == null ? null : (seq, token, text) -> listener.onToken(token, text)).get(0);
    }

    @Override
    public List<GenerationResult> generate(List<int[]> prompts, GenerationOptions options, List<ResidualHook> hooks,
                                           BatchGenerationListener listener) {
        checkOpen();
        int n = prompts.size();
        int longest = 0;
        for (int s = 0; s < n; s++) {
            int[] p = prompts.get(s);
            if (p.length == 0) {
                throw new IllegalArgumentException("prompt " + s + " is empty; start it with the BOS token ("
                        + tokenizer.bosToken() + ") if there is no text");
            }
            checkTokens(p, "prompt " + s);
            if (p.length >= config.maxPositions()) {
                throw new IllegalArgumentException("prompt " + s + " has " + p.length + " tokens; the model's context is "
                        + config.maxPositions() + " tokens, which leaves no room to generate");
            }
            longest = Math.max(longest, p.length);
        }
        GenerationResult[] results = new GenerationResult[n];
        if (options.maxNewTokens() == 0) {
            for (int s = 0; s < n; s++) {
                results[s] = new GenerationResult(new int[0], "", GenerationResult.StopReason.LENGTH);
            }
            return List.of(results);
        }
        int[] stops = options.stopTokens() != null ? options.stopTokens() : tokenizer.stopTokens();
        Hooks h = new Hooks(hooks, config.layers());
        int capacity = (int) Math.min(config.maxPositions(), (long) longest + options.maxNewTokens());
        int[][] sequence = new int[n][];
        int[] length = new int[n];
        int[][] generated = new int[n][options.maxNewTokens()];
        int[] produced = new int[n];
        Sampler[] samplers = new Sampler[n];
        Tokenizer.StreamingDecoder[] decoders = new Tokenizer.StreamingDecoder[n];
        for (int s = 0; s < n; s++) {
            sequence[s] = Arrays.copyOf(prompts.get(s), capacity);
            length[s] = prompts.get(s).length;
            samplers[s] = new Sampler(options);
            decoders[s] = tokenizer.streamingDecoder();
        }
        int[] next = new int[n];
        try (KvCache cache = new KvCache(device, config.layers(), n, capacity, config.kvDim())) {
            // Prefill the prompts (in chunks of whole prompts), keeping only each prompt's last logits.
            int s0 = 0;
            while (s0 < n) {
                int end = s0;
                int rows = 0;
                while (end < n && (end == s0 || rows + length[end] <= chunkRows)) {
                    rows += length[end];
                    end++;
                }
                Batch batch = new Batch(end - s0);
                for (int s = s0; s < end; s++) {
                    batch.add(s, prompts.get(s), 0, Arrays.copyOf(sequence[s], length[s]), s);
                }
                try (Tensor x = runBlocks(batch, cache, h, config.layers())) {
                    emitLogits(x, batch, true, (seq, pos, logits) -> next[seq] = samplers[seq].next(logits));
                }
                s0 = end;
            }
            boolean[] active = new boolean[n];
            Arrays.fill(active, true);
            while (true) {
                // Accept the sampled tokens; decide who goes on.
                int alive = 0;
                for (int s = 0; s < n; s++) {
                    if (!active[s]) {
                        continue;
                    }
                    int t = next[s];
                    GenerationResult.StopReason reason = null;
                    if (contains(stops, t)) {
                        reason = GenerationResult.StopReason.STOP_TOKEN;
                    } else {
                        generated[s][produced[s]++] = t;
                        if (listener != null) {
                            listener.onToken(s, t, decoders[s].push(t));
                        }
                        if (produced[s] == options.maxNewTokens()) {
                            reason = GenerationResult.StopReason.LENGTH;
                        } else if (length[s] >= config.maxPositions()) {
                            reason = GenerationResult.StopReason.CONTEXT_FULL;
                        } else {
                            sequence[s][length[s]++] = t;
                        }
                    }
                    if (reason != null) {
                        active[s] = false;
                        int[] tokens = Arrays.copyOf(generated[s], produced[s]);
                        results[s] = new GenerationResult(tokens, tokenizer.decode(tokens), reason);
                    } else {
                        alive++;
                    }
                }
                if (alive == 0) {
                    break;
                }
                Batch step = new Batch(alive);
                for (int s = 0; s < n; s++) {
                    if (active[s]) {
                        int p = length[s] - 1;
                        step.add(s, new int[] {sequence[s][p]}, p, Arrays.copyOf(sequence[s], length[s]), s);
                    }
                }
                try (Tensor x = runBlocks(step, cache, h, config.layers())) {
                    emitLogits(x, step, true, (seq, pos, logits) -> next[seq] = samplers[seq].next(logits));
                }
            }
        }
        return List.of(results);
    }

    private static boolean contains(int[] values, int v) {
        for (int x : values) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }

    // ------------------------------------------------------------------ plumbing

    private void checkTokens(int[] tokens, String what) {
        if (tokens.length > config.maxPositions()) {
            throw new IllegalArgumentException(what + " has " + tokens.length + " tokens; the model's context is "
                    + config.maxPositions() + " tokens (max_position_embeddings); shorten or split it");
        }
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= config.vocabSize()) {
                throw new IllegalArgumentException(what + ": token " + tokens[i] + " at position " + i
                        + " is outside the vocabulary (0.." + (config.vocabSize() - 1) + ")");
            }
        }
    }

    private void ensureRope(int positions) {
        if (positions <= ropeRows) {
            return;
        }
        int rows = ropeRows == 0 ? positions : Math.min(config.maxPositions(), Math.max(positions, ropeRows * 2));
        float[][] tables = RopeFrequencies.cosSin(inverseFrequencies, rows);
        Tensor c = device.upload(tables[0], rows, config.headDim() / 2);
        Tensor s = device.upload(tables[1], rows, config.headDim() / 2);
        if (cos != null) {
            cos.close();
            sin.close();
        }
        cos = c;
        sin = s;
        ropeRows = rows;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the model " + config.name() + " is closed");
        }
    }

    /**
     * Bytes of weights one decode step reads: every block matrix and the output layer (the embedding is only
     * gathered, one row per token). Divided into the memory bandwidth, it bounds single-sequence decode speed.
     */
    public long weightBytesPerToken() {
        long bytes = weights.output().data().byteSize();
        for (LlamaWeights.Layer l : weights.layers()) {
            for (WeightMatrix w : List.of(l.q(), l.k(), l.v(), l.o(), l.gate(), l.up(), l.down())) {
                bytes += w.data().byteSize();
            }
        }
        return bytes;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        finalNorm.close();
        for (int l = 0; l < config.layers(); l++) {
            attentionNorms[l].close();
            mlpNorms[l].close();
        }
        if (cos != null) {
            cos.close();
            sin.close();
        }
        RuntimeException failure = null;
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = new IllegalStateException("closing " + config.name() + ": " + e.getMessage(), e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return config + " on " + device.description();
    }
}
