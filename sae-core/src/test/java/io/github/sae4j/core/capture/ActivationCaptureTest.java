package io.github.sae4j.core.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.sae4j.api.activation.ActivationBatch;
import io.github.sae4j.api.activation.ActivationReadOptions;
import io.github.sae4j.api.activation.ActivationStream;
import io.github.sae4j.api.model.HookPoint;
import io.github.sae4j.api.text.Sentence;
import io.github.sae4j.api.text.SentenceSource;
import io.github.sae4j.core.store.ActivationDType;
import io.github.sae4j.core.store.ActivationDataset;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ActivationCaptureTest {

    static final HookPoint MID = HookPoint.parse("blocks.1.hook_resid_mid");
    static final HookPoint POST = HookPoint.parse("blocks.2.hook_resid_post");

    @TempDir
    Path tmp;

    /** 60 sentences of 0-14 words; some blank, two longer than the token limit of 12, ids with gaps. */
    static List<Sentence> corpus() {
        List<Sentence> out = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            int words = i % 7 == 3 ? 0 : 1 + (i * 5) % 11;
            if (i == 17 || i == 40) {
                words = 14;
            }
            StringBuilder sb = new StringBuilder(words == 0 ? "   " : "");
            for (int w = 0; w < words; w++) {
                sb.append("w").append((i * 13 + w * 7) % 50).append(' ');
            }
            out.add(new Sentence(3L * i + 1, i / 4, i % 4, sb.toString()));
        }
        return out;
    }

    static SentenceSource source(List<Sentence> sentences) {
        return new SentenceSource() {
            @Override
            public Iterator<Sentence> iterator() {
                return sentences.iterator();
            }

            @Override
            public void close() {
            }
        };
    }

    static CaptureOptions options() {
        // 12 tokens at most, shards of 40 rows of 12 float32 values, forwards of 30 tokens: many of each.
        return new CaptureOptions(12, false, false, false, ActivationDType.F32, 40L * 12 * 4, 16, 30, Long.MAX_VALUE, 2);
    }

    static ActivationCapture.Request request(FakeLanguageModel model, List<Sentence> sentences, CaptureOptions o,
                                             Path out) {
        return new ActivationCapture.Request(model, "fake/path", new ModelFingerprint(List.of(), "abc123"),
                source(sentences), "test-corpus", List.of(MID, POST), o, out);
    }

    /** Every stored row of a dataset: sentence id, position, token id, values. */
    record Row(long sentence, int position, int token, float[] values) {
    }

    static List<Row> rows(Path dataset) throws IOException {
        List<Row> out = new ArrayList<>();
        try (ActivationDataset d = ActivationDataset.open(dataset);
             ActivationStream s = d.open(ActivationReadOptions.sequential())) {
            ActivationBatch b = new ActivationBatch(7, FakeLanguageModel.D_MODEL);
            while (s.next(b)) {
                for (int r = 0; r < b.rows(); r++) {
                    float[] v = new float[FakeLanguageModel.D_MODEL];
                    System.arraycopy(b.values(), r * v.length, v, 0, v.length);
                    out.add(new Row(b.sentenceIds()[r], b.positions()[r], b.tokenIds()[r], v));
                }
            }
        }
        return out;
    }

    @Test
    void storesEveryTokenOfEverySentenceAtEachHookPointWithProvenance() throws IOException {
        List<Sentence> sentences = corpus();
        FakeLanguageModel model = new FakeLanguageModel();
        Path out = tmp.resolve("capture");
        ActivationCapture.Result result = ActivationCapture.run(request(model, sentences, options(), out),
                CaptureListener.NONE);

        var tokenizer = model.tokenizer();
        long expectedRows = 0;
        for (HookPoint hook : List.of(MID, POST)) {
            List<Row> rows = rows(ActivationCapture.datasetDirectory(out, hook));
            int at = 0;
            for (Sentence s : sentences) {
                int[] ids = tokenizer.encode(s.text(), false);
                for (int p = 0; p < Math.min(12, ids.length); p++) {
                    Row row = rows.get(at++);
                    assertThat(row.sentence()).isEqualTo(s.id());
                    assertThat(row.position()).isEqualTo(p);
                    assertThat(row.token()).isEqualTo(ids[p]);
                    for (int j = 0; j < FakeLanguageModel.D_MODEL; j++) {
                        assertThat(row.values()[j]).isEqualTo(FakeLanguageModel.value(ids[p], p, hook, j));
                    }
                }
            }
            assertThat(rows).hasSize(at);
            expectedRows = at;
        }
        CaptureProgress p = result.progress();
        assertThat(p.sentencesRead()).isEqualTo(60);
        assertThat(p.sentencesEmpty()).isEqualTo(sentences.stream().filter(s -> s.text().isBlank()).count());
        assertThat(p.sentencesTruncated()).isEqualTo(2);
        assertThat(p.rowsStored()).isEqualTo(expectedRows);
        assertThat(p.tokensFed()).isEqualTo(expectedRows).isEqualTo(model.tokensSeen);

        JsonNode manifest = new ObjectMapper().readTree(out.resolve("capture.json").toFile());
        assertThat(manifest.get("complete").asBoolean()).isTrue();
        assertThat(manifest.at("/settings/hook_points").toString()).contains("blocks.1.hook_resid_mid",
                "blocks.2.hook_resid_post");
        assertThat(manifest.at("/progress/rows_stored").asLong()).isEqualTo(expectedRows);
        assertThat(manifest.at("/settings/model/sha256").asText()).isEqualTo("abc123");
        assertThat(manifest.at("/datasets/1/rows").asLong()).isEqualTo(expectedRows);
        assertThat(manifest.at("/datasets/1/mean").size()).isEqualTo(FakeLanguageModel.D_MODEL);
        try (ActivationDataset d = ActivationDataset.open(ActivationCapture.datasetDirectory(out, POST))) {
            assertThat(d.shards().size()).isGreaterThan(3);
            assertThat(d.statistics().count()).isEqualTo(expectedRows);
            assertThat(d.header().metadata()).containsEntry("max_tokens", "12").containsEntry("sentences", "test-corpus");
        }
    }

    @Test
    void dropsTheFirstTokenAndSpecialTokensWhenAsked() throws IOException {
        List<Sentence> sentences = List.of(new Sentence(0, 0, 0, "a b <eot> c"), new Sentence(1, 0, 1, "d"));
        CaptureOptions o = new CaptureOptions(12, true, true, true, ActivationDType.F32, 1 << 20, 16, 30,
                Long.MAX_VALUE, 1);
        Path out = tmp.resolve("capture");
        FakeLanguageModel model = new FakeLanguageModel();
        ActivationCapture.run(request(model, sentences, o, out), CaptureListener.NONE);
        List<Row> rows = rows(ActivationCapture.datasetDirectory(out, MID));
        // BOS at position 0 is dropped (first token and special); <eot> at position 3 is special.
        assertThat(rows).extracting(Row::sentence).containsExactly(0L, 0L, 0L, 1L);
        assertThat(rows).extracting(Row::position).containsExactly(1, 2, 4, 1);
        assertThat(model.tokensSeen).isEqualTo(5 + 2);
    }

    @Test
    void aCrashedCaptureContinuesWithNoRowTwiceAndNoneMissing() throws IOException {
        List<Sentence> sentences = corpus();
        Path whole = tmp.resolve("whole");
        ActivationCapture.run(request(new FakeLanguageModel(), sentences, options(), whole), CaptureListener.NONE);

        Path out = tmp.resolve("crashed");
        FakeLanguageModel crashing = new FakeLanguageModel();
        crashing.failAfterForwards = 6;
        assertThatThrownBy(() -> ActivationCapture.run(request(crashing, sentences, options(), out), CaptureListener.NONE))
                .hasMessageContaining("simulated crash");
        try (Stream<Path> files = Files.walk(out)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"))
                    .contains("shard-000000.arrow");
        }
        FakeLanguageModel second = new FakeLanguageModel();
        ActivationCapture.Result r = ActivationCapture.run(request(second, sentences, options(), out), CaptureListener.NONE);
        assertThat(r.resumedAfter()).isGreaterThan(0);
        assertThat(second.tokensSeen).isLessThan(crashing.tokensSeen + second.tokensSeen - 1);
        for (HookPoint hook : List.of(MID, POST)) {
            List<Row> a = rows(ActivationCapture.datasetDirectory(whole, hook));
            List<Row> b = rows(ActivationCapture.datasetDirectory(out, hook));
            assertThat(b).hasSameSizeAs(a);
            for (int i = 0; i < a.size(); i++) {
                assertThat(b.get(i).sentence()).isEqualTo(a.get(i).sentence());
                assertThat(b.get(i).position()).isEqualTo(a.get(i).position());
                assertThat(b.get(i).values()).containsExactly(a.get(i).values());
            }
        }
        JsonNode m1 = new ObjectMapper().readTree(whole.resolve("capture.json").toFile());
        JsonNode m2 = new ObjectMapper().readTree(out.resolve("capture.json").toFile());
        assertThat(m2.get("progress")).isEqualTo(m1.get("progress"));
    }

    @Test
    void aShardThatCannotBeWrittenStopsTheCaptureWithCommittedShardsKeptAndARerunFinishesIt() throws IOException {
        List<Sentence> sentences = corpus();
        Path whole = tmp.resolve("whole");
        ActivationCapture.run(request(new FakeLanguageModel(), sentences, options(), whole), CaptureListener.NONE);

        // Like a full disk: the writer cannot create the file of its fourth shard.
        Path out = tmp.resolve("out");
        Path blocker = ActivationCapture.datasetDirectory(out, POST).resolve("shard-000003.arrow.tmp");
        FakeLanguageModel model = new FakeLanguageModel();
        model.sabotageAt = 2;
        model.sabotage = () -> {
            try {
                Files.createDirectories(blocker.resolve("in-the-way"));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        assertThatThrownBy(() -> ActivationCapture.run(request(model, sentences, options(), out), CaptureListener.NONE))
                .hasMessageContaining("writing activation shards failed").hasMessageContaining("run the same capture again");
        try (Stream<Path> files = Files.list(ActivationCapture.datasetDirectory(out, POST))) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".arrow")))
                    .containsExactlyInAnyOrder("shard-000000.arrow", "shard-000001.arrow", "shard-000002.arrow");
        }
        io.github.sae4j.core.io.AtomicFiles.deleteRecursively(blocker);
        ActivationCapture.run(request(new FakeLanguageModel(), sentences, options(), out), CaptureListener.NONE);
        for (HookPoint hook : List.of(MID, POST)) {
            assertThat(rows(ActivationCapture.datasetDirectory(out, hook))).usingRecursiveFieldByFieldElementComparator()
                    .isEqualTo(rows(ActivationCapture.datasetDirectory(whole, hook)));
        }
    }

    @Test
    void refusesAFinishedCaptureOtherSettingsAndForeignDirectories() throws IOException {
        Path out = tmp.resolve("capture");
        ActivationCapture.run(request(new FakeLanguageModel(), corpus(), options(), out), CaptureListener.NONE);
        assertThatThrownBy(() -> ActivationCapture.run(request(new FakeLanguageModel(), corpus(), options(), out),
                CaptureListener.NONE)).hasMessageContaining("finished capture");

        Path partial = tmp.resolve("partial");
        FakeLanguageModel crashing = new FakeLanguageModel();
        crashing.failAfterForwards = 3;
        assertThatThrownBy(() -> ActivationCapture.run(request(crashing, corpus(), options(), partial),
                CaptureListener.NONE)).hasMessageContaining("simulated crash");
        CaptureOptions other = new CaptureOptions(10, false, false, false, ActivationDType.F32, 40L * 12 * 4, 16, 30,
                Long.MAX_VALUE, 2);
        assertThatThrownBy(() -> ActivationCapture.run(request(new FakeLanguageModel(), corpus(), other, partial),
                CaptureListener.NONE)).hasMessageContaining("other settings").hasMessageContaining("max_tokens");

        Path foreign = tmp.resolve("foreign");
        Files.createDirectories(foreign);
        Files.writeString(foreign.resolve("notes.txt"), "mine");
        assertThatThrownBy(() -> ActivationCapture.run(request(new FakeLanguageModel(), corpus(), options(), foreign),
                CaptureListener.NONE)).hasMessageContaining("not empty");

        assertThatThrownBy(() -> new ActivationCapture.Request(new FakeLanguageModel(), "p", new ModelFingerprint(
                List.of(), "x"), source(corpus()), "c", List.of(HookPoint.parse("blocks.3.hook_resid_post")), options(),
                tmp.resolve("x"))).hasMessageContaining("blocks 0..2");
    }

    @Test
    void sentenceIdsMustIncrease() {
        List<Sentence> bad = List.of(new Sentence(5, 0, 0, "a b"), new Sentence(4, 0, 1, "c"));
        assertThatThrownBy(() -> ActivationCapture.run(request(new FakeLanguageModel(), bad, options(),
                tmp.resolve("c")), CaptureListener.NONE)).hasMessageContaining("gives id 4 after 5");
    }
}
