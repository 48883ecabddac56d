package io.github.sae4j.core.label;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.sae4j.api.label.ActivatingExample;
import io.github.sae4j.api.label.Labeler;
import io.github.sae4j.api.label.LabelerProvider;
import io.github.sae4j.api.label.LabelingListener;
import io.github.sae4j.api.label.LatentExamples;
import io.github.sae4j.api.label.LatentLabel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OfflineLabelerTest {

    static final int WHALE = 3;
    static final int COMMA = 5;
    static final int OF_THE = 8;
    static final int TAXES = 13;
    static final int DEAD = 21;

    @TempDir
    Path state;

    /**
     * A sentence in GPT-2 style tokens: words after the first get a leading space, punctuation none. A word marked
     * {@code *} is where the latent fires (activation 2); the rest are off.
     */
    static ActivatingExample sentence(long id, String words) {
        List<String> tokens = new ArrayList<>();
        List<Float> activations = new ArrayList<>();
        for (String w : words.split(" ")) {
            boolean fires = w.endsWith("*") && w.length() > 1;
            String text = fires ? w.substring(0, w.length() - 1) : w;
            boolean punctuation = !Character.isLetterOrDigit(text.charAt(0));
            tokens.add(tokens.isEmpty() || punctuation ? text : " " + text);
            activations.add(fires ? 2f : 0f);
        }
        return example(id, tokens, activations);
    }

    /** A sentence where the latent is on at every token, at varying strength. */
    static ActivatingExample wholeSentence(long id, String words) {
        ActivatingExample plain = sentence(id, words);
        List<Float> activations = new ArrayList<>();
        for (int i = 0; i < plain.tokens().size(); i++) {
            activations.add(1f + (i % 3) * 0.4f);
        }
        return example(id, plain.tokens(), activations);
    }

    static ActivatingExample example(long id, List<String> tokens, List<Float> activations) {
        float[] a = new float[activations.size()];
        float max = 0;
        for (int i = 0; i < a.length; i++) {
            a[i] = activations.get(i);
            max = Math.max(max, a[i]);
        }
        return new ActivatingExample(id, tokens, a, max);
    }

    /** Latents whose meaning is known, labeled together so each is the others' background. */
    static List<LatentExamples> knownLatents() {
        return List.of(
                new LatentExamples(WHALE, List.of(
                        sentence(1, "The whale* surfaced near the boat ."),
                        sentence(2, "A blue whale* sang for hours ."),
                        sentence(3, "Whales* migrate south in winter ."),
                        sentence(4, "They watched the Whale* from the shore ."))),
                new LatentExamples(COMMA, List.of(
                        sentence(5, "Yes ,* I know ,* really ."),
                        sentence(6, "First ,* we eat the soup ."),
                        sentence(7, "Apples ,* pears and plums grow here ."))),
                new LatentExamples(OF_THE, List.of(
                        sentence(8, "The end of the* road was near the river ."),
                        sentence(9, "Most of the* time the dog slept ."),
                        sentence(10, "One of the* best in the world ."),
                        sentence(11, "The rest of the* team saw the game ."))),
                new LatentExamples(TAXES, List.of(
                        wholeSentence(12, "Congress passed the tax bill ."),
                        wholeSentence(13, "The tax revenue fell sharply ."),
                        wholeSentence(14, "Congress debated revenue and tax policy ."))),
                new LatentExamples(DEAD, List.of()));
    }

    static Labeler offline(Map<String, String> options) {
        return new OfflineLabelerProvider().open(options);
    }

    LatentLabel labelOf(int latent) throws Exception {
        try (Labeler labeler = offline(Map.of())) {
            return labeler.label(knownLatents(), state, LabelingListener.NONE).stream()
                    .filter(l -> l.latent() == latent).findFirst().orElseThrow();
        }
    }

    @Test
    void aLatentFiringOnAWordIsNamedByThatWordAndItsForms() throws Exception {
        LatentLabel whale = labelOf(WHALE);

        assertThat(whale.succeeded()).isTrue();
        assertThat(whale.label()).startsWith("token \" whale\"").contains("\" Whale\"", "\"Whales\"");
        assertThat(whale.confidence()).as("every example peaks on a form of whale").isEqualTo(1.0);
    }

    @Test
    void aLatentFiringOnCommasIsLabeledPunctuation() throws Exception {
        LatentLabel comma = labelOf(COMMA);

        assertThat(comma.label()).isEqualTo("punctuation \",\"");
        assertThat(comma.confidence()).isEqualTo(1.0);
    }

    @Test
    void aLatentFiringOnTheOnlyAfterOfIsLabeledByTheBigram() throws Exception {
        LatentLabel ofThe = labelOf(OF_THE);

        assertThat(ofThe.label()).as("'the' alone also occurs where the latent is off").isEqualTo("the bigram \"of the\"");
        assertThat(ofThe.confidence()).isEqualTo(1.0);
    }

    @Test
    void aLatentOnWholeSentencesIsLabeledByTheirContentWords() throws Exception {
        LatentLabel taxes = labelOf(TAXES);

        assertThat(taxes.label()).startsWith("whole sentences; frequent words: tax, congress, revenue")
                .doesNotContain(" the");
        assertThat(taxes.confidence()).isEqualTo(1.0);
    }

    @Test
    void aDeadLatentGetsAnErrorNotALabel() throws Exception {
        LatentLabel dead = labelOf(DEAD);

        assertThat(dead.succeeded()).isFalse();
        assertThat(dead.error()).isEqualTo(OfflineLabeler.NO_EXAMPLES);
        assertThat(dead.label()).isNull();
    }

    @Test
    void examplesWithoutAnyActivationCountAsNone() throws Exception {
        ActivatingExample silent = example(1, List.of("Hello", " world"), List.of(0f, 0f));
        try (Labeler labeler = offline(Map.of())) {
            List<LatentLabel> labels = labeler.label(List.of(new LatentExamples(0, List.of(silent))), state,
                    LabelingListener.NONE);

            assertThat(labels.getFirst().error()).isEqualTo(OfflineLabeler.NO_EXAMPLES);
        }
    }

    @Test
    void theRawResponseListsTheScoredCandidatesForAudit() throws Exception {
        JsonNode raw = new ObjectMapper().readTree(labelOf(OF_THE).rawResponse());

        assertThat(raw.path("kind").asText()).isEqualTo("bigram");
        assertThat(raw.path("examples").asInt()).isEqualTo(4);
        JsonNode first = raw.path("candidates").get(0);
        assertThat(first.path("text").asText()).isEqualTo("of the");
        assertThat(first.path("ngram").asInt()).isEqualTo(2);
        assertThat(first.path("precision").asDouble()).isEqualTo(1.0);
        assertThat(raw.path("candidates").get(1).path("score").asDouble())
                .as("candidates best first").isLessThan(first.path("score").asDouble());
    }

    @Test
    void theSameInputGivesTheSameLabels(@TempDir Path other) throws Exception {
        try (Labeler a = offline(Map.of()); Labeler b = offline(Map.of())) {
            assertThat(b.label(knownLatents(), other, LabelingListener.NONE))
                    .isEqualTo(a.label(knownLatents(), state, LabelingListener.NONE));
        }
    }

    @Test
    void aRerunReturnsTheRecordedLabelsAndReportsAllFinished() throws Exception {
        List<LatentLabel> first;
        try (Labeler labeler = offline(Map.of())) {
            first = labeler.label(knownLatents(), state, LabelingListener.NONE);
        }
        assertThat(Files.readAllLines(state.resolve(OfflineLabeler.STATE_FILE))).hasSize(knownLatents().size());

        // Different examples for the whale latent: a rerun must return what was recorded, not relabel.
        List<LatentExamples> changed = new ArrayList<>(knownLatents());
        changed.set(0, new LatentExamples(WHALE, List.of(sentence(99, "A shark* swam ."))));
        AtomicInteger finished = new AtomicInteger();
        AtomicInteger total = new AtomicInteger();
        List<LatentLabel> second;
        try (Labeler labeler = offline(Map.of())) {
            second = labeler.label(changed, state, (f, t) -> {
                finished.set(f);
                total.set(t);
            });
        }

        assertThat(second).isEqualTo(first);
        assertThat(finished.get()).isEqualTo(total.get()).isEqualTo(knownLatents().size());
        assertThat(Files.readAllLines(state.resolve(OfflineLabeler.STATE_FILE)))
                .as("nothing new to record").hasSize(knownLatents().size());
    }

    @Test
    void otherSettingsRelabelAndATornLastLineIsLabeledAgain() throws Exception {
        Path file = state.resolve(OfflineLabeler.STATE_FILE);
        try (Labeler labeler = offline(Map.of())) {
            labeler.label(knownLatents(), state, LabelingListener.NONE);
        }
        String text = Files.readString(file);
        Files.writeString(file, text.substring(0, text.length() - 20)); // a crash in the middle of the last record

        List<LatentLabel> again;
        try (Labeler labeler = offline(Map.of())) {
            again = labeler.label(knownLatents(), state, LabelingListener.NONE);
        }
        assertThat(again.getLast().error()).isEqualTo(OfflineLabeler.NO_EXAMPLES);
        try (Labeler strict = offline(Map.of("threshold", "0.9"))) {
            strict.label(knownLatents(), state, LabelingListener.NONE);
        }
        assertThat(Files.readAllLines(file)).as("4 whole records and the torn one, its redo, 5 with threshold 0.9")
                .hasSize(11);
    }

    @Test
    void anUnknownOptionIsAnErrorListingTheValidOnes() {
        assertThatThrownBy(() -> offline(Map.of("treshold", "0.4")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown option 'treshold'")
                .hasMessageContaining("valid options: threshold, broad");
    }

    @Test
    void aThresholdOutsideZeroToOneIsAnErrorWithAnExample() {
        assertThatThrownBy(() -> offline(Map.of("threshold", "50%")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("threshold=50%").hasMessageContaining("use for example threshold=0.5");
        assertThatThrownBy(() -> offline(Map.of("broad", "1.5")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("broad=1.5");
    }

    @Test
    void theProviderIsFoundByNameThroughTheServiceLoader() {
        assertThat(ServiceLoader.load(LabelerProvider.class).stream().map(ServiceLoader.Provider::get)
                .map(LabelerProvider::name)).contains("offline");
    }

    @Test
    void manyLatentsAreLabeledQuickly() throws IOException, InterruptedException {
        // 2,048 latents x 50 examples x 24 tokens from a 5,000-token vocabulary, each latent preferring a few tokens
        // (65,536 such latents take ~15 s on two busy cores).
        SplittableRandom random = new SplittableRandom(7);
        String[] vocabulary = new String[5000];
        for (int i = 0; i < vocabulary.length; i++) {
            vocabulary[i] = " w" + i;
        }
        List<LatentExamples> latents = new ArrayList<>();
        for (int l = 0; l < 2048; l++) {
            List<ActivatingExample> examples = new ArrayList<>();
            for (int e = 0; e < 50; e++) {
                List<String> tokens = new ArrayList<>();
                float[] a = new float[24];
                for (int i = 0; i < 24; i++) {
                    boolean preferred = random.nextInt(6) == 0;
                    tokens.add(vocabulary[preferred ? (l * 7 + random.nextInt(3)) % 5000 : random.nextInt(5000)]);
                    a[i] = preferred ? 1 + random.nextFloat() : 0;
                }
                examples.add(new ActivatingExample(e, tokens, a, 1));
            }
            latents.add(new LatentExamples(l, examples));
        }

        long start = System.nanoTime();
        List<LatentLabel> labels;
        try (Labeler labeler = offline(Map.of())) {
            labels = labeler.label(latents, state, LabelingListener.NONE);
        }
        double seconds = (System.nanoTime() - start) / 1e9;

        assertThat(labels).hasSize(2048).allMatch(LatentLabel::succeeded);
        assertThat(labels.get(100).label()).as("latent 100 prefers w700..w702").containsPattern("w70[012]");
        assertThat(seconds).as("seconds for 2,048 latents").isLessThan(10);
    }
}
