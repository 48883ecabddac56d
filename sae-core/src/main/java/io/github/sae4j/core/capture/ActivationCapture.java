package io.github.sae4j.core.capture;

import io.github.sae4j.api.model.HookPoint;
import io.github.sae4j.api.model.LanguageModel;
import io.github.sae4j.api.model.ResidualHook;
import io.github.sae4j.api.model.ResidualSlice;
import io.github.sae4j.api.model.Tokenizer;
import io.github.sae4j.api.text.Sentence;
import io.github.sae4j.api.text.SentenceSource;
import io.github.sae4j.core.store.ActivationDatasetWriter;
import io.github.sae4j.core.store.DatasetHeader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Runs a language model over sentences and stores the residual stream at one or more hook points as activation
 * datasets, one directory per hook point under the output directory, beside a {@code capture.json} manifest
 * (docs/formats.md, "Captures").
 *
 * <p>Sentences are tokenized (no BOS by default), cut to the token limit and packed end to end into forwards of
 * up to {@code forwardTokens} tokens (no padding: the model keeps packed sequences apart). The forward stops after
 * the last hooked block. A writer thread converts and writes the previous forward's rows while the model computes
 * the next; a forward waits only when the writer is {@code queuedForwards} behind.
 *
 * <p>Every shard ends at a sentence boundary and records the ids of its first and last sentence. After a crash or
 * {@code kill -9}, running the same capture again continues after the last sentence whose shard was committed in
 * every hook point's dataset: shards past it are deleted, the sentences before it are skipped, nothing is written
 * twice and nothing is missed. Sentence ids must increase in source order.
 */
public final class ActivationCapture {

    /** What to capture: the model (already open), its provenance, the sentences, the hook points and where to write. */
    public record Request(LanguageModel model, String modelPath, ModelFingerprint fingerprint, SentenceSource sentences,
                          String sentencesOrigin, List<HookPoint> hooks, CaptureOptions options, Path out) {

        public Request {
            if (hooks.isEmpty()) {
                throw new IllegalArgumentException("capture needs at least one hook point, for example "
                        + "blocks.23.hook_resid_post");
            }
            if (hooks.stream().distinct().count() != hooks.size()) {
                throw new IllegalArgumentException("hook points repeat: " + hooks);
            }
            int layers = model.info().layers();
            for (HookPoint h : hooks) {
                if (h.layer() >= layers) {
                    throw new IllegalArgumentException(h + " is past the model's last block: " + model.info().name()
                            + " has blocks 0.." + (layers - 1));
                }
            }
            hooks = List.copyOf(hooks);
        }
    }

    /**
     * What a finished capture did.
     *
     * @param progress     totals over all runs of this capture
     * @param resumedAfter the sentence id this run continued after, or -1 for a fresh start
     * @param datasets     the dataset directory of each hook point
     * @param seconds      this run's wall time
     */
    public record Result(CaptureProgress progress, long resumedAfter, Map<HookPoint, Path> datasets, double seconds) {
    }

    private ActivationCapture() {
    }

    /** The directory of {@code hook}'s dataset under a capture's output directory. */
    public static Path datasetDirectory(Path out, HookPoint hook) {
        return out.resolve(hook.toString());
    }

