package io.github.sae4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code sae4j generate} and {@code sae4j chat} on the embedded model (found above the working directory). */
class GenerateAndChatCommandTest {

    @Test
    void greedyGenerationIsRepeatableAndReportsItsSpeed() {
        CliRun first = CliRun.of("generate", "--prompt", "Once upon a time", "--greedy", "--max-tokens", "12",
                "--threads", "2");
        assertThat(first.exitCode()).as(first.toString()).isZero();
        assertThat(first.out()).startsWith("Once upon a time").hasSizeGreaterThan("Once upon a time".length() + 5);
        assertThat(first.err()).contains("12 tokens in").contains("tokens/s").contains("length");
        CliRun second = CliRun.of("generate", "--prompt", "Once upon a time", "--greedy", "--max-tokens", "12");
        assertThat(second.out()).isEqualTo(first.out());
    }

    @Test
    void severalPromptsAreGeneratedAsABatchAndGgufWorksToo() {
        CliRun run = CliRun.of("generate", "-p", "The whale", "-p", "Congress", "--max-tokens", "8", "--seed", "3",
                "--model", ModelOptionsPaths.embedded().resolve("tiny-llama3-Q8_0.gguf").toString());
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.out()).contains("[0] The whale").contains("[1] Congress");
    }

    @Test
    void chatAnswersEachLineUntilExit() {
        InputStream stdin = System.in;
        try {
            System.setIn(new ByteArrayInputStream("What is a whale?\n/reset\nHello!\n/exit\n"
                    .getBytes(StandardCharsets.UTF_8)));
            CliRun run = CliRun.of("chat", "--max-tokens", "20", "--greedy", "--system", "You are terse.");
            assertThat(run.exitCode()).as(run.toString()).isZero();
            assertThat(run.out()).contains("Chatting with tiny-llama3").contains("(conversation cleared)");
            assertThat(run.out().split("> ", -1)).as("a prompt for each input line").hasSizeGreaterThanOrEqualTo(4);
        } finally {
            System.setIn(stdin);
        }
    }

    @Test
    void aMissingModelIsAClearError() {
        CliRun run = CliRun.of("generate", "--prompt", "x", "--model", "no/such/model");
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("no/such/model").contains("does not exist");
    }

    /** The embedded model's directory. */
    static final class ModelOptionsPaths {
        static java.nio.file.Path embedded() {
            try {
                return ModelOptions.embeddedModel();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }
}
