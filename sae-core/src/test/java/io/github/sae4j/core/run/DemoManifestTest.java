package io.github.sae4j.core.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** demo.json: what the demo wrote, read back by the web UI, with errors that say what to run. */
class DemoManifestTest {

    private static final DemoManifest MANIFEST = new DemoManifest("models/tiny-llama3", "blocks.4.hook_resid_post",
            "sae/sae", "top", "sentences.parquet", "report.html", "acts", "eval.json", "spliced.json",
            "steering.json");

    /** A demo directory with the files the manifest names. */
    private static Path demo(Path dir) throws IOException {
        Files.createDirectories(dir.resolve("sae/sae"));
        Files.createDirectories(dir.resolve("top"));
        Files.writeString(dir.resolve("sentences.parquet"), "");
        Files.writeString(dir.resolve("report.html"), "<!DOCTYPE html>");
        return dir;
    }

    @Test
    void roundTripsWithSnakeCaseNamesAndPathsRelativeToTheDirectory(@TempDir Path tmp) throws IOException {
        Path dir = demo(tmp);
        MANIFEST.write(dir);

        assertThat(Files.readString(dir.resolve(DemoManifest.FILE))).contains("\"hook_point\" : \"blocks.4.hook_resid_post\"")
                .contains("\"sae\" : \"sae/sae\"").contains("\"spliced_eval\" : \"spliced.json\"");
        DemoManifest read = DemoManifest.read(dir);
        assertThat(read).isEqualTo(MANIFEST);
        assertThat(DemoManifest.resolve(dir, read.sae())).isDirectory();
    }

    @Test
    void optionalFieldsMayBeAbsentAndUnknownOnesAreIgnored(@TempDir Path tmp) throws IOException {
        Path dir = demo(tmp);
        Files.writeString(dir.resolve(DemoManifest.FILE), """
                {"model": "m.gguf", "hook_point": "blocks.1.hook_resid_post", "sae": "sae/sae", "top": "top",
                 "sentences": "sentences.parquet", "report": "report.html", "written_by": "a newer sae4j"}
                """);
        DemoManifest read = DemoManifest.read(dir);
        assertThat(read.model()).isEqualTo("m.gguf");
        assertThat(read.eval()).isNull();
    }

    @Test
    void aDirectoryWithoutAManifestSaysTheDemoHasNotFinishedAndWhatToRun(@TempDir Path tmp) {
        assertThatThrownBy(() -> DemoManifest.read(tmp)).isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining(tmp.resolve("demo.json").toString())
                .hasMessageContaining("the demo has not finished").hasMessageContaining("./sae4j demo --out " + tmp);
        assertThatThrownBy(() -> DemoManifest.read(tmp.resolve("nothing"))).hasMessageContaining("is not a directory");
    }

    @Test
    void badJsonNamesTheFileAndWhere(@TempDir Path tmp) throws IOException {
        Path dir = demo(tmp);
        Files.writeString(dir.resolve(DemoManifest.FILE), "{\"model\": \"m\",\n \"sae\": }");
        assertThatThrownBy(() -> DemoManifest.read(dir)).isInstanceOf(IOException.class)
                .hasMessageContaining(dir.resolve("demo.json") + " is not valid JSON").hasMessageContaining("line 2")
                .hasMessageContaining("./sae4j demo --out");
        Files.writeString(dir.resolve(DemoManifest.FILE), "[1, 2]");
        assertThatThrownBy(() -> DemoManifest.read(dir)).hasMessageContaining("is not a demo manifest");
    }

    @Test
    void aMissingFieldOrFileIsNamed(@TempDir Path tmp) throws IOException {
        Path dir = demo(tmp);
        Files.writeString(dir.resolve(DemoManifest.FILE), """
                {"model": "m", "hook_point": "blocks.1.hook_resid_post", "top": "top",
                 "sentences": "sentences.parquet", "report": "report.html"}
                """);
        assertThatThrownBy(() -> DemoManifest.read(dir)).hasMessageContaining("lacks \"sae\"")
                .hasMessageContaining("the SAE directory");

        MANIFEST.write(dir);
        Files.delete(dir.resolve("report.html"));
        assertThatThrownBy(() -> DemoManifest.read(dir)).isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining(dir.resolve("report.html").toString())
                .hasMessageContaining("names it as \"report\"").hasMessageContaining("./sae4j demo --out");
    }

    @Test
    void writingRefusesAManifestWithoutARequiredPart(@TempDir Path tmp) {
        DemoManifest noTop = new DemoManifest("m", "blocks.1.hook_resid_post", "sae/sae", null, "s.parquet",
                "report.html", null, null, null, null);
        assertThatThrownBy(() -> noTop.write(tmp)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("\"top\"");
        assertThat(tmp.resolve(DemoManifest.FILE)).doesNotExist();
    }
}
