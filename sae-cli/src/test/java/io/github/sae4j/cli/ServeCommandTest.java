package io.github.sae4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import io.github.sae4j.core.run.DemoManifest;

/**
 * {@code sae4j serve} on an SAE trained here on the embedded model: the API, its errors, a client that hangs up
 * mid-stream, path confinement, a busy port, and the page itself in Chromium when the machine has it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServeCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    Path dir;
    Path outside;
    Server server;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** A serve command running on a thread of its own. */
    record Server(ServeCommand command, Thread thread, StringWriter out, StringWriter err, int[] exit) {
        String base() {
            return "http://127.0.0.1:" + command.boundPort;
        }

        void stop() throws InterruptedException {
            command.stop.countDown();
            thread.join(10_000);
        }
    }

    static Server serve(String... args) throws InterruptedException {
        ServeCommand command = new ServeCommand();
        command.listening = new CountDownLatch(1);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int[] exit = {-1};
        CommandLine cl = Sae4j.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), command);
        Thread t = new Thread(() -> exit[0] = cl.execute(args), "serve-under-test");
        t.start();
        for (int i = 0; i < 600 && command.listening.getCount() > 0 && t.isAlive(); i++) {
            command.listening.await(100, TimeUnit.MILLISECONDS);
        }
        return new Server(command, t, out, err, exit);
    }

    @BeforeAll
    void trainMineLabelAndServe(@TempDir Path tmp) throws Exception {
        dir = tmp.resolve("run");
        Path acts = dir.resolve("acts");
        CliRun capture = CliRun.of("capture", "--sentences", SentencesCommandTest.demoCorpus().toString(), "--hook",
                "blocks.3.hook_resid_post", "--out", acts.toString(), "--max-sentences", "300", "--threads", "1");
        assertThat(capture.exitCode()).as(capture.toString()).isZero();
        CliRun train = CliRun.of("train", "--data", acts.toString(), "--out", dir.resolve("train").toString(),
                "--latents", "256", "-k", "8", "--steps", "30", "--batch-size", "256", "--quiet",
                "--validation-fraction", "0", "--backend-option", "threads=1");
        assertThat(train.exitCode()).as(train.toString()).isZero();
        CliRun mine = CliRun.of("top-activations", "--sae", dir.resolve("train/sae").toString(), "--data",
                acts.toString(), "--out", dir.resolve("top").toString(), "--top", "5", "--backend-option", "threads=1");
        assertThat(mine.exitCode()).as(mine.toString()).isZero();
        CliRun label = CliRun.of("label", "--top", dir.resolve("top").toString(), "--labeler", "offline");
        assertThat(label.exitCode()).as(label.toString()).isZero();
        Files.writeString(dir.resolve("report.html"), "<!doctype html><title>report</title><p>metrics</p>");
        new DemoManifest(ModelOptions.embeddedModel().toString(), "blocks.3.hook_resid_post", "train/sae", "top",
                SentencesCommandTest.demoCorpus().toString(), "report.html", "acts", null, null, null).write(dir);
        outside = tmp.resolve("secret.txt");
        Files.writeString(outside, "not for the browser");
        Files.createSymbolicLink(dir.resolve("link.txt"), outside);
        server = serve("serve", "--dir", dir.toString(), "--port", "0", "--threads", "1");
        assertThat(server.command().boundPort).as(server.err().toString()).isPositive();
    }

    @AfterAll
    void stop() throws InterruptedException {
        if (server != null) {
            server.stop();
            assertThat(server.exit()[0]).as(server.err().toString()).isZero();
        }
    }

    HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(server.base() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, Object body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(server.base() + path))
                .POST(HttpRequest.BodyPublishers.ofString(body instanceof String s ? s : JSON.writeValueAsString(body)))
                .header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The events of a server-sent-event body, as (name, data) pairs. */
    static List<Map.Entry<String, JsonNode>> events(String body) throws Exception {
        List<Map.Entry<String, JsonNode>> out = new ArrayList<>();
        for (String block : body.split("\n\n")) {
            String event = null;
            String data = null;
            for (String line : block.split("\n")) {
                if (line.startsWith("event: ")) {
                    event = line.substring(7);
                } else if (line.startsWith("data: ")) {
                    data = line.substring(6);
                }
            }
            if (event != null) {
                out.add(Map.entry(event, JSON.readTree(data)));
            }
        }
        return out;
    }

    static Map<String, String> replies(List<Map.Entry<String, JsonNode>> events) {
        Map<String, String> text = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : events) {
            if (e.getKey().equals("done")) {
                text.put(e.getValue().get("side").asText(), e.getValue().get("text").asText());
            }
        }
        return text;
    }

    static Map<String, Object> chat(String prompt, List<Map<String, Object>> steer, boolean compare) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("messages", List.of(Map.of("role", "user", "content", prompt)));
        m.put("steer", steer);
        m.put("template", false);
        m.put("max_tokens", 16);
        m.put("temperature", 0.8);
        m.put("seed", 3);
        m.put("compare", compare);
        return m;
    }

    @Test
    void theFeatureBrowserApi() throws Exception {
        JsonNode info = JSON.readTree(get("/api/info").body());
        assertThat(info.get("latents").asInt()).isEqualTo(256);
        assertThat(info.get("hookPoint").asText()).isEqualTo("blocks.3.hook_resid_post");
        assertThat(info.get("labeled").asBoolean()).isTrue();
        assertThat(info.get("report").asText()).isEqualTo("/files/report.html");

        JsonNode list = JSON.readTree(get("/api/features?sort=confidence&limit=5").body());
        assertThat(list.get("total").asInt()).isEqualTo(256);
        assertThat(list.get("items")).hasSize(5);
        JsonNode best = list.get("items").get(0);
        String word = best.get("label").asText().replaceAll("[^A-Za-z ]", " ").strip().split("\\s+")[0];
        JsonNode found = JSON.readTree(get("/api/features?q=" + word + "&limit=500").body());
        assertThat(found.get("total").asInt()).isPositive().isLessThanOrEqualTo(256);
        found.get("items").forEach(i -> assertThat(i.get("label").asText().toLowerCase()).contains(word.toLowerCase()));

        int latent = best.get("latent").asInt();
        HttpResponse<String> page = get("/api/features/" + latent + "?examples=3");
        assertThat(page.statusCode()).isEqualTo(200);
        JsonNode f = JSON.readTree(page.body());
        assertThat(f.get("label").asText()).isEqualTo(best.get("label").asText());
        assertThat(f.get("confidence").asDouble()).isBetween(0.0, 1.0);
        assertThat(f.get("histogram")).hasSize(24);
        assertThat(f.get("examples")).isNotEmpty().hasSizeLessThanOrEqualTo(3);
        JsonNode ex = f.get("examples").get(0);
        assertThat(ex.get("tokens").size()).isEqualTo(ex.get("activations").size());

        JsonNode tokens = JSON.readTree(post("/api/inspect", Map.of("text", "The President said <b>that</b>", "top", 3))
                .body()).get("tokens");
        assertThat(tokens.size()).isGreaterThan(4);
        assertThat(tokens.get(0).get("latents").size()).isBetween(1, 3);
        StringBuilder text = new StringBuilder();
        tokens.forEach(t -> text.append(t.get("text").asText()));
        assertThat(text.toString()).isEqualTo("The President said <b>that</b>");
    }

    @Test
    void badRequestsGetClearAnswers() throws Exception {
        HttpResponse<String> unknown = get("/api/features/99999");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(unknown.body()).get("error").asText()).contains("99999 does not exist")
                .contains("0..255");
        assertThat(get("/api/features/abc").statusCode()).isEqualTo(400);
        assertThat(get("/api/features?limit=100000").statusCode()).isEqualTo(400);
        assertThat(get("/api/features?sort=colour").body()).contains("sort must be");
        assertThat(get("/api/nothing").statusCode()).isEqualTo(404);

        HttpResponse<String> notJson = post("/api/chat", "{not json");
        assertThat(notJson.statusCode()).isEqualTo(400);
        assertThat(notJson.body()).contains("not JSON");
        HttpResponse<String> nan = post("/api/chat", chat("Hello", List.of(Map.of("latent", 1, "strength", "NaN")),
                true));
        assertThat(nan.statusCode()).isEqualTo(400);
        assertThat(nan.body()).contains("finite");
        HttpResponse<String> noLatent = post("/api/chat", chat("Hello", List.of(Map.of("latent", 4096, "strength", 2)),
                true));
        assertThat(noLatent.statusCode()).isEqualTo(400);
        assertThat(noLatent.body()).contains("feature 4096 does not exist");
        HttpResponse<String> badMode = post("/api/chat", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], "
                + "\"mode\": \"shout\"}");
        assertThat(badMode.body()).contains("add, bias or clamp");

        String long_ = "the President said that ".repeat(200);
        HttpResponse<String> tooLong = post("/api/chat", chat(long_, List.of(), false));
        assertThat(tooLong.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(tooLong.body()).get("error").asText()).contains("context is 512 tokens");
        assertThat(post("/api/inspect", Map.of("text", long_)).body()).contains("context is 512 tokens");
        assertThat(post("/api/inspect", Map.of("text", "  ")).statusCode()).isEqualTo(400);

        // A strength so large the residual overflows: an error event, and the server goes on serving.
        List<Map.Entry<String, JsonNode>> overflow = events(post("/api/chat", chat("Hello",
                List.of(Map.of("latent", 1, "strength", 1e39)), true)).body());
        assertThat(overflow).anySatisfy(e -> {
            assertThat(e.getKey()).isEqualTo("error");
            assertThat(e.getValue().get("error").asText()).contains("finite").contains("lower the strength");
        });
        assertThat(get("/api/info").statusCode()).isEqualTo(200);
    }

    @Test
    void steeredChatStreamsBesideTheUnsteeredReply() throws Exception {
        JsonNode first = JSON.readTree(get("/api/features?sort=density&limit=1").body()).get("items").get(0);
        int latent = first.get("latent").asInt();
        HttpResponse<String> r = post("/api/chat", chat("The President said that",
                List.of(Map.of("latent", latent, "strength", 12)), true));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t)
                .startsWith("text/event-stream"));
        List<Map.Entry<String, JsonNode>> ev = events(r.body());
        assertThat(ev.getFirst().getKey()).isEqualTo("start");
        assertThat(ev.getLast().getKey()).isEqualTo("end");
        assertThat(ev.stream().filter(e -> e.getKey().equals("token")).count()).isGreaterThan(8);
        Map<String, String> both = replies(ev);
        assertThat(both.get("steered")).isNotEqualTo(both.get("plain"));

        // The unsteered reply is what the model says alone, with the same seed.
        Map<String, String> alone = replies(events(post("/api/chat", chat("The President said that", List.of(),
                false)).body()));
        assertThat(alone).containsOnlyKeys("steered");
        assertThat(alone.get("steered")).isEqualTo(both.get("plain"));
        // ... and a steered reply is reproducible.
        assertThat(replies(events(post("/api/chat", chat("The President said that",
                List.of(Map.of("latent", latent, "strength", 12)), true)).body()))).isEqualTo(both);
    }

    @Test
    void aClientThatHangsUpStopsItsGenerationAndOthersAreServed() throws Exception {
        long before = JSON.readTree(get("/api/status").body()).get("abandoned").asLong();
        Map<String, Object> request = chat("The President said that", List.of(Map.of("latent", 3, "strength", 4)),
                true);
        request.put("max_tokens", 1024);
        HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(URI.create(server.base() + "/api/chat"))
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(request))).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = r.body();
             BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null && !line.equals("event: token")) {
                // read up to the first token
            }
            assertThat(line).isEqualTo("event: token");
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        JsonNode status;
        do {
            Thread.sleep(50);
            status = JSON.readTree(get("/api/status").body());
        } while ((status.get("busy").asBoolean() || status.get("abandoned").asLong() == before)
                && System.nanoTime() < deadline);
        assertThat(status.get("abandoned").asLong()).as("the generation noticed the client had gone")
                .isGreaterThan(before);
        assertThat(status.get("busy").asBoolean()).isFalse();
        assertThat(replies(events(post("/api/chat", chat("Hello", List.of(), false)).body()))).containsKey("steered");
    }

    @Test
    void filesAreServedFromTheRunDirectoryOnly() throws Exception {
        HttpResponse<String> report = get("/files/report.html");
        assertThat(report.statusCode()).isEqualTo(200);
        assertThat(report.body()).contains("metrics");
        assertThat(report.headers().firstValue("Content-Security-Policy")).isPresent();
        assertThat(get("/files/demo.json").statusCode()).isEqualTo(200);
        for (String sneaky : List.of("/files/../secret.txt", "/files/%2e%2e/secret.txt", "/files/..%2fsecret.txt",
                "/files/link.txt", "/files/top/..%2f..%2fsecret.txt", "/files/" + outside, "/files/.hidden",
                "/files/top", "/static/..%2fapp.js", "/static/app.exe")) {
            HttpResponse<String> r = get(sneaky);
            assertThat(r.statusCode()).as(sneaky).isIn(400, 404);
            assertThat(r.body()).as(sneaky).doesNotContain("not for the browser");
        }
        // The same, below the HTTP client's own normalization.
        try (Socket s = new Socket("127.0.0.1", server.command().boundPort)) {
            s.getOutputStream().write(("GET /files/../../" + dir.getParent().relativize(outside)
                    + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(answer).startsWith("HTTP/1.1 4").doesNotContain("not for the browser");
        }
        HttpResponse<String> index = get("/");
        assertThat(index.statusCode()).isEqualTo(200);
        assertThat(index.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(p -> assertThat(p)
                .contains("default-src 'self'"));
        assertThat(index.body()).doesNotContain("http://", "https://");
        assertThat(get("/static/app.js").body()).doesNotContain("innerHTML", "https://");
    }

    @Test
    void aFeatureWithoutALabelAndASecondServerOnTheSamePort(@TempDir Path noLabels) throws Exception {
        Server unlabeled = serve("serve", "--sae", dir.resolve("train/sae").toString(), "--top",
                dir.resolve("top").toString(), "--labels", noLabels.toString(), "--port", "0", "--threads", "1");
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(unlabeled.base()
                    + "/api/features/3")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            JsonNode f = JSON.readTree(r.body());
            assertThat(f.get("label").isNull()).isTrue();
            assertThat(f.get("labelMissing").asText()).contains("no labels yet").contains("sae4j label --top");
        } finally {
            unlabeled.stop();
        }

        Server second = serve("serve", "--dir", dir.toString(), "--port", String.valueOf(server.command().boundPort),
                "--threads", "1");
        second.thread().join(30_000);
        assertThat(second.exit()[0]).isEqualTo(1);
        assertThat(second.err().toString()).contains("port is in use").contains("--port");
        assertThat(get("/api/info").statusCode()).as("the first server goes on").isEqualTo(200);
    }

    @Test
    void thePageInChromium() throws Exception {
        Path script = Path.of("src/test/browser/ui.test.mjs").toAbsolutePath();
        Path chromium = Path.of(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"));
        boolean required = "required".equals(System.getenv("SAE4J_BROWSER_TESTS"));
        String missing = !Files.isExecutable(chromium) ? chromium + " (apt-get install chromium)"
                : !Files.isDirectory(script.resolveSibling("node_modules/playwright-core"))
                ? "playwright-core (npm ci in " + script.getParent() + ")" : which("node") ? null : "node";
        if (missing != null) {
            if (required) {
                fail("SAE4J_BROWSER_TESTS=required but the browser test cannot run: missing " + missing);
            }
            Assumptions.abort("the browser test needs " + missing + "; .ci/run installs it");
        }
        Path shots = Path.of("target/browser-screenshots").toAbsolutePath();
        Process p = new ProcessBuilder("node", script.toString(), server.base(), shots.toString())
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(output + "\n(screenshots in " + shots + ")").isZero();
        JsonNode findings = JSON.readTree(output.lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b)
                .orElseThrow());
        System.out.println("browser test findings: " + findings);
        assertThat(findings.at("/chat/firstTokenMs").asLong()).as("first token on the page").isLessThan(1000);
        assertThat(shots.resolve("3-chat.png")).isRegularFile();
    }

    private static boolean which(String program) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, program))) {
                return true;
            }
        }
        return false;
    }
}
