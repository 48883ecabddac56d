package io.github.sae4j.serve;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfinedFilesTest {

    @Test
    void servesFilesUnderTheRootAndNothingElse(@TempDir Path tmp) throws Exception {
        Path root = Files.createDirectories(tmp.resolve("run"));
        Files.writeString(root.resolve("report.html"), "<p>ok</p>");
        Files.createDirectories(root.resolve("plots"));
        Files.writeString(root.resolve("plots/loss.png"), "png");
        Files.writeString(root.resolve(".env"), "secret");
        Path secret = Files.writeString(tmp.resolve("secret.txt"), "secret");
        Files.createSymbolicLink(root.resolve("out.txt"), secret);
        Files.createSymbolicLink(root.resolve("in.html"), root.resolve("report.html"));
        Files.createSymbolicLink(root.resolve("up"), tmp);

        ConfinedFiles files = new ConfinedFiles(root);
        assertThat(files.resolve("report.html")).contains(root.toRealPath().resolve("report.html"));
        assertThat(files.resolve("plots/loss.png")).isPresent();
        assertThat(files.resolve("in.html")).as("a link that stays inside").isPresent();
        for (String bad : new String[] {"", "/etc/passwd", secret.toString(), "../secret.txt", "plots/../../secret.txt",
                "plots/../report.html", "./report.html", "out.txt", "up/secret.txt", ".env", "plots", "plots/",
                "a\0b", "..\\secret.txt", "nothing.html"}) {
            assertThat(files.resolve(bad)).as("'%s'", bad).isEmpty();
        }
    }

    @Test
    void contentTypesByExtension() {
        assertThat(ConfinedFiles.contentType(Path.of("a/report.HTML"))).startsWith("text/html");
        assertThat(ConfinedFiles.contentType(Path.of("m.png"))).isEqualTo("image/png");
        assertThat(ConfinedFiles.contentType(Path.of("weights.safetensors"))).isEqualTo("application/octet-stream");
        assertThat(ConfinedFiles.contentType(Path.of("noext"))).isEqualTo("application/octet-stream");
    }
}