    /**
     * Runs (or continues) a capture.
     *
     * @throws IOException if the output directory holds another capture or something else, or a shard cannot be
     *                     written (committed shards stay; running again continues)
     */
    public static Result run(Request request, CaptureListener listener) throws IOException {
        long start = System.nanoTime();
        CaptureManifest manifest = CaptureManifest.of(request);
        Path out = request.out();
        CaptureProgress resumedProgress = prepareDirectory(out, manifest);
        int dModel = request.model().info().dModel();
        CaptureOptions options = request.options();

        // Where every hook point's dataset has committed shards up to: the sentence to continue after.
        long resumeAfter = resumedProgress.lastSentenceId();
        List<ActivationDatasetWriter> writers = new ArrayList<>();
        Map<HookPoint, Path> datasets = new LinkedHashMap<>();
        try {
            resumeAfter = alignDatasets(request, resumeAfter);
            if (resumeAfter < 0) {
                resumedProgress = CaptureProgress.NONE;
            }
            for (HookPoint hook : request.hooks()) {
                Path dir = datasetDirectory(out, hook);
                datasets.put(hook, dir);
                writers.add(ActivationDatasetWriter.resume(dir, header(request, hook, dModel), options.rowsPerShard(dModel),
                        options.rowsPerBatch()));
            }
            if (resumeAfter >= 0) {
                OptionalLong committed = writers.getFirst().lastCommittedSentenceId();
                if (committed.isEmpty() || committed.getAsLong() != resumeAfter) {
                    throw new IOException("the datasets under " + out + " end at sentence " + committed + " but "
                            + CaptureManifest.FILE + " says " + resumeAfter + "; capture again into an empty directory");
                }
            }
            Pipeline pipeline = new Pipeline(request, writers, manifest, resumedProgress, resumeAfter, listener);
            CaptureProgress done = pipeline.run();
            for (ActivationDatasetWriter w : writers) {
                w.close();
            }
            manifest.complete(done, datasets, out);
            return new Result(done, resumeAfter, datasets, (System.nanoTime() - start) / 1e9);
        } catch (IOException | RuntimeException | Error e) {
            for (ActivationDatasetWriter w : writers) {
                w.abort();
            }
            throw e;
        }
    }

