package io.github.sae4j.claude;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.anthropic.core.Sleeper;
import com.fasterxml.jackson.databind.JsonNode;
import io.github.sae4j.api.label.ActivatingExample;
import io.github.sae4j.api.label.LabelingListener;
import io.github.sae4j.api.label.LatentExamples;
import io.github.sae4j.api.label.LatentLabel;
import io.github.sae4j.claude.MockBatchesServer.Fault;
import io.github.sae4j.claude.MockBatchesServer.Outcome;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The claude labeler against a local stand-in of the Message Batches API: no request leaves 127.0.0.1. */
class ClaudeLabelerTest {

    static final String KEY = "sk-ant-api03-TEST-only-never-print-this-key-0123456789";

    @TempDir
    Path dir;
    MockBatchesServer server;
    final List<Duration> sdkSleeps = Collections.synchronizedList(new ArrayList<>());
    final List<String> logLines = Collections.synchronizedList(new ArrayList<>());
    private final Logger julLogger = Logger.getLogger(ClaudeLabeler.class.getName());
    private final Handler logCapture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            logLines.add(new SimpleFormatter().format(record));
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void start() throws IOException {
        server = new MockBatchesServer();
        julLogger.addHandler(logCapture);
    }

    @AfterEach
    void stop() {
        julLogger.removeHandler(logCapture);
        server.close();
    }

