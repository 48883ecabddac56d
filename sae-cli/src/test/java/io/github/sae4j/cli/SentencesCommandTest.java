package io.github.sae4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sae4j sentences}: the openwebtext plugin, found through the registry, writes a sentences Parquet. */
class SentencesCommandTest {

    @TempDir
    Path dir;

    static Path demoCorpus() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("data/demo-corpus"))) {
                return d.resolve("data/demo-corpus");
            }
        }
        throw new AssertionError("data/demo-corpus not found above " + Path.of("").toAbsolutePath());
    }

    @Test
    void theDemoCorpusBecomesASentencesFileWithASummary() {
        Path out = dir.resolve("runs/demo/sentences.parquet");

        CliRun run = CliRun.of("sentences", "--corpus", demoCorpus().toString(), "--out", out.toString());

        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.out()).contains("(openwebtext)").contains("documents: 31").contains("skipped documents: 0")
                .containsPattern("sentences: \\d{4,}").contains("MB").contains("seconds:").contains("wrote " + out);
        assertThat(out).isRegularFile();
    }

    @Test
    void skippedDocumentsAreReportedWithTheirReasons() throws IOException {
        Path corpus = Files.writeString(dir.resolve("c.jsonl"), """
                {"body": "One. Two!"}
                {"body": null}
                {"body": "   "}
                {"body": "Three?"}
                """);
        Path out = dir.resolve("s.parquet");

        CliRun run = CliRun.of("sentences", "--corpus", corpus.toString(), "--out", out.toString(), "--column", "body",
                "--splitter", "rules");

        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.out()).contains("documents: 4").contains("skipped documents: 2 (1 null")
                .contains("1 empty or only whitespace").contains("sentences: 3");
    }

    @Test
    void badInputIsAClearErrorAndWritesNothing() throws IOException {
        Path corpus = Files.writeString(dir.resolve("c.jsonl"), "{\"text\": \"One.\"}\n");
        Path out = dir.resolve("s.parquet");

        CliRun missingField = CliRun.of("sentences", "--corpus", corpus.toString(), "--out", out.toString(),
                "--column", "body");
        assertThat(missingField.exitCode()).isEqualTo(1);
        assertThat(missingField.err()).contains("no field 'body'").contains("[text]");
        assertThat(out).doesNotExist();

        CliRun missing = CliRun.of("sentences", "--corpus", dir.resolve("nope").toString(), "--out", out.toString());
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.err()).contains("no such file").contains("nope");
    }
}