    /** Checks or starts the output directory; returns the progress a previous run recorded. */
    private static CaptureProgress prepareDirectory(Path out, CaptureManifest manifest) throws IOException {
        Path file = out.resolve(CaptureManifest.FILE);
        if (Files.exists(file)) {
            CaptureManifest.Stored old = CaptureManifest.read(file);
            if (old.complete()) {
                throw new IOException(out + " holds a finished capture (" + CaptureManifest.FILE + " says complete); "
                        + "use its datasets, or capture into another directory");
            }
            String difference = manifest.differenceFrom(old.settings());
            if (difference != null) {
                throw new IOException(out + " holds an unfinished capture with other settings (" + difference
                        + "); continue it with the same settings, or capture into another directory");
            }
            return old.progress();
        }
        if (Files.exists(out)) {
            if (!Files.isDirectory(out)) {
                throw new IOException(out + " is a file; capture writes a directory");
            }
            try (var entries = Files.list(out)) {
                if (entries.findAny().isPresent()) {
                    throw new IOException(out + " is not empty and holds no " + CaptureManifest.FILE + "; capture "
                            + "into a new or empty directory");
                }
            }
        }
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw new IOException("cannot create the output directory " + out + ": " + e.getMessage()
                    + "; choose a writable place", e);
        }
        if (!Files.isWritable(out)) {
            throw new IOException("the output directory " + out + " is not writable; choose a writable place");
        }
        manifest.writeProgress(out, CaptureProgress.NONE);
        return CaptureProgress.NONE;
    }

    /**
     * Brings every hook point's dataset to the same last sentence: the smallest last committed sentence over them
     * (a crash can fall between two datasets' commits of the same shard). Returns it, or -1 to start over.
     */
    private static long alignDatasets(Request request, long recorded) throws IOException {
        long common = Long.MAX_VALUE;
        for (HookPoint hook : request.hooks()) {
            Path dir = datasetDirectory(request.out(), hook);
            OptionalLong last = Files.isDirectory(dir) ? ActivationDatasetWriter.lastSentenceIdOf(dir)
                    : OptionalLong.empty();
            common = Math.min(common, last.orElse(-1));
        }
        // The manifest records its counts after the shards commit, so it may lag behind them by a shard; it can
        // never be ahead unless shards were deleted by hand.
        if (recorded > common) {
            throw new IOException(request.out() + ": " + CaptureManifest.FILE + " records sentences up to " + recorded
                    + " but the datasets end at " + common + " (were shards deleted?); capture again into an empty "
                    + "directory");
        }
        for (HookPoint hook : request.hooks()) {
            Path dir = datasetDirectory(request.out(), hook);
            if (Files.isDirectory(dir)) {
                ActivationDatasetWriter.dropShardsAfter(dir, recorded < 0 ? Long.MIN_VALUE : recorded);
            }
        }
        return recorded;
    }

    private static DatasetHeader header(Request request, HookPoint hook, int dModel) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("sentences", request.sentencesOrigin());
        meta.put("model_sha256", request.fingerprint().sha256());
        meta.put("max_tokens", String.valueOf(request.options().maxTokens()));
        meta.put("add_bos", String.valueOf(request.options().addBos()));
        meta.put("drop_first_token", String.valueOf(request.options().dropFirstToken()));
        meta.put("exclude_special_tokens", String.valueOf(request.options().excludeSpecialTokens()));
        return new DatasetHeader(dModel, request.options().dtype(), request.model().info().name(), hook.toString(), meta);
    }

    // ------------------------------------------------------------------------------------------------------------

    /** One forward's worth of sentences and, once the forward ran, their rows at every hook point. */
    private static final class Forward {
        final int capacity;
        final float[][] values;
        final long[] rowSentence;
        final int[] rowPosition;
        final int[] rowToken;
        final List<int[]> tokens = new ArrayList<>();
        /** Per sentence: its first stored row, its stored positions, the counts after it. */
        final List<int[]> stored = new ArrayList<>();
        final List<Integer> firstRow = new ArrayList<>();
        final List<CaptureProgress> after = new ArrayList<>();
        int rows;
        int tokenCount;
        boolean last;

        Forward(int capacity, int hooks, int dModel) {
            this.capacity = capacity;
            this.values = new float[hooks][Math.multiplyExact(capacity, dModel)];
            this.rowSentence = new long[capacity];
            this.rowPosition = new int[capacity];
            this.rowToken = new int[capacity];
        }

        void clear() {
            tokens.clear();
            stored.clear();
            firstRow.clear();
            after.clear();
            rows = 0;
            tokenCount = 0;
            last = false;
        }
    }

    /** The forward loop on the calling thread and the shard writer on its own. */
    private static final class Pipeline {
        private final Request request;
        private final List<ActivationDatasetWriter> writers;
        private final CaptureManifest manifest;
        private final CaptureListener listener;
        private final long resumeAfter;
        private final int dModel;
        private final CaptureOptions options;
        private final BlockingQueue<Forward> free;
        private final BlockingQueue<Forward> full;
        private volatile Throwable writerFailure;
        private CaptureProgress counts;

        Pipeline(Request request, List<ActivationDatasetWriter> writers, CaptureManifest manifest,
                 CaptureProgress resumed, long resumeAfter, CaptureListener listener) {
            this.request = request;
            this.writers = writers;
            this.manifest = manifest;
            this.listener = listener;
            this.resumeAfter = resumeAfter;
            this.dModel = request.model().info().dModel();
            this.options = request.options();
            this.counts = resumed;
            int buffers = options.queuedForwards() + 2;
            this.free = new ArrayBlockingQueue<>(buffers);
            this.full = new ArrayBlockingQueue<>(buffers);
            for (int i = 0; i < buffers; i++) {
                free.add(new Forward(options.forwardTokens(), request.hooks().size(), dModel));
            }
        }

        CaptureProgress run() throws IOException {
            Thread writer = Thread.ofPlatform().name("sae4j-capture-writer").daemon().unstarted(this::writeLoop);
            writer.start();
            long sentencesInRun = 0;
            long tokensInRun = 0;
            try {
                Tokenizer tokenizer = request.model().tokenizer();
                Forward batch = take(free);
                long previousId = Long.MIN_VALUE;
                Iterator<Sentence> it;
                try {
                    it = request.sentences().iterator();
                } catch (UncheckedIOException e) {
                    throw e.getCause();
                }
                while (counts.sentencesRead() < options.maxSentences() && hasNext(it)) {
                    Sentence s = it.next();
                    if (s.id() <= previousId || s.id() < 0) {
                        throw new IOException("sentence ids must be >= 0 and increase in source order so a capture "
                                + "can resume, but " + request.sentencesOrigin() + " gives id " + s.id()
                                + (previousId == Long.MIN_VALUE ? " first" : " after " + previousId));
                    }
                    previousId = s.id();
                    if (s.id() <= resumeAfter) {
                        continue;
                    }
                    sentencesInRun++;
                    int[] ids = s.text().isBlank() ? new int[0] : tokenizer.encode(s.text(), options.addBos());
                    boolean truncated = ids.length > options.maxTokens();
                    if (truncated) {
                        ids = Arrays.copyOf(ids, options.maxTokens());
                    }
                    boolean empty = ids.length == 0 || (options.addBos() && ids.length == 1);
                    counts = new CaptureProgress(counts.sentencesRead() + 1, counts.sentencesEmpty() + (empty ? 1 : 0),
                            counts.sentencesTruncated() + (truncated ? 1 : 0),
                            counts.tokensFed() + (empty ? 0 : ids.length), counts.rowsStored(), s.id());
                    if (empty) {
                        continue;
                    }
                    if (batch.tokenCount + ids.length > batch.capacity) {
                        tokensInRun += batch.tokenCount;
                        runForward(batch);
                        listener.onProgress(counts, sentencesInRun, tokensInRun);
                        batch = take(free);
                    }
                    add(batch, s.id(), ids, tokenizer);
                }
                tokensInRun += batch.tokenCount;
                if (batch.tokenCount > 0) {
                    runForward(batch);
                    batch = take(free);
                }
                batch.last = true;
                batch.after.add(counts);
                put(full, batch);
                writer.join();
                listener.onProgress(counts, sentencesInRun, tokensInRun);
                rethrowWriterFailure();
                return counts;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("capture interrupted", e);
            } finally {
                if (writer.isAlive()) {
                    writer.interrupt();
                    try {
                        writer.join(10_000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        }

        private static boolean hasNext(Iterator<Sentence> it) throws IOException {
            try {
                return it.hasNext();
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
        }

        /** Adds a sentence to the forward, choosing which of its positions become rows. */
        private void add(Forward f, long sentenceId, int[] ids, Tokenizer tokenizer) {
            int[] keep = new int[ids.length];
            int n = 0;
            for (int p = 0; p < ids.length; p++) {
                if (p == 0 && options.dropFirstToken()) {
                    continue;
                }
                if (options.excludeSpecialTokens() && tokenizer.isSpecial(ids[p])) {
                    continue;
                }
                keep[n++] = p;
            }
            keep = Arrays.copyOf(keep, n);
            f.tokens.add(ids);
            f.stored.add(keep);
            f.firstRow.add(f.rows);
            for (int p : keep) {
                f.rowSentence[f.rows] = sentenceId;
                f.rowPosition[f.rows] = p;
                f.rowToken[f.rows] = ids[p];
                f.rows++;
            }
            f.tokenCount += ids.length;
            counts = new CaptureProgress(counts.sentencesRead(), counts.sentencesEmpty(), counts.sentencesTruncated(),
                    counts.tokensFed(), counts.rowsStored() + n, counts.lastSentenceId());
            f.after.add(counts);
        }

        private void runForward(Forward f) throws IOException, InterruptedException {
            rethrowWriterFailure();
            List<ResidualHook> hooks = new ArrayList<>();
            for (int h = 0; h < request.hooks().size(); h++) {
                hooks.add(new RowCollector(request.hooks().get(h), f, f.values[h], dModel));
            }
            request.model().forward(f.tokens, hooks, null);
            put(full, f);
        }

        private void writeLoop() {
            long[] ids = new long[options.maxTokens()];
            int[] positions = new int[options.maxTokens()];
            int[] tokens = new int[options.maxTokens()];
            // Counts after each sentence since the last commit: the manifest records those of the committed point.
            ArrayDeque<CaptureProgress> pending = new ArrayDeque<>();
            long committedBefore = writers.getFirst().committedRows();
            try {
                while (true) {
                    Forward f = full.take();
                    if (f.last) {
                        // Whatever is staged commits when the writers close; the manifest then says complete.
                        return;
                    }
                    for (int i = 0; i < f.tokens.size(); i++) {
                        int[] keep = f.stored.get(i);
                        int first = f.firstRow.get(i);
                        pending.addLast(f.after.get(i));
                        if (keep.length == 0) {
                            continue;
                        }
                        System.arraycopy(f.rowSentence, first, ids, 0, keep.length);
                        System.arraycopy(f.rowPosition, first, positions, 0, keep.length);
                        System.arraycopy(f.rowToken, first, tokens, 0, keep.length);
                        for (int h = 0; h < writers.size(); h++) {
                            writers.get(h).append(f.values[h], first * dModel, keep.length, ids, positions, tokens);
                        }
                        long committedNow = writers.getFirst().committedRows();
                        if (committedNow != committedBefore) {
                            committedBefore = committedNow;
                            recordCommitted(pending);
                        }
                    }
                    f.clear();
                    free.put(f);
                }
            } catch (Throwable t) {
                writerFailure = t;
                // Unblock the forward loop if it waits for a free buffer.
                full.clear();
                free.clear();
                free.offer(new Forward(1, writers.size(), dModel));
            }
        }

        /** Writes the counts as of the last committed sentence into the manifest, so a resumed run starts from them. */
        private void recordCommitted(ArrayDeque<CaptureProgress> pending) throws IOException {
            long last = writers.getFirst().lastCommittedSentenceId().orElseThrow();
            for (ActivationDatasetWriter w : writers) {
                if (w.lastCommittedSentenceId().orElse(Long.MIN_VALUE) != last) {
                    throw new IllegalStateException("hook point datasets committed different sentences: "
                            + w.directory() + " ends at " + w.lastCommittedSentenceId() + ", not " + last);
                }
            }
            CaptureProgress at = null;
            while (!pending.isEmpty() && pending.peekFirst().lastSentenceId() <= last) {
                at = pending.pollFirst();
            }
            if (at != null) {
                manifest.writeProgress(request.out(), new CaptureProgress(at.sentencesRead(), at.sentencesEmpty(),
                        at.sentencesTruncated(), at.tokensFed(), writers.getFirst().committedRows(), last));
            }
        }

        private void rethrowWriterFailure() throws IOException {
            Throwable t = writerFailure;
            if (t == null) {
                return;
            }
            if (t instanceof IOException io) {
                throw new IOException("writing activation shards failed: " + io.getMessage()
                        + " (committed shards are kept; fix the cause and run the same capture again to continue)", io);
            }
            if (t instanceof RuntimeException r) {
                throw r;
            }
            if (t instanceof Error err) {
                throw err;
            }
            throw new IOException(t);
        }

        private Forward take(BlockingQueue<Forward> q) throws IOException, InterruptedException {
            while (true) {
                rethrowWriterFailure();
                Forward f = q.poll(100, TimeUnit.MILLISECONDS);
                if (f != null) {
                    rethrowWriterFailure();
                    f.clear();
                    return f;
                }
            }
        }

        private void put(BlockingQueue<Forward> q, Forward f) throws IOException, InterruptedException {
            while (!q.offer(f, 100, TimeUnit.MILLISECONDS)) {
                rethrowWriterFailure();
            }
        }
    }

    /** Copies the stored positions of each sequence at one hook point into the forward's row buffer. */
    private record RowCollector(HookPoint point, Forward forward, float[] into, int dModel) implements ResidualHook {
        @Override
        public void onResidual(ResidualSlice slice) {
            int[] keep = forward.stored.get(slice.sequence());
            int row = forward.firstRow.get(slice.sequence());
            for (int p : keep) {
                System.arraycopy(slice.data(), slice.rowOffset(p - slice.firstPosition()), into, (row++) * dModel, dModel);
            }
        }
    }
}
