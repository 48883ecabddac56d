package io.github.sae4j.claude;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.core.ObjectMappers;
import com.anthropic.core.Sleeper;
import com.anthropic.core.http.HttpResponseFor;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.errors.AnthropicException;
import com.anthropic.errors.AnthropicServiceException;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.OutputConfig;
import com.anthropic.models.messages.StopReason;
import com.anthropic.models.messages.TextBlock;
import com.anthropic.models.messages.Usage;
import com.anthropic.models.messages.batches.BatchCreateParams;
import com.anthropic.models.messages.batches.BatchListParams;
import com.anthropic.models.messages.batches.MessageBatch;
import com.anthropic.models.messages.batches.MessageBatchIndividualResponse;
import com.anthropic.models.messages.batches.MessageBatchRequestCounts;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.github.sae4j.api.label.Labeler;
import io.github.sae4j.api.label.LabelingListener;
import io.github.sae4j.api.label.LatentExamples;
import io.github.sae4j.api.label.LatentLabel;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Labels latents with Claude through the Message Batches API: one request per latent (custom_id
 * {@code latent-<id>}), as few batches as the API's limits allow, polled until they end; answers that are errored,
 * expired or malformed are sent again in a later batch, up to max-attempts times. Everything sent and received is
 * recorded in the state directory ({@link LabelingState}) before the next step, so a rerun after a crash resumes:
 * batches already created are polled, never created again, and labels already received are kept.
 *
 * <p>The API key comes only from the environment variable {@value #API_KEY_VARIABLE}; it is handed to the SDK and
 * appears nowhere else (no log line, state file, output file or exception message).
 */
public final class ClaudeLabeler implements Labeler {

    public static final String API_KEY_VARIABLE = "ANTHROPIC_API_KEY";
    public static final String REQUESTS_FILE = "requests.jsonl";
    public static final String COST_ESTIMATE_FILE = "cost-estimate.json";
    public static final String USAGE_FILE = "usage.json";
    public static final String LABELS_FILE = "labels.jsonl";
    static final String CUSTOM_ID_PREFIX = "latent-";
    /** Room under the API's 256 MB for the request envelope around the requests. */
    static final long BATCH_BYTES = ClaudeSettings.API_MAX_BYTES - 1024 * 1024;
    /** A batch whose create call failed may still have been created; look for it among batches this much older. */
    private static final Duration CLOCK_SKEW = Duration.ofMinutes(10);

    private static final System.Logger LOG = System.getLogger(ClaudeLabeler.class.getName());
    private static final JsonMapper SDK_JSON = ObjectMappers.jsonMapper();

    private final ClaudeSettings settings;
    private final String apiKey;
    private final Sleeper sdkSleeper;
    private final LabelPrompt prompt = LabelPrompt.current();
    private AnthropicClient client;
    private LabelingUsage usage;
    private CostEstimate costEstimate;

    /**
     * @param environment where {@value #API_KEY_VARIABLE} is looked up ({@code System.getenv()} in production)
     * @param sdkSleeper  how the SDK waits between retries, or null for its own (tests pass a fast one)
     * @throws IllegalStateException if this is not a dry run and the environment has no API key
     */
    ClaudeLabeler(ClaudeSettings settings, Map<String, String> environment, Sleeper sdkSleeper) {
        this.settings = settings;
        this.sdkSleeper = sdkSleeper;
        String key = environment.get(API_KEY_VARIABLE);
        if (!settings.dryRun() && (key == null || key.isBlank())) {
            throw new IllegalStateException("the claude labeler needs an Anthropic API key in the environment variable "
                    + API_KEY_VARIABLE + ", and it is not set. Export it (from https://console.anthropic.com), or"
                    + " pass the option dry-run=true to write the requests and a cost estimate without sending"
                    + " anything.");
        }
        this.apiKey = key == null || key.isBlank() ? null : key.trim();
    }

    @Override
    public String model() {
        return settings.model();
    }

    @Override
    public String promptVersion() {
        return LabelPrompt.VERSION;
    }

    public ClaudeSettings settings() {
        return settings;
    }

    /** Usage and cost of the last {@link #label} call that sent requests; empty before it and after a dry run. */
    public Optional<LabelingUsage> usage() {
        return Optional.ofNullable(usage);
    }

    /** The estimate of the last dry run; empty before it and after a real run. */
    public Optional<CostEstimate> costEstimate() {
        return Optional.ofNullable(costEstimate);
    }

    @Override
    public List<LatentLabel> label(List<LatentExamples> latents, Path stateDirectory, LabelingListener listener)
            throws IOException, InterruptedException {
        Map<Integer, LatentExamples> byId = new TreeMap<>();
        for (LatentExamples l : latents) {
            if (byId.put(l.latent(), l) != null) {
                throw new IllegalArgumentException("latent " + l.latent() + " is listed twice; label each latent once");
            }
        }
        Files.createDirectories(stateDirectory);
        LabelingState.Fingerprint fingerprint = fingerprint(byId);
        LabelingState state = LabelingState.load(stateDirectory);
        if (state != null) {
            state.requireSameRun(fingerprint, stateDirectory);
        }
        if (settings.dryRun()) {
            return dryRun(latents, byId, state, stateDirectory);
        }
        if (state == null) {
            state = new LabelingState();
            state.fingerprint = fingerprint;
            state.save(stateDirectory);
        }
        Run run = new Run(state, stateDirectory, byId, listener);
        run.toEnd();
        usage = run.usage();
        LabelingState.writeJson(stateDirectory.resolve(USAGE_FILE), usage);
        List<LatentLabel> labels = labels(latents, state);
        writeLabels(stateDirectory.resolve(LABELS_FILE), labels, state);
        LOG.log(System.Logger.Level.INFO, "claude labeling done: {0}", usage);
        return labels;
    }

    /** One label() call that sends requests: a loop of collect, retry, submit until every latent is settled. */
    private final class Run {
        final LabelingState state;
        final Path dir;
        final Map<Integer, LatentExamples> byId;
        final LabelingListener listener;

        Run(LabelingState state, Path dir, Map<Integer, LatentExamples> byId, LabelingListener listener) {
            this.state = state;
            this.dir = dir;
            this.byId = byId;
            this.listener = listener;
        }

        void toEnd() throws IOException, InterruptedException {
            while (true) {
                for (LabelingState.SubmittedBatch b : List.copyOf(state.batches)) {
                    if (b.id == null && !b.collected) {
                        reconcile(b);
                    }
                }
                for (LabelingState.SubmittedBatch b : List.copyOf(state.batches)) {
                    if (b.id != null && !b.collected) {
                        collect(b);
                    }
                }
                List<Integer> pending = pending(state, byId);
                if (pending.isEmpty()) {
                    return;
                }
                for (Map<Integer, BatchCreateParams.Request> chunk : chunks(pending)) {
                    submit(chunk);
                    listener.onLabels(state.labels.size(), byId.size());
                }
            }
        }

        /** Creates one batch; the state records it before the call (id null) and right after (with its id). */
        void submit(Map<Integer, BatchCreateParams.Request> chunk) throws IOException, InterruptedException {
            LabelingState.SubmittedBatch b = new LabelingState.SubmittedBatch();
            for (int latent : chunk.keySet()) {
                b.requests.put(latent, state.attempts(latent) + 1);
            }
            b.requestedAt = Instant.now().toString();
            state.batches.add(b);
            state.save(dir);
            BatchCreateParams params = BatchCreateParams.builder().requests(List.copyOf(chunk.values())).build();
            // The SDK would retry a timed-out create on its own and could create the batch twice; retry here
            // instead, looking for the batch among the account's batches before sending it again.
            AnthropicClient once = client().withOptions(o -> o.maxRetries(0));
            for (int tries = 0; ; tries++) {
                try {
                    MessageBatch created = once.messages().batches().create(params);
                    b.id = created.id();
                    state.save(dir);
                    LOG.log(System.Logger.Level.INFO, "created batch {0}: {1} requests", b.id, chunk.size());
                    return;
                } catch (AnthropicServiceException e) {
                    if (!retryable(e.statusCode())) {
                        state.batches.remove(b); // a 4xx answer means the API created nothing
                        state.save(dir);
                        throw new IOException("the Message Batches API refused a batch of " + chunk.size()
                                + " requests: " + redact(e.getMessage()) + ". Check the options model ('"
                                + settings.model() + "'), max-tokens and effort, and the API key's permissions.", e);
                    }
                    if (tries >= settings.maxRetries()) {
                        throw createFailed(chunk.size(), e);
                    }
                    pause(retryAfter(e).orElse(backoff(tries)));
                } catch (AnthropicException e) {
                    if (tries >= settings.maxRetries()) {
                        throw createFailed(chunk.size(), e);
                    }
                    pause(backoff(tries));
                }
                if (adopt(b)) {
                    return;
                }
            }
        }

        private IOException createFailed(int requests, Exception e) {
            return new IOException("creating a batch of " + requests + " requests failed " + (settings.maxRetries() + 1)
                    + " times, last: " + redact(String.valueOf(e.getMessage())) + ". The state file records the"
                    + " attempt: rerun to look for the batch (in case the API created it) and go on.", e);
        }

        /** A create call that did not return: adopt the batch if the API made it, else forget the call. */
        void reconcile(LabelingState.SubmittedBatch b) throws IOException {
            if (!adopt(b)) {
                LOG.log(System.Logger.Level.INFO, "a batch of {0} requests asked for at {1} was not created; sending"
                        + " it again", b.requests.size(), b.requestedAt);
                state.batches.remove(b);
                state.save(dir);
            }
        }

        /**
         * Looks among the account's recent batches for one created after {@code b} was asked for, with as many
         * requests, that this state does not know; adopts the oldest such batch.
         */
        boolean adopt(LabelingState.SubmittedBatch b) throws IOException {
            OffsetDateTime since = Instant.parse(b.requestedAt).minus(CLOCK_SKEW).atOffset(ZoneOffset.UTC);
            Set<String> known = state.batches.stream().map(x -> x.id).filter(id -> id != null)
                    .collect(Collectors.toSet());
            List<MessageBatch> recent = client().messages().batches()
                    .list(BatchListParams.builder().limit(100).build()).data();
            List<MessageBatch> candidates = recent.stream()
                    .filter(m -> !known.contains(m.id()))
                    .filter(m -> !m.createdAt().isBefore(since))
                    .filter(m -> total(m.requestCounts()) == b.requests.size())
                    .sorted((x, y) -> x.createdAt().compareTo(y.createdAt()))
                    .toList();
            if (candidates.isEmpty()) {
                return false;
            }
            b.id = candidates.getFirst().id();
            state.save(dir);
            LOG.log(System.Logger.Level.WARNING, "the create call for a batch of {0} requests did not return, but the"
                    + " API made it: adopted batch {1}", b.requests.size(), b.id);
            if (candidates.size() > 1) {
                LOG.log(System.Logger.Level.WARNING, "other recent batches of the same size that may be duplicates"
                        + " (not fetched): {0}", candidates.subList(1, candidates.size()).stream()
                        .map(MessageBatch::id).toList());
            }
            return true;
        }

        /** Polls a batch until it ends, then takes in its results. */
        void collect(LabelingState.SubmittedBatch b) throws IOException, InterruptedException {
            MessageBatch batch = client().messages().batches().retrieve(b.id);
            while (!batch.processingStatus().equals(MessageBatch.ProcessingStatus.ENDED)) {
                pause(settings.pollInterval());
                batch = client().messages().batches().retrieve(b.id);
            }
            Set<Integer> seen = new HashSet<>();
            String brokeOff = null;
            try (HttpResponseFor<StreamResponse<MessageBatchIndividualResponse>> response =
                         client().messages().batches().withRawResponse().resultsStreaming(b.id);
                 BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(),
                         StandardCharsets.UTF_8))) {
                while (true) {
                    String line;
                    try {
                        line = reader.readLine();
                    } catch (IOException e) {
                        brokeOff = "the results stream broke off: " + e.getMessage();
                        break;
                    }
                    if (line == null) {
                        break;
                    }
                    if (!line.isBlank()) {
                        takeIn(line, b, seen);
                    }
                }
            }
            for (Map.Entry<Integer, Integer> r : b.requests.entrySet()) {
                if (!seen.contains(r.getKey()) && !state.labels.containsKey(r.getKey())) {
                    state.failures.put(r.getKey(), new LabelingState.Failure("no readable result in batch " + b.id
                            + (brokeOff != null ? " (" + brokeOff + ")" : " (the results file ended early or held"
                            + " a cut-off line)"), null, b.id, r.getValue()));
                }
            }
            b.collected = true;
            state.save(dir);
            LOG.log(System.Logger.Level.INFO, "batch {0} ended: {1} of {2} latents labeled so far", b.id,
                    state.labels.size(), byId.size());
            listener.onLabels(state.labels.size(), byId.size());
        }

        /** Takes in one JSONL result line; a line that cannot be read is skipped (its latent is retried). */
        private void takeIn(String line, LabelingState.SubmittedBatch b, Set<Integer> seen) {
            JsonNode tree;
            try {
                tree = SDK_JSON.readTree(line);
            } catch (IOException e) {
                return;
            }
            Integer latent = latentOf(tree.path("custom_id").asText(""));
            if (latent == null || !b.requests.containsKey(latent) || !seen.add(latent)) {
                return;
            }
            int attempt = b.requests.get(latent);
            String type = tree.path("result").path("type").asText("");
            LabelingState.Failure failure = switch (type) {
                case "succeeded" -> succeeded(tree, latent, b, attempt);
                case "errored" -> new LabelingState.Failure("the API answered with an error: "
                        + tree.at("/result/error/error/type").asText("?") + ": "
                        + tree.at("/result/error/error/message").asText(""), null, b.id, attempt);
                case "expired" -> new LabelingState.Failure("the request expired before its batch processed it",
                        null, b.id, attempt);
                case "canceled" -> new LabelingState.Failure("the request was canceled (its batch was canceled)",
                        null, b.id, attempt);
                default -> new LabelingState.Failure("unknown result type '" + type + "'", null, b.id, attempt);
            };
            if (failure != null) {
                state.failures.put(latent, failure);
            }
        }

        /** Records the label, or returns why the answer is not one. */
        private LabelingState.Failure succeeded(JsonNode tree, int latent, LabelingState.SubmittedBatch b,
                                                int attempt) {
            Message message;
            String text;
            try {
                message = SDK_JSON.treeToValue(tree, MessageBatchIndividualResponse.class).result().asSucceeded()
                        .message();
                text = message.content().stream().flatMap(c -> c.text().stream()).map(TextBlock::text)
                        .collect(Collectors.joining());
            } catch (IOException | RuntimeException e) {
                return new LabelingState.Failure("unreadable message in the result: " + e.getMessage(), null, b.id,
                        attempt);
            }
            addUsage(message);
            ClaudeAnswer answer = ClaudeAnswer.parse(text);
            if (!answer.ok()) {
                boolean cut = message.stopReason().map(StopReason.MAX_TOKENS::equals).orElse(false);
                return new LabelingState.Failure("malformed answer: " + answer.error()
                        + (cut ? " (the answer hit max-tokens=" + settings.maxTokens() + "; raise it)" : ""),
                        text, b.id, attempt);
            }
            state.labels.put(latent, new LabelingState.StoredLabel(answer.label(), answer.certainty(), text,
                    settings.model(), LabelPrompt.VERSION, b.id, attempt));
            state.failures.remove(latent);
            return null;
        }

        private void addUsage(Message message) {
            try {
                Usage u = message.usage();
                state.usage.results++;
                state.usage.inputTokens += u.inputTokens();
                state.usage.outputTokens += u.outputTokens();
                state.usage.cacheCreationInputTokens += u.cacheCreationInputTokens().orElse(0L);
                state.usage.cacheReadInputTokens += u.cacheReadInputTokens().orElse(0L);
            } catch (RuntimeException e) {
                // A result without usage is still a label; its tokens are simply not counted.
            }
        }

        /** The requests of {@code pending}, split by batch-size and the API's 256 MB per batch. */
        List<Map<Integer, BatchCreateParams.Request>> chunks(List<Integer> pending) throws IOException {
            List<Map<Integer, BatchCreateParams.Request>> out = new ArrayList<>();
            Map<Integer, BatchCreateParams.Request> chunk = new LinkedHashMap<>();
            long bytes = 0;
            for (int latent : pending) {
                BatchCreateParams.Request request = request(byId.get(latent));
                long size = SDK_JSON.writeValueAsBytes(request).length;
                if (!chunk.isEmpty() && (chunk.size() >= settings.batchSize() || bytes + size > BATCH_BYTES)) {
                    out.add(chunk);
                    chunk = new LinkedHashMap<>();
                    bytes = 0;
                }
                chunk.put(latent, request);
                bytes += size;
            }
            if (!chunk.isEmpty()) {
                out.add(chunk);
            }
            return out;
        }

        LabelingUsage usage() {
            int failed = 0;
            for (int latent : byId.keySet()) {
                if (!state.labels.containsKey(latent)) {
                    failed++;
                }
            }
            LabelingState.UsageTotals u = state.usage;
            double cost = LabelingUsage.batchCost(u.inputTokens + u.cacheCreationInputTokens + u.cacheReadInputTokens,
                    u.outputTokens, settings.priceInputPerMTok(), settings.priceOutputPerMTok());
            return new LabelingUsage(settings.model(), byId.size(), state.labels.size(), failed,
                    state.batches.size(), u.results, u.inputTokens, u.outputTokens, u.cacheCreationInputTokens,
                    u.cacheReadInputTokens, settings.priceInputPerMTok(), settings.priceOutputPerMTok(), cost);
        }
    }

    /** Latents that need a (new) request: no label, not in a batch still out, fewer than max-attempts tries. */
    private List<Integer> pending(LabelingState state, Map<Integer, LatentExamples> byId) {
        Set<Integer> inFlight = state == null ? Set.of() : state.inFlight();
        List<Integer> out = new ArrayList<>();
        for (int latent : byId.keySet()) {
            if (state != null && (state.labels.containsKey(latent) || inFlight.contains(latent)
                    || state.attempts(latent) >= settings.maxAttempts())) {
                continue;
            }
            out.add(latent);
        }
        return out;
    }

    private List<LatentLabel> dryRun(List<LatentExamples> latents, Map<Integer, LatentExamples> byId,
                                     LabelingState state, Path dir) throws IOException {
        List<Integer> pending = pending(state, byId);
        Path requestsFile = dir.resolve(REQUESTS_FILE);
        long chars = 0;
        long bytes = 0;
        long batchBytes = 0;
        int inBatch = 0;
        int batches = 0;
        try (BufferedWriter out = Files.newBufferedWriter(requestsFile, StandardCharsets.UTF_8)) {
            for (int latent : pending) {
                LatentExamples l = byId.get(latent);
                chars += prompt.render(l, settings.examples()).length();
                String json = SDK_JSON.writeValueAsString(request(l));
                long size = json.getBytes(StandardCharsets.UTF_8).length;
                if (inBatch == 0 || inBatch >= settings.batchSize() || batchBytes + size > BATCH_BYTES) {
                    batches++;
                    inBatch = 0;
                    batchBytes = 0;
                }
                inBatch++;
                batchBytes += size;
                bytes += size;
                out.write(json);
                out.write('\n');
            }
        }
        long inputTokens = chars / CostEstimate.CHARS_PER_TOKEN + (long) pending.size() * CostEstimate.FRAMING_TOKENS;
        long outputTokens = (long) pending.size() * settings.maxTokens();
        costEstimate = new CostEstimate(settings.model(), pending.size(), batches, bytes, inputTokens, outputTokens,
                settings.priceInputPerMTok(), settings.priceOutputPerMTok(),
                LabelingUsage.batchCost(inputTokens, outputTokens, settings.priceInputPerMTok(),
                        settings.priceOutputPerMTok()), requestsFile.toString());
        LabelingState.writeJson(dir.resolve(COST_ESTIMATE_FILE), costEstimate);
        LOG.log(System.Logger.Level.INFO, "claude dry run, nothing sent: {0}", costEstimate);
        List<LatentLabel> out = new ArrayList<>();
        for (LatentExamples l : latents) {
            LabelingState.StoredLabel s = state == null ? null : state.labels.get(l.latent());
            out.add(s != null ? new LatentLabel(l.latent(), s.label(), s.confidence(), s.rawResponse(), null)
                    : new LatentLabel(l.latent(), null, 0, null, "dry run: not sent; its request is in "
                    + requestsFile));
        }
        return out;
    }

    private List<LatentLabel> labels(List<LatentExamples> latents, LabelingState state) {
        List<LatentLabel> out = new ArrayList<>();
        for (LatentExamples l : latents) {
            LabelingState.StoredLabel s = state.labels.get(l.latent());
            if (s != null) {
                out.add(new LatentLabel(l.latent(), s.label(), s.confidence(), s.rawResponse(), null));
            } else {
                LabelingState.Failure f = state.failures.get(l.latent());
                String why = f != null ? f.error() : "no result";
                out.add(new LatentLabel(l.latent(), null, 0, f != null ? f.rawResponse() : null,
                        why + " (after " + state.attempts(l.latent()) + " attempts; raise max-attempts and rerun"
                                + " to try again)"));
            }
        }
        return out;
    }

    /** labels.jsonl: one line per latent with the model and prompt version that produced it. */
    private static void writeLabels(Path file, List<LatentLabel> labels, LabelingState state) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (LatentLabel l : labels) {
            LabelingState.StoredLabel s = state.labels.get(l.latent());
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("latent", l.latent());
            line.put("label", l.label());
            line.put("confidence", l.succeeded() ? l.confidence() : null);
            line.put("error", l.error());
            line.put("model", s != null ? s.model() : state.fingerprint.model());
            line.put("prompt_version", s != null ? s.promptVersion() : state.fingerprint.promptVersion());
            line.put("raw_response", l.rawResponse());
            sb.append(SDK_JSON.writeValueAsString(line)).append('\n');
        }
        LabelingState.writeAtomically(file, sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** One Message Batches request: the prompt as the only user message. */
    BatchCreateParams.Request request(LatentExamples latent) {
        BatchCreateParams.Request.Params.Builder params = BatchCreateParams.Request.Params.builder()
                .model(settings.model())
                .maxTokens(settings.maxTokens())
                .addUserMessage(prompt.render(latent, settings.examples()));
        settings.effort().ifPresent(e -> params.outputConfig(OutputConfig.builder()
                .effort(OutputConfig.Effort.of(e)).build()));
        return BatchCreateParams.Request.builder()
                .customId(CUSTOM_ID_PREFIX + latent.latent())
                .params(params.build())
                .build();
    }

    private LabelingState.Fingerprint fingerprint(Map<Integer, LatentExamples> byId) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
        for (LatentExamples l : byId.values()) {
            sha.update(SDK_JSON.writeValueAsBytes(request(l)));
            sha.update((byte) '\n');
        }
        return new LabelingState.Fingerprint(settings.model(), LabelPrompt.VERSION, List.copyOf(byId.keySet()),
                HexFormat.of().formatHex(sha.digest()));
    }

    static Integer latentOf(String customId) {
        if (!customId.startsWith(CUSTOM_ID_PREFIX)) {
            return null;
        }
        try {
            return Integer.parseInt(customId.substring(CUSTOM_ID_PREFIX.length()));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static long total(MessageBatchRequestCounts c) {
        return c.processing() + c.succeeded() + c.errored() + c.canceled() + c.expired();
    }

    private static boolean retryable(int status) {
        return status == 408 || status == 409 || status == 429 || status >= 500;
    }

    /** The server's retry-after (retry-after-ms or retry-after in seconds), when it gave one under a minute. */
    private static Optional<Duration> retryAfter(AnthropicServiceException e) {
        try {
            List<String> ms = e.headers().values("retry-after-ms");
            if (!ms.isEmpty()) {
                return Optional.of(Duration.ofMillis(Math.round(Double.parseDouble(ms.getFirst()))))
                        .filter(d -> !d.isNegative() && d.compareTo(Duration.ofMinutes(1)) < 0);
            }
            List<String> s = e.headers().values("retry-after");
            if (!s.isEmpty()) {
                return Optional.of(Duration.ofMillis(Math.round(Double.parseDouble(s.getFirst()) * 1000)))
                        .filter(d -> !d.isNegative() && d.compareTo(Duration.ofMinutes(1)) < 0);
            }
        } catch (RuntimeException ignored) {
            // an HTTP date or garbage: use the backoff
        }
        return Optional.empty();
    }

    /** 0.5 s, 1 s, 2 s, ... like the SDK, but never longer than the poll interval or 8 s. */
    private Duration backoff(int tries) {
        Duration d = Duration.ofMillis(500L << Math.min(tries, 4));
        Duration cap = settings.pollInterval().compareTo(Duration.ofSeconds(8)) < 0 ? settings.pollInterval()
                : Duration.ofSeconds(8);
        return d.compareTo(cap) > 0 ? cap : d;
    }

    /** Waits; an interrupt stops the run, and the state file is already up to date for a rerun. */
    private static void pause(Duration d) throws InterruptedException {
        Thread.sleep(d);
    }

    /** Removes the API key from text that came from elsewhere (SDK messages), in case it ever echoes it. */
    private String redact(String text) {
        return apiKey == null || text == null ? text : text.replace(apiKey, "[redacted]");
    }

    private AnthropicClient client() {
        if (client == null) {
            AnthropicOkHttpClient.Builder b = AnthropicOkHttpClient.builder()
                    .apiKey(apiKey)
                    .timeout(settings.timeout())
                    .maxRetries(settings.maxRetries());
            settings.baseUrl().ifPresent(b::baseUrl);
            if (sdkSleeper != null) {
                b.sleeper(sdkSleeper);
            }
            client = b.build();
        }
        return client;
    }

    @Override
    public void close() {
        if (client != null) {
            client.close();
            client = null;
        }
    }

    @Override
    public String toString() {
        return "ClaudeLabeler[" + settings.model() + ", prompt " + LabelPrompt.VERSION + "]";
    }
}
