package io.github.sae4j.claude;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiFunction;

/**
 * A local stand-in for the Message Batches endpoints the SDK calls: create (POST /v1/messages/batches), list
 * (GET /v1/messages/batches), retrieve (GET /v1/messages/batches/{id}) and results (GET .../{id}/results, JSONL).
 * What each request gets back is decided by {@link #answers} (per latent and attempt); faults (a status with
 * headers, or a delay) can be queued per endpoint. It records every request for the tests to inspect.
 */
final class MockBatchesServer implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper();

    /** What one request of a batch comes back as. */
    sealed interface Outcome {
        record Text(String text) implements Outcome {
        }

        record Errored(String type, String message) implements Outcome {
        }

        record Expired() implements Outcome {
        }
    }

    /** A fault returned instead of the normal answer: a status (with headers and body), or a delay before it. */
    record Fault(int status, Map<String, String> headers, long delayMillis) {
        static Fault status(int status, Map<String, String> headers) {
            return new Fault(status, headers, 0);
        }

        static Fault delay(long millis) {
            return new Fault(0, Map.of(), millis);
        }
    }

    record Received(String method, String path, String apiKey, String body) {
    }

    private static final class Batch {
        final String id;
        final Instant createdAt;
        final List<String> customIds = new ArrayList<>();
        final List<String> resultLines = new ArrayList<>();
        int polls;

        Batch(String id, Instant createdAt) {
            this.id = id;
            this.createdAt = createdAt;
        }
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final Map<String, Batch> batches = Collections.synchronizedMap(new LinkedHashMap<>());
    private final Map<String, Deque<Fault>> faults = new ConcurrentHashMap<>();
    private final Map<String, Integer> attempts = new HashMap<>();
    private final List<Received> received = Collections.synchronizedList(new ArrayList<>());
    private final List<List<String>> creates = Collections.synchronizedList(new ArrayList<>());

    /** latent, attempt (1 for the first) -> outcome; by default a good answer naming the latent. */
    volatile BiFunction<Integer, Integer, Outcome> answers = (latent, attempt) ->
            new Outcome.Text("{\"common_semantic\": \"meaning of latent " + latent + "\", \"certainty\": 0.9}");
    /** How many retrieves of a batch say in_progress before it ends. */
    volatile int pollsUntilEnded = 1;
    /** When >= 0, the results of the next batch fetched are cut after this many bytes (mid-line). */
    volatile int cutNextResultsAt = -1;
    /** When true, the create call makes the batch, then answers only after this delay (a lost response). */
    volatile long createDelayAfterCreatingMillis = 0;

    MockBatchesServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    void fail(String endpoint, Fault... queued) {
        faults.computeIfAbsent(endpoint, k -> new ArrayDeque<>()).addAll(List.of(queued));
    }

    List<Received> received() {
        synchronized (received) {
            return List.copyOf(received);
        }
    }

    /** The custom ids of each create call that made a batch, in order. */
    List<List<String>> creates() {
        synchronized (creates) {
            return List.copyOf(creates);
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String method = ex.getRequestMethod();
            String path = ex.getRequestURI().getPath();
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            // The SDK sends the key as x-api-key or, in recent versions, as a bearer token.
            String key = ex.getRequestHeaders().getFirst("x-api-key");
            String authorization = ex.getRequestHeaders().getFirst("Authorization");
            if (key == null && authorization != null && authorization.startsWith("Bearer ")) {
                key = authorization.substring("Bearer ".length());
            }
            received.add(new Received(method, path, key, body));
            String[] parts = path.replaceFirst("^/v1/messages/batches/?", "").split("/");
            String endpoint;
            if (!path.startsWith("/v1/messages/batches")) {
                endpoint = "unknown";
            } else if (method.equals("POST") && parts[0].isEmpty()) {
                endpoint = "create";
            } else if (method.equals("GET") && parts[0].isEmpty()) {
                endpoint = "list";
            } else if (method.equals("GET") && parts.length == 1) {
                endpoint = "retrieve";
            } else if (method.equals("GET") && parts.length == 2 && parts[1].equals("results")) {
                endpoint = "results";
            } else {
                endpoint = "unknown";
            }
            Deque<Fault> queue = faults.get(endpoint);
            Fault fault = queue == null ? null : queue.poll();
            if (fault != null) {
                if (fault.delayMillis() > 0) {
                    sleep(fault.delayMillis());
                } else {
                    fault.headers().forEach((k, v) -> ex.getResponseHeaders().add(k, v));
                    send(ex, fault.status(), "application/json", "{\"type\":\"error\",\"error\":{\"type\":\""
                            + (fault.status() == 429 ? "rate_limit_error" : "api_error")
                            + "\",\"message\":\"injected fault\"}}");
                    return;
                }
            }
            switch (endpoint) {
                case "create" -> create(ex, body);
                case "list" -> list(ex);
                case "retrieve" -> retrieve(ex, parts[0]);
                case "results" -> results(ex, parts[0]);
                default -> send(ex, 404, "application/json",
                        "{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\",\"message\":\"" + path + "\"}}");
            }
        } catch (RuntimeException e) {
            e.printStackTrace();
            throw e;
        }
    }

    private void create(HttpExchange ex, String body) throws IOException {
        JsonNode requests = JSON.readTree(body).path("requests");
        Batch batch;
        synchronized (batches) {
            batch = new Batch("msgbatch_" + (batches.size() + 1), Instant.now().truncatedTo(ChronoUnit.SECONDS));
            List<String> ids = new ArrayList<>();
            for (JsonNode r : requests) {
                String customId = r.path("custom_id").asText();
                ids.add(customId);
                batch.customIds.add(customId);
                int latent = Integer.parseInt(customId.substring("latent-".length()));
                int attempt;
                synchronized (attempts) {
                    attempt = attempts.merge(customId, 1, Integer::sum);
                }
                batch.resultLines.add(resultLine(customId, answers.apply(latent, attempt)));
            }
            batches.put(batch.id, batch);
            creates.add(ids);
        }
        if (createDelayAfterCreatingMillis > 0) {
            sleep(createDelayAfterCreatingMillis);
        }
        send(ex, 200, "application/json", batchJson(batch, false).toString());
    }

    private void list(HttpExchange ex) throws IOException {
        ObjectNode page = JSON.createObjectNode();
        ArrayNode data = page.putArray("data");
        List<Batch> all;
        synchronized (batches) {
            all = new ArrayList<>(batches.values());
        }
        Collections.reverse(all); // newest first, as the API lists them
        for (Batch b : all) {
            data.add(batchJson(b, b.polls >= pollsUntilEnded));
        }
        page.put("has_more", false);
        page.put("first_id", all.isEmpty() ? null : all.getFirst().id);
        page.put("last_id", all.isEmpty() ? null : all.getLast().id);
        send(ex, 200, "application/json", page.toString());
    }

    private void retrieve(HttpExchange ex, String id) throws IOException {
        Batch batch = batches.get(id);
        if (batch == null) {
            send(ex, 404, "application/json", "{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\"}}");
            return;
        }
        boolean ended;
        synchronized (batch) {
            ended = batch.polls++ >= pollsUntilEnded;
        }
        send(ex, 200, "application/json", batchJson(batch, ended).toString());
    }

    private void results(HttpExchange ex, String id) throws IOException {
        Batch batch = batches.get(id);
        if (batch == null) {
            send(ex, 404, "application/json", "{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\"}}");
            return;
        }
        String jsonl = String.join("\n", batch.resultLines) + "\n";
        int cut = cutNextResultsAt;
        if (cut >= 0) {
            cutNextResultsAt = -1;
            jsonl = jsonl.substring(0, Math.min(cut, jsonl.length()));
        }
        send(ex, 200, "application/binary", jsonl);
    }

    private ObjectNode batchJson(Batch b, boolean ended) {
        ObjectNode n = JSON.createObjectNode();
        n.put("id", b.id);
        n.put("type", "message_batch");
        n.put("processing_status", ended ? "ended" : "in_progress");
        ObjectNode counts = n.putObject("request_counts");
        long succeeded = b.resultLines.stream().filter(l -> l.contains("\"succeeded\"")).count();
        long errored = b.resultLines.stream().filter(l -> l.contains("\"errored\"")).count();
        long expired = b.resultLines.stream().filter(l -> l.contains("\"expired\"")).count();
        counts.put("processing", ended ? 0 : b.customIds.size());
        counts.put("succeeded", ended ? succeeded : 0);
        counts.put("errored", ended ? errored : 0);
        counts.put("canceled", 0);
        counts.put("expired", ended ? expired : 0);
        n.put("created_at", b.createdAt.toString());
        n.put("expires_at", b.createdAt.plus(1, ChronoUnit.DAYS).toString());
        if (ended) {
            n.put("ended_at", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
            n.put("results_url", url() + "/v1/messages/batches/" + b.id + "/results");
        } else {
            n.putNull("ended_at");
            n.putNull("results_url");
        }
        n.putNull("archived_at");
        n.putNull("cancel_initiated_at");
        return n;
    }

    static String resultLine(String customId, Outcome outcome) {
        ObjectNode line = JSON.createObjectNode();
        line.put("custom_id", customId);
        ObjectNode result = line.putObject("result");
        switch (outcome) {
            case Outcome.Text t -> {
                result.put("type", "succeeded");
                ObjectNode m = result.putObject("message");
                m.put("id", "msg_" + customId);
                m.put("type", "message");
                m.put("role", "assistant");
                m.put("model", ClaudeSettings.DEFAULT_MODEL);
                ObjectNode block = m.putArray("content").addObject();
                block.put("type", "text");
                block.put("text", t.text());
                block.putNull("citations");
                m.put("stop_reason", "end_turn");
                m.putNull("stop_sequence");
                ObjectNode usage = m.putObject("usage");
                usage.put("input_tokens", 1000);
                usage.put("output_tokens", 50);
                usage.put("cache_creation_input_tokens", 0);
                usage.put("cache_read_input_tokens", 0);
            }
            case Outcome.Errored e -> {
                result.put("type", "errored");
                ObjectNode err = result.putObject("error");
                err.put("type", "error");
                ObjectNode inner = err.putObject("error");
                inner.put("type", e.type());
                inner.put("message", e.message());
            }
            case Outcome.Expired x -> result.put("type", "expired");
        }
        return line.toString();
    }

    private static void send(HttpExchange ex, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", contentType);
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