    /** The SDK's retry waits, recorded and shortened so that the tests stay fast. */
    final Sleeper fastSleeper = new Sleeper() {
        @Override
        public void sleep(Duration duration) {
            sdkSleeps.add(duration);
            try {
                Thread.sleep(Math.min(duration.toMillis(), 5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public CompletableFuture<Void> sleepAsync(Duration duration) {
            sdkSleeps.add(duration);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public void close() {
        }
    };

    ClaudeLabeler labeler(String... options) {
        return labeler(Map.of(ClaudeLabeler.API_KEY_VARIABLE, KEY), options);
    }

    ClaudeLabeler labeler(Map<String, String> environment, String... options) {
        Map<String, String> map = new HashMap<>(Map.of("base-url", server.url(), "poll-seconds", "0.01",
                "timeout-seconds", "2", "max-retries", "3"));
        for (int i = 0; i < options.length; i += 2) {
            map.put(options[i], options[i + 1]);
        }
        return new ClaudeLabeler(ClaudeSettings.parse(map), environment, fastSleeper);
    }

    static List<LatentExamples> latents(int... ids) {
        List<LatentExamples> out = new ArrayList<>();
        for (int id : ids) {
            out.add(new LatentExamples(id, List.of(
                    new ActivatingExample(100L * id, List.of("The", " cat", " sat", " on", " the", " mat"),
                            new float[] {0, 3.5f + id, 0.2f, 0, 0, 1.5f}, 3.5f + id),
                    new ActivatingExample(100L * id + 1, List.of("A", " kitten", " purr", "ed"),
                            new float[] {0, 2.5f, 0.8f, 0}, 2.5f))));
        }
        return out;
    }

    static List<LatentLabel> run(ClaudeLabeler labeler, List<LatentExamples> latents, Path dir)
            throws IOException, InterruptedException {
        try (labeler) {
            return labeler.label(latents, dir, LabelingListener.NONE);
        }
    }

    void answer(Map<Integer, List<Outcome>> byLatentThenAttempt) {
        server.answers = (latent, attempt) -> {
            List<Outcome> scripted = byLatentThenAttempt.get(latent);
            if (scripted == null || attempt > scripted.size()) {
                return good(latent);
            }
            return scripted.get(attempt - 1);
        };
    }

    static Outcome good(int latent) {
        return new Outcome.Text("{\"common_semantic\": \"meaning of latent " + latent + "\", \"certainty\": 0.9}");
    }

    static void assertAllLabeled(List<LatentLabel> labels, int... ids) {
        assertThat(labels).extracting(LatentLabel::latent).containsExactly(java.util.Arrays.stream(ids).boxed()
                .toArray(Integer[]::new));
        for (LatentLabel l : labels) {
            assertThat(l.succeeded()).as("latent %d: %s", l.latent(), l.error()).isTrue();
            assertThat(l.label()).isEqualTo("meaning of latent " + l.latent());
        }
    }

    long creates() {
        return server.received().stream().filter(r -> r.method().equals("POST")).count();
    }

    @Test
    void labelsSeveralLatentsThroughOneBatchAndReportsUsageAndCost() throws Exception {
        ClaudeLabeler labeler = labeler();
        List<LatentLabel> labels = run(labeler, latents(3, 1, 2, 7, 5), dir);

        assertAllLabeled(labels, 3, 1, 2, 7, 5);
        assertThat(labels.getFirst().confidence()).isEqualTo(0.9);
        assertThat(labels.getFirst().rawResponse()).contains("common_semantic");
        assertThat(server.creates()).containsExactly(List.of("latent-1", "latent-2", "latent-3", "latent-5",
                "latent-7"));
        assertThat(server.received()).extracting(MockBatchesServer.Received::apiKey).containsOnly(KEY);

        LabelingUsage usage = labeler.usage().orElseThrow();
        assertThat(usage.results()).isEqualTo(5);
        assertThat(usage.inputTokens()).isEqualTo(5 * 1000);
        assertThat(usage.outputTokens()).isEqualTo(5 * 50);
        assertThat(usage.costUsd()).isCloseTo(0.5 * (5000 * 2.0 + 250 * 10.0) / 1e6, org.assertj.core.data.Offset
                .offset(1e-12));
        JsonNode usageFile = MockBatchesServer.JSON.readTree(dir.resolve(ClaudeLabeler.USAGE_FILE).toFile());
        assertThat(usageFile.path("inputTokens").asLong()).isEqualTo(5000);
        assertThat(usageFile.path("labeled").asInt()).isEqualTo(5);

        List<String> labelLines = Files.readAllLines(dir.resolve(ClaudeLabeler.LABELS_FILE));
        assertThat(labelLines).hasSize(5);
        assertThat(MockBatchesServer.JSON.readTree(labelLines.getFirst()).path("prompt_version").asText())
                .isEqualTo(LabelPrompt.VERSION);
    }

    @Test
    void sendsThePromptWithMarkedTokensTheModelMaxTokensAndEffort() throws Exception {
        run(labeler("model", "claude-test-model", "max-tokens", "777", "effort", "medium"), latents(4), dir);

        MockBatchesServer.Received create = server.received().stream().filter(r -> r.method().equals("POST"))
                .findFirst().orElseThrow();
        JsonNode params = MockBatchesServer.JSON.readTree(create.body()).path("requests").get(0).path("params");
        assertThat(params.path("model").asText()).isEqualTo("claude-test-model");
        assertThat(params.path("max_tokens").asInt()).isEqualTo(777);
        assertThat(params.at("/output_config/effort").asText()).isEqualTo("medium");
        String prompt = params.at("/messages/0/content").asText();
        assertThat(prompt).contains("The «cat|10» sat on the «mat|2»").contains("common_semantic");
    }

    @Test
    void splitsTheRequestsIntoBatchesOfBatchSize() throws Exception {
        List<LatentLabel> labels = run(labeler("batch-size", "2"), latents(1, 2, 3, 4, 5), dir);

        assertAllLabeled(labels, 1, 2, 3, 4, 5);
        assertThat(server.creates()).containsExactly(List.of("latent-1", "latent-2"),
                List.of("latent-3", "latent-4"), List.of("latent-5"));
    }

    @Test
    void readsAnswersInProseInCodeFencesAndWithCertaintyAsTextOrPercent() throws Exception {
        answer(Map.of(
                1, List.of(new Outcome.Text("Looking at the examples, they share a theme.\n"
                        + "{\"common_semantic\": \"meaning of latent 1\", \"certainty\": \"0.7\"}\nHope this helps.")),
                2, List.of(new Outcome.Text("```json\n{\"common_semantic\": \"meaning of latent 2\","
                        + " \"certainty\": \"85%\"}\n```")),
                3, List.of(new Outcome.Text("{\"common_semantic\": \"meaning of latent 3\", \"certainty\": 60}"))));

        List<LatentLabel> labels = run(labeler(), latents(1, 2, 3), dir);

        assertAllLabeled(labels, 1, 2, 3);
        assertThat(labels).extracting(LatentLabel::confidence).containsExactly(0.7, 0.85, 0.6);
        assertThat(server.creates()).hasSize(1);
    }

    @Test
    void sendsMalformedAnswersAgainInALaterBatchUntilTheyParse() throws Exception {
        answer(Map.of(
                2, List.of(new Outcome.Text("These are about cats, I am fairly sure."),
                        new Outcome.Text("{\"common_semantic\": \"meaning of latent 2\"}")),
                3, List.of(new Outcome.Text("{\"common_semantic\": \"\", \"certainty\": 0.5}"))));

        List<LatentLabel> labels = run(labeler("max-attempts", "3"), latents(1, 2, 3), dir);

        assertAllLabeled(labels, 1, 2, 3);
        assertThat(server.creates()).containsExactly(List.of("latent-1", "latent-2", "latent-3"),
                List.of("latent-2", "latent-3"), List.of("latent-2"));
        JsonNode state = MockBatchesServer.JSON.readTree(dir.resolve(LabelingState.FILE_NAME).toFile());
        assertThat(state.at("/labels/2/attempt").asInt()).isEqualTo(3);
        assertThat(state.path("failures").isEmpty()).isTrue();
    }

    @Test
    void reportsALatentThatStaysMalformedAfterMaxAttemptsAsAnErrorWithItsRawAnswer() throws Exception {
        answer(Map.of(2, List.of(new Outcome.Text("no idea"), new Outcome.Text("still no idea"))));

        List<LatentLabel> labels = run(labeler("max-attempts", "2"), latents(1, 2), dir);

        assertThat(labels.get(0).succeeded()).isTrue();
        LatentLabel failed = labels.get(1);
        assertThat(failed.succeeded()).isFalse();
        assertThat(failed.label()).isNull();
        assertThat(failed.error()).contains("malformed answer").contains("after 2 attempts")
                .contains("raise max-attempts");
        assertThat(failed.rawResponse()).isEqualTo("still no idea");
        assertThat(server.creates()).hasSize(2);

        // Rerun with the same options: nothing left to send, the failure is reported again.
        int before = server.received().size();
        List<LatentLabel> again = run(labeler("max-attempts", "2"), latents(1, 2), dir);
        assertThat(server.received()).hasSize(before);
        assertThat(again.get(1).error()).isEqualTo(failed.error());

        // More attempts allowed: only the failed latent is sent again.
        run(labeler("max-attempts", "3"), latents(1, 2), dir);
        assertThat(server.creates().getLast()).containsExactly("latent-2");
    }

    @Test
    void waitsOutA429WithRetryAfterOnEveryEndpoint() throws Exception {
        server.fail("create", Fault.status(429, Map.of("retry-after-ms", "40")));
        server.fail("retrieve", Fault.status(429, Map.of("retry-after-ms", "700")));
        server.fail("results", Fault.status(429, Map.of("retry-after", "1")));

        List<LatentLabel> labels = run(labeler(), latents(1, 2), dir);

        assertAllLabeled(labels, 1, 2);
        assertThat(server.creates()).hasSize(1);
        assertThat(sdkSleeps).as("the SDK waited as long as the server asked")
                .contains(Duration.ofMillis(700), Duration.ofSeconds(1));
    }

    @Test
    void retriesServerErrorsOnEveryEndpoint() throws Exception {
        server.fail("create", Fault.status(500, Map.of()), Fault.status(529, Map.of()));
        server.fail("retrieve", Fault.status(500, Map.of()), Fault.status(503, Map.of()));
        server.fail("results", Fault.status(502, Map.of()));

        List<LatentLabel> labels = run(labeler(), latents(1, 2, 3), dir);

        assertAllLabeled(labels, 1, 2, 3);
        assertThat(server.creates()).as("a failed create is never followed by a second batch").hasSize(1);
    }

    @Test
    void retriesAPollThatTimesOut() throws Exception {
        server.fail("retrieve", Fault.delay(1500));

        List<LatentLabel> labels = run(labeler("timeout-seconds", "0.3"), latents(1), dir);

        assertAllLabeled(labels, 1);
    }

    @Test
    void adoptsABatchWhoseCreateResponseWasLostInsteadOfCreatingItAgain() throws Exception {
        server.createDelayAfterCreatingMillis = 1200;

        List<LatentLabel> labels = run(labeler("timeout-seconds", "0.3"), latents(1, 2), dir);

        assertAllLabeled(labels, 1, 2);
        assertThat(server.creates()).as("the batch the API made is found by listing, not sent again").hasSize(1);
        assertThat(logLines).anyMatch(l -> l.contains("adopted batch msgbatch_1"));
    }

    @Test
    void adoptsOnRerunABatchWhoseCreateCallTheLastRunNeverSawReturn() throws Exception {
        server.createDelayAfterCreatingMillis = 1200;
        assertThatThrownBy(() -> run(labeler("timeout-seconds", "0.3", "max-retries", "0"), latents(1, 2), dir))
                .isInstanceOf(IOException.class).hasMessageContaining("rerun");
        JsonNode state = MockBatchesServer.JSON.readTree(dir.resolve(LabelingState.FILE_NAME).toFile());
        assertThat(state.at("/batches/0/id").isMissingNode()).as("recorded as asked for, id unknown").isTrue();
        server.createDelayAfterCreatingMillis = 0;

        List<LatentLabel> labels = run(labeler(), latents(1, 2), dir);

        assertAllLabeled(labels, 1, 2);
        assertThat(server.creates()).hasSize(1);
    }

    @Test
    void sendsErroredAndExpiredEntriesAgainInANewBatch() throws Exception {
        answer(Map.of(
                1, List.of(new Outcome.Errored("overloaded_error", "Overloaded")),
                3, List.of(new Outcome.Expired())));

        List<LatentLabel> labels = run(labeler(), latents(1, 2, 3, 4), dir);

        assertAllLabeled(labels, 1, 2, 3, 4);
        assertThat(server.creates()).containsExactly(List.of("latent-1", "latent-2", "latent-3", "latent-4"),
                List.of("latent-1", "latent-3"));
    }

    @Test
    void retriesTheLatentsOfAResultsFileThatEndsInACutOffLine() throws Exception {
        String first = MockBatchesServer.resultLine("latent-1", good(1));
        server.cutNextResultsAt = first.length() + 1 + 40; // line 1 whole, line 2 cut, line 3 gone

        List<LatentLabel> labels = run(labeler(), latents(1, 2, 3), dir);

        assertAllLabeled(labels, 1, 2, 3);
        assertThat(server.creates()).containsExactly(List.of("latent-1", "latent-2", "latent-3"),
                List.of("latent-2", "latent-3"));
    }

    @Test
    void resumesAfterAKillWithoutCreatingAnyBatchTwice() throws Exception {
        // Killed right after the second of two batches was created.
        LabelingListener killer = new LabelingListener() {
            int calls;

            @Override
            public void onLabels(int finished, int total) {
                if (++calls == 2) {
                    throw new IllegalStateException("killed");
                }
            }
        };
        try (ClaudeLabeler first = labeler("batch-size", "2")) {
            assertThatThrownBy(() -> first.label(latents(1, 2, 3, 4), dir, killer)).hasMessage("killed");
        }
        assertThat(server.creates()).hasSize(2);

        List<LatentLabel> labels = run(labeler("batch-size", "2"), latents(1, 2, 3, 4), dir);

        assertAllLabeled(labels, 1, 2, 3, 4);
        assertThat(server.creates()).as("the second run polled the recorded batches").hasSize(2);

        // A third run finds everything done and sends nothing at all.
        int before = server.received().size();
        assertAllLabeled(run(labeler("batch-size", "2"), latents(1, 2, 3, 4), dir), 1, 2, 3, 4);
        assertThat(server.received()).hasSize(before);
    }

    @Test
    void resumesAfterAKillBetweenTwoBatchesResults() throws Exception {
        LabelingListener killAfterFirstCollect = (finished, total) -> {
            if (finished > 0) {
                throw new IllegalStateException("killed");
            }
        };
        try (ClaudeLabeler first = labeler("batch-size", "2")) {
            assertThatThrownBy(() -> first.label(latents(1, 2, 3), dir, killAfterFirstCollect))
                    .hasMessage("killed");
        }

        List<LatentLabel> labels = run(labeler("batch-size", "2"), latents(1, 2, 3), dir);

        assertAllLabeled(labels, 1, 2, 3);
        assertThat(server.creates()).as("the collected batch kept, the other polled").hasSize(2);
    }

    @Test
    void refusesAStateFileFromAnotherRunNamingTheFileAndWhatDiffers() throws Exception {
        run(labeler(), latents(1, 2), dir);
        Path stateFile = dir.resolve(LabelingState.FILE_NAME);

        assertThatThrownBy(() -> run(labeler("model", "claude-other"), latents(1, 2), dir))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(stateFile.toString())
                .hasMessageContaining("model is '" + ClaudeSettings.DEFAULT_MODEL + "'")
                .hasMessageContaining("'claude-other'")
                .hasMessageContaining("another state directory");
        assertThatThrownBy(() -> run(labeler(), latents(1, 2, 9), dir))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("latents differ").hasMessageContaining("only here: 9");
        assertThatThrownBy(() -> run(labeler("examples", "1"), latents(1, 2), dir))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("requests differ");
        assertThat(server.creates()).hasSize(1);
    }

    @Test
    void refusesToStartWithoutAnApiKeyBeforeSendingAnything() {
        assertThatThrownBy(() -> labeler(Map.of()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("ANTHROPIC_API_KEY")
                .hasMessageContaining("dry-run=true");
        assertThatThrownBy(() -> labeler(Map.of(ClaudeLabeler.API_KEY_VARIABLE, "  ")))
                .hasMessageContaining("ANTHROPIC_API_KEY");
        assertThat(server.received()).isEmpty();
    }

    @Test
    void dryRunWritesTheExactRequestsAndACostEstimateAndSendsNothingWithoutAKey() throws Exception {
        ClaudeLabeler labeler = labeler(Map.of(), "dry-run", "true", "max-tokens", "1000");
        List<LatentLabel> labels = run(labeler, latents(1, 2, 3), dir);

        assertThat(server.received()).isEmpty();
        assertThat(labels).allSatisfy(l -> assertThat(l.error()).contains("dry run"));
        List<String> lines = Files.readAllLines(dir.resolve(ClaudeLabeler.REQUESTS_FILE));
        assertThat(lines).hasSize(3);
        JsonNode first = MockBatchesServer.JSON.readTree(lines.getFirst());
        assertThat(first.path("custom_id").asText()).isEqualTo("latent-1");
        assertThat(first.at("/params/model").asText()).isEqualTo(ClaudeSettings.DEFAULT_MODEL);
        assertThat(first.at("/params/max_tokens").asInt()).isEqualTo(1000);
        assertThat(first.at("/params/messages/0/content").asText()).contains("«cat|10»");

        CostEstimate estimate = labeler.costEstimate().orElseThrow();
        assertThat(estimate.requests()).isEqualTo(3);
        assertThat(estimate.batches()).isEqualTo(1);
        assertThat(estimate.maxOutputTokens()).isEqualTo(3000);
        assertThat(estimate.estimatedInputTokens()).isBetween(3L * 150, 3L * 600);
        assertThat(estimate.estimatedCostUsd()).isCloseTo(0.5 * (estimate.estimatedInputTokens() * 2.0
                + 3000 * 10.0) / 1e6, org.assertj.core.data.Offset.offset(1e-12));
        JsonNode file = MockBatchesServer.JSON.readTree(dir.resolve(ClaudeLabeler.COST_ESTIMATE_FILE).toFile());
        assertThat(file.path("requests").asInt()).isEqualTo(3);
        assertThat(dir.resolve(LabelingState.FILE_NAME)).doesNotExist();
    }

    @Test
    void dryRunAfterAPartialRunListsOnlyWhatIsLeft() throws Exception {
        answer(Map.of(2, List.of(new Outcome.Text("?"))));
        run(labeler("max-attempts", "1"), latents(1, 2), dir);

        ClaudeLabeler dry = labeler(Map.of(), "dry-run", "true", "max-attempts", "2");
        List<LatentLabel> labels = run(dry, latents(1, 2), dir);

        assertThat(labels.get(0).succeeded()).isTrue();
        assertThat(Files.readAllLines(dir.resolve(ClaudeLabeler.REQUESTS_FILE))).singleElement()
                .asString().contains("\"latent-2\"");
    }

    @Test
    void aRefusedBatchIsAnErrorNamingTheOptionsAndLeavesNoPendingCreate() throws Exception {
        server.fail("create", Fault.status(400, Map.of()));

        assertThatThrownBy(() -> run(labeler(), latents(1), dir))
                .isInstanceOf(IOException.class).hasMessageContaining("refused")
                .hasMessageContaining("model").hasMessageNotContaining(KEY);
        JsonNode state = MockBatchesServer.JSON.readTree(dir.resolve(LabelingState.FILE_NAME).toFile());
        assertThat(state.path("batches").isEmpty()).isTrue();
    }

    @Test
    void theApiKeyAppearsInNoStateFileOutputFileLogLineOrMessage() throws Exception {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream capture = new PrintStream(captured, true, StandardCharsets.UTF_8);
        List<String> messages = new ArrayList<>();
        System.setOut(capture);
        System.setErr(capture);
        try {
            answer(Map.of(2, List.of(new Outcome.Errored("api_error", "boom"), new Outcome.Text("??"),
                    new Outcome.Text("??"))));
            server.fail("retrieve", Fault.status(500, Map.of()));
            server.fail("create", Fault.status(429, Map.of("retry-after-ms", "10")));
            List<LatentLabel> labels = run(labeler(), latents(1, 2), dir);
            labels.forEach(l -> messages.add(String.valueOf(l)));
            try {
                server.fail("create", Fault.status(401, Map.of()));
                run(labeler(), latents(1, 2, 3), dir.resolve("other"));
            } catch (IOException e) {
                messages.add(String.valueOf(e));
                messages.add(String.valueOf(e.getCause()));
            }
            run(labeler(Map.of(ClaudeLabeler.API_KEY_VARIABLE, KEY), "dry-run", "true"), latents(1, 2, 3),
                    dir.resolve("dry"));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        assertThat(server.received()).isNotEmpty();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                assertThat(Files.readString(f)).as(f.toString()).doesNotContain(KEY);
            }
        }
        assertThat(captured.toString(StandardCharsets.UTF_8)).doesNotContain(KEY);
        assertThat(logLines).isNotEmpty().noneMatch(l -> l.contains(KEY));
        assertThat(messages).hasSizeGreaterThan(2).noneMatch(m -> m.contains(KEY));
        assertThat(labeler().toString()).doesNotContain(KEY);
    }
}
