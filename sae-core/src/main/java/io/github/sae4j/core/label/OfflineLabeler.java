package io.github.sae4j.core.label;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import io.github.sae4j.api.label.ActivatingExample;
import io.github.sae4j.api.label.Labeler;
import io.github.sae4j.api.label.LabelingListener;
import io.github.sae4j.api.label.LatentExamples;
import io.github.sae4j.api.label.LatentLabel;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Labels a latent by what is distinctive about the tokens where it fires, with no model and no network.
 *
 * <p>In each example the <em>activating tokens</em> are those at or above {@code threshold} times the example's peak.
 * Candidates are their normalized text (trimmed, lower case; punctuation kept) and the bigram with the token before.
 * A candidate scores {@code share x idf x precision}: share is the mean over examples of its best relative
 * activation; idf is {@code 1 + ln((latents + 1) / (1 + latents firing on it))} against all latents of the call;
 * precision is the fraction of its occurrences in the latent's sentences that activate (so a latent firing on "the"
 * only after "of" is labeled by the bigram). A latent active on at least {@code broad} of its sentences' tokens
 * (activation-weighted mean) is labeled by the sentences' distinctive content words instead.
 *
 * <p>Labels depend on the other latents of the call (the background), and are recorded in
 * {@value #STATE_FILE}; a rerun with the same settings returns the recorded label of every latent already there.
 */
public final class OfflineLabeler implements Labeler {

    public static final String STATE_FILE = "offline-labels.jsonl";
    public static final double DEFAULT_THRESHOLD = 0.5;
    public static final double DEFAULT_BROAD = 0.6;
    public static final String NO_EXAMPLES = "no activating examples";

    private static final int AUDITED_CANDIDATES = 5;
    private static final int LABEL_WORDS = 5;
    private static final int LABEL_VARIANTS = 3;
    private static final int PROGRESS_EVERY = 4096;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> STOP_WORDS = Set.of("the", "and", "for", "with", "from", "are", "was", "were",
            "been", "being", "its", "this", "that", "these", "those", "but", "not", "she", "they", "you", "his",
            "her", "hers", "him", "their", "them", "our", "your", "has", "have", "had", "does", "did", "will", "would",
            "can", "could", "should", "may", "might", "must", "than", "then", "there", "here", "which", "who", "whom",
            "what", "when", "where", "why", "how", "all", "any", "some", "more", "most", "also", "into", "about",
            "over", "after", "before", "just", "out", "one", "such", "only", "other", "very", "each", "both",
            "because", "while", "said", "say", "says", "it's", "i'm", "don't", "we're", "they're", "too", "own");

    private final double threshold;
    private final double broad;

    /**
     * @param threshold an activating token reaches this fraction of its example's peak, in (0, 1]
     * @param broad     a latent active on this fraction of its sentences' tokens is labeled by whole sentences
     */
    public OfflineLabeler(double threshold, double broad) {
        if (!(threshold > 0 && threshold <= 1)) {
            throw new IllegalArgumentException("threshold " + threshold + " is not in (0, 1]; use for example "
                    + DEFAULT_THRESHOLD);
        }
        if (!(broad > 0 && broad <= 1)) {
            throw new IllegalArgumentException("broad " + broad + " is not in (0, 1]; use for example "
                    + DEFAULT_BROAD);
        }
        this.threshold = threshold;
        this.broad = broad;
    }

    public double threshold() {
        return threshold;
    }

    public double broad() {
        return broad;
    }

    /** Recorded with every label: a label made with other settings is recomputed, not reused. */
    private String settings() {
        return "threshold=" + threshold + " broad=" + broad;
    }

    @Override
    public List<LatentLabel> label(List<LatentExamples> latents, Path stateDirectory, LabelingListener listener)
            throws IOException, InterruptedException {
        Files.createDirectories(stateDirectory);
        Path state = stateDirectory.resolve(STATE_FILE);
        Map<Integer, LatentLabel> recorded = new HashMap<>();
        boolean tornTail = readState(state, recorded);

        int total = latents.size();
        LatentLabel[] labels = new LatentLabel[total];
        int finished = 0;
        for (int i = 0; i < total; i++) {
            labels[i] = recorded.get(latents.get(i).latent());
            if (labels[i] != null) {
                finished++;
            }
        }
        int reported = -1;
        if (finished > 0) {
            listener.onLabels(finished, total);
            reported = finished;
        }
        if (finished < total) {
            Scorer scorer = new Scorer(Background.of(latents, threshold), broad);
            try (BufferedWriter out = Files.newBufferedWriter(state, StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
                if (tornTail) {
                    out.write('\n'); // a crash cut the last line; start the next record on its own line
                }
                for (int i = 0; i < total; i++) {
                    if (labels[i] != null) {
                        continue;
                    }
                    if (Thread.interrupted()) {
                        throw new InterruptedException("offline labeling interrupted after " + finished + " of "
                                + total + " latents; the finished ones are recorded in " + state);
                    }
                    labels[i] = scorer.label(latents.get(i));
                    out.write(record(labels[i]));
                    out.write('\n');
                    if (++finished % PROGRESS_EVERY == 0) {
                        out.flush();
                        listener.onLabels(finished, total);
                        reported = finished;
                    }
                }
            }
        }
        if (reported != total) {
            listener.onLabels(total, total);
        }
        return List.of(labels);
    }

    /** The method's version, kept with each label: distinctive unigrams and bigrams, whole-sentence words. */
    @Override
    public String promptVersion() {
        return "offline-v1";
    }

    @Override
    public void close() {
        // Nothing held between calls.
    }

    // ---------------------------------------------------------------- state file

    /** Reads the recorded labels made with these settings; returns whether the file ends in a torn line. */
    private boolean readState(Path file, Map<Integer, LatentLabel> into) throws IOException {
        if (!Files.exists(file)) {
            return false;
        }
        String text = Files.readString(file, StandardCharsets.UTF_8);
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode node;
            try {
                node = JSON.readTree(line);
            } catch (JsonProcessingException torn) {
                continue; // a line cut by a crash: that latent is labeled again
            }
            if (node == null || !node.has("latent") || !settings().equals(node.path("settings").asText())) {
                continue;
            }
            int latent = node.get("latent").asInt();
            JsonNode raw = node.path("raw");
            into.put(latent, new LatentLabel(latent, textOrNull(node.path("label")), node.path("confidence").asDouble(),
                    raw.isMissingNode() || raw.isNull() ? null : raw.isTextual() ? raw.asText() : raw.toString(),
                    textOrNull(node.path("error"))));
        }
        return !text.isEmpty() && !text.endsWith("\n");
    }

    private static String textOrNull(JsonNode node) {
        return node.isMissingNode() || node.isNull() ? null : node.asText();
    }

    private String record(LatentLabel label) throws JsonProcessingException {
        ObjectNode node = JSON.createObjectNode();
        node.put("latent", label.latent());
        node.put("label", label.label());
        node.put("confidence", label.confidence());
        node.putRawValue("raw", new RawValue(label.rawResponse()));
        node.put("error", label.error());
        node.put("settings", settings());
        return JSON.writeValueAsString(node);
    }

    // ---------------------------------------------------------------- text

    static String normalize(String token) {
        String stripped = token.strip();
        // A whitespace token ("\n") keeps its text: a latent firing on line breaks is a finding too.
        return stripped.isEmpty() ? token : stripped.toLowerCase(Locale.ROOT);
    }

    private static boolean hasLetterOrDigit(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isLetterOrDigit(s.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    private static boolean isContentWord(String normalized) {
        if (normalized.length() < 3 || STOP_WORDS.contains(normalized)) {
            return false;
        }
        boolean letter = false;
        for (int i = 0; i < normalized.length(); i++) {
            char c = normalized.charAt(i);
            if (Character.isLetter(c)) {
                letter = true;
            } else if (!Character.isDigit(c) && c != '-' && c != '\'') {
                return false;
            }
        }
        return letter;
    }

    /** "whales" and "whale", "taxes" and "tax": one word in the label, not two. */
    private static boolean isInflection(String a, String b) {
        String shorter = a.length() <= b.length() ? a : b;
        String longer = shorter == a ? b : a;
        return shorter.length() >= 3 && longer.length() - shorter.length() <= 2 && longer.startsWith(shorter)
                && hasLetterOrDigit(shorter);
    }

    private static String quote(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n").replace("\r", "\\r")
                .replace("\t", "\\t") + '"';
    }

    private static double round(double x) {
        return Math.round(x * 1e4) / 1e4;
    }

    private static float peak(float[] activations) {
        float peak = 0;
        for (float a : activations) {
            if (a > peak) {
                peak = a;
            }
        }
        return peak;
    }

    private static float cut(double threshold, float peak) {
        return (float) (threshold * peak);
    }

    private static long bigram(int previous, int token) {
        // Times an odd constant (a bijection, so keys stay distinct): Long.hashCode of the plain pair would be
        // previous ^ token, and the maps would collide into tree bins.
        return (((long) previous << 32) | (token & 0xffffffffL)) * 0x9E3779B97F4A7C15L;
    }

    private static double idf(int latents, int firing) {
        // The 1 + keeps a candidate that every latent shares from scoring zero (and a one-latent call labelable).
        return 1 + Math.log((latents + 1.0) / (1.0 + firing));
    }

    // ---------------------------------------------------------------- background (first pass)

    /** Raw token text to normalized ids; a tokenizer's strings repeat, so this is one hash lookup per token. */
    private static final class Vocabulary {
        private final Map<String, Integer> byRaw = new HashMap<>();
        private final Map<String, Integer> byText = new HashMap<>();
        private final List<String> texts = new ArrayList<>();

        int id(String raw) {
            Integer id = byRaw.get(raw);
            if (id != null) {
                return id;
            }
            String text = normalize(raw);
            id = byText.get(text);
            if (id == null) {
                id = texts.size();
                texts.add(text);
                byText.put(text, id);
            }
            byRaw.put(raw, id);
            return id;
        }

        String text(int id) {
            return texts.get(id);
        }

        int size() {
            return texts.size();
        }
    }

    /**
     * Latents per bigram in open addressing: a call over 65,536 latents meets millions of bigrams, which as boxed
     * map entries would cost ~80 bytes each.
     */
    private static final class BigramCounts {
        // Slot i holds its key at 2i and (count << 32 | last latent) at 2i + 1: one cache line per probe.
        private long[] table = new long[2 << 12];
        private int shift = 64 - 12;
        private int size;

        /** Counts {@code key} once per latent ({@code latent} > 0). */
        void countOnce(long key, int latent) {
            int at = 2 * slot(key);
            long entry = table[at + 1];
            if (entry == 0) {
                table[at] = key;
                table[at + 1] = (1L << 32) | latent;
                if (++size * 4 > table.length) {
                    grow();
                }
            } else if ((int) entry != latent) {
                table[at + 1] = (((entry >>> 32) + 1) << 32) | latent;
            }
        }

        int get(long key) {
            return (int) (table[2 * slot(key) + 1] >>> 32);
        }

        private int slot(long key) {
            // Keys are already multiplied by the golden ratio: their top bits are the Fibonacci hash.
            int mask = table.length / 2 - 1;
            int slot = (int) (key >>> shift);
            while (table[2 * slot + 1] != 0 && table[2 * slot] != key) {
                slot = (slot + 1) & mask;
            }
            return slot;
        }

        private void grow() {
            long[] old = table;
            table = new long[old.length * 2];
            shift--;
            for (int i = 0; i < old.length; i += 2) {
                if (old[i + 1] != 0) {
                    int at = 2 * slot(old[i]);
                    table[at] = old[i];
                    table[at + 1] = old[i + 1];
                }
            }
        }
    }

    /** What the latents of one call share: the vocabulary, and per candidate how many latents it occurs in. */
    private static final class Background {
        final Vocabulary vocabulary = new Vocabulary();
        final double threshold;
        int[] tokenLatents = new int[1024]; // latents firing on the token
        int[] wordLatents = new int[1024]; // latents whose sentences contain the token
        final BigramCounts bigramLatents = new BigramCounts();
        int latents; // latents with an activating example

        private Background(double threshold) {
            this.threshold = threshold;
        }

        static Background of(List<LatentExamples> all, double threshold) {
            Background b = new Background(threshold);
            int[] tokenSeen = new int[1024];
            int[] wordSeen = new int[1024];
            int stamp = 0;
            for (LatentExamples latent : all) {
                stamp++;
                boolean live = false;
                for (ActivatingExample example : latent.examples()) {
                    float[] a = example.activations();
                    float peak = peak(a);
                    if (!(peak > 0)) {
                        continue;
                    }
                    live = true;
                    float cut = cut(threshold, peak);
                    List<String> tokens = example.tokens();
                    int previous = -1;
                    for (int i = 0; i < a.length; i++) {
                        int id = b.vocabulary.id(tokens.get(i));
                        if (id >= wordSeen.length) {
                            int n = Math.max(id + 1, wordSeen.length * 2);
                            wordSeen = Arrays.copyOf(wordSeen, n);
                            tokenSeen = Arrays.copyOf(tokenSeen, n);
                            b.wordLatents = Arrays.copyOf(b.wordLatents, n);
                            b.tokenLatents = Arrays.copyOf(b.tokenLatents, n);
                        }
                        if (wordSeen[id] != stamp) {
                            wordSeen[id] = stamp;
                            b.wordLatents[id]++;
                        }
                        if (a[i] >= cut) {
                            if (tokenSeen[id] != stamp) {
                                tokenSeen[id] = stamp;
                                b.tokenLatents[id]++;
                            }
                            if (previous >= 0) {
                                b.bigramLatents.countOnce(bigram(previous, id), stamp);
                            }
                        }
                        previous = id;
                    }
                }
                if (live) {
                    b.latents++;
                }
            }
            return b;
        }
    }

    // ---------------------------------------------------------------- one latent (second pass)

    /** A unigram ({@code previous < 0}) or bigram found at an activating token of one latent. */
    private static final class Candidate {
        final int previous;
        final int token;
        final String text;
        double share; // sum over examples of the best relative activation, then divided by the examples
        double exampleBest;
        int lastExample = -1;
        int activating;
        int occurrences;
        int latents;
        double score;

        Candidate(int previous, int token, String text) {
            this.previous = previous;
            this.token = token;
            this.text = text;
        }

        boolean isBigram() {
            return previous >= 0;
        }

        void fire(int example, double weight) {
            activating++;
            if (lastExample != example) {
                lastExample = example;
                exampleBest = weight;
                share += weight;
            } else if (weight > exampleBest) {
                share += weight - exampleBest;
                exampleBest = weight;
            }
        }

        double precision() {
            return occurrences == 0 ? 0 : (double) activating / occurrences;
        }
    }

    private static final Comparator<Candidate> BEST_FIRST = Comparator.comparingDouble((Candidate c) -> -c.score)
            .thenComparing(Candidate::isBigram).thenComparing(c -> c.text);

    private record Word(String text, double score) {
    }

    /** Labels latents one at a time, reusing its arrays: no allocation per token. */
    private static final class Scorer {
        private final Background background;
        private final double broad;
        private final Vocabulary vocabulary;
        private final Candidate[] unigrams;
        private final int[] unigramStamp;
        private final int[] wordCount;
        private final int[] wordStamp;
        private final int[] wordExample;
        private final Map<Long, Candidate> bigrams = new HashMap<>();
        private final List<Candidate> candidates = new ArrayList<>();
        private final List<ActivatingExample> live = new ArrayList<>();
        private float[] peaks = new float[64];
        private int[] offsets = new int[65];
        private int[] ids = new int[4096];
        private int latentStamp;
        private int exampleStamp;

        Scorer(Background background, double broad) {
            this.background = background;
            this.broad = broad;
            this.vocabulary = background.vocabulary;
            int v = vocabulary.size();
            unigrams = new Candidate[v];
            unigramStamp = new int[v];
            wordCount = new int[v];
            wordStamp = new int[v];
            wordExample = new int[v];
        }

        LatentLabel label(LatentExamples latent) throws JsonProcessingException {
            latentStamp++;
            collect(latent);
            int examples = live.size();
            if (examples == 0) {
                ObjectNode raw = JSON.createObjectNode();
                raw.put("examples", 0);
                return new LatentLabel(latent.latent(), null, 0, JSON.writeValueAsString(raw), NO_EXAMPLES);
            }
            findCandidates();
            countOccurrences();
            int latents = background.latents;
            for (Candidate c : candidates) {
                c.share /= examples;
                c.latents = c.isBigram() ? background.bigramLatents.get(bigram(c.previous, c.token))
                        : background.tokenLatents[c.token];
                c.score = c.share * idf(latents, c.latents) * c.precision();
            }
            candidates.sort(BEST_FIRST);
            double breadth = breadth();

            ObjectNode raw = JSON.createObjectNode();
            raw.put("examples", examples);
            raw.put("breadth", round(breadth));
            ArrayNode audited = raw.putArray("candidates");
            for (Candidate c : candidates.subList(0, Math.min(AUDITED_CANDIDATES, candidates.size()))) {
                audited.addObject().put("text", c.text).put("ngram", c.isBigram() ? 2 : 1)
                        .put("score", round(c.score)).put("share", round(c.share))
                        .put("precision", round(c.precision())).put("latents", c.latents);
            }

            String label;
            double confidence;
            if (breadth >= broad) {
                List<Word> words = contentWords();
                ArrayNode audit = raw.putArray("words");
                words.forEach(w -> audit.addObject().put("text", w.text()).put("score", round(w.score())));
                raw.put("kind", "sentence");
                label = words.isEmpty() ? "whole sentences" : "whole sentences; frequent words: "
                        + String.join(", ", words.stream().map(Word::text).toList());
                confidence = breadth;
            } else if (candidates.getFirst().isBigram()) {
                Candidate top = candidates.getFirst();
                raw.put("kind", "bigram");
                label = "the bigram " + quote(bigramDisplay(top));
                confidence = bigramConfidence(top);
            } else {
                Candidate top = candidates.getFirst();
                Set<Integer> forms = new HashSet<>();
                forms.add(top.token);
                for (Candidate c : candidates) {
                    if (!c.isBigram() && c.token != top.token && isInflection(c.text, top.text)) {
                        forms.add(c.token);
                    }
                }
                List<String> surfaces = surfaces(forms, top.token);
                String kind = top.text.isBlank() ? "whitespace" : hasLetterOrDigit(top.text) ? "token" : "punctuation";
                raw.put("kind", kind);
                if (kind.equals("punctuation")) {
                    label = "punctuation " + quote(top.text);
                } else {
                    label = kind + " " + quote(surfaces.getFirst());
                    if (surfaces.size() > 1) {
                        label += " (also " + String.join(", ",
                                surfaces.subList(1, surfaces.size()).stream().map(OfflineLabeler::quote).toList()) + ")";
                    }
                }
                confidence = unigramConfidence(forms);
            }
            return new LatentLabel(latent.latent(), label, round(confidence), JSON.writeValueAsString(raw), null);
        }

        /** The examples with a positive peak, their peaks, and their tokens' ids in one flat buffer. */
        private void collect(LatentExamples latent) {
            live.clear();
            int size = 0;
            for (ActivatingExample example : latent.examples()) {
                float peak = peak(example.activations());
                if (!(peak > 0)) {
                    continue;
                }
                int e = live.size();
                if (e + 1 >= offsets.length) {
                    offsets = Arrays.copyOf(offsets, offsets.length * 2);
                    peaks = Arrays.copyOf(peaks, peaks.length * 2);
                }
                live.add(example);
                peaks[e] = peak;
                List<String> tokens = example.tokens();
                if (size + tokens.size() > ids.length) {
                    ids = Arrays.copyOf(ids, Math.max(size + tokens.size(), ids.length * 2));
                }
                offsets[e] = size;
                for (String token : tokens) {
                    ids[size++] = vocabulary.id(token);
                }
                offsets[e + 1] = size;
            }
        }

        private void findCandidates() {
            candidates.clear();
            bigrams.clear();
            for (int e = 0; e < live.size(); e++) {
                float[] a = live.get(e).activations();
                float cut = cut(background.threshold, peaks[e]);
                int base = offsets[e];
                for (int i = 0; i < a.length; i++) {
                    if (a[i] < cut) {
                        continue;
                    }
                    double weight = a[i] / peaks[e];
                    int id = ids[base + i];
                    if (unigramStamp[id] != latentStamp) {
                        unigramStamp[id] = latentStamp;
                        unigrams[id] = new Candidate(-1, id, vocabulary.text(id));
                        candidates.add(unigrams[id]);
                    }
                    unigrams[id].fire(e, weight);
                    if (i > 0) {
                        int previous = ids[base + i - 1];
                        Candidate b = bigrams.computeIfAbsent(bigram(previous, id), k -> {
                            Candidate c = new Candidate(previous, id,
                                    vocabulary.text(previous) + " " + vocabulary.text(id));
                            candidates.add(c);
                            return c;
                        });
                        b.fire(e, weight);
                    }
                }
            }
        }

        /** Every occurrence of a candidate in the latent's sentences, activating or not: the precision's divisor. */
        private void countOccurrences() {
            for (int e = 0; e < live.size(); e++) {
                for (int i = offsets[e]; i < offsets[e + 1]; i++) {
                    int id = ids[i];
                    if (unigramStamp[id] != latentStamp) {
                        continue; // neither a unigram candidate nor the end of a bigram one
                    }
                    unigrams[id].occurrences++;
                    if (i > offsets[e]) {
                        Candidate b = bigrams.get(bigram(ids[i - 1], id));
                        if (b != null) {
                            b.occurrences++;
                        }
                    }
                }
            }
        }

        /** The activation-weighted mean fraction of a sentence's tokens where the latent is on. */
        private double breadth() {
            double covered = 0;
            double weight = 0;
            for (int e = 0; e < live.size(); e++) {
                float[] a = live.get(e).activations();
                int on = 0;
                for (float x : a) {
                    if (x > 0) {
                        on++;
                    }
                }
                covered += peaks[e] * ((double) on / a.length);
                weight += peaks[e];
            }
            return covered / weight;
        }

        private List<Word> contentWords() {
            List<Integer> touched = new ArrayList<>();
            for (int e = 0; e < live.size(); e++) {
                exampleStamp++;
                for (int i = offsets[e]; i < offsets[e + 1]; i++) {
                    int id = ids[i];
                    if (wordExample[id] == exampleStamp || !isContentWord(vocabulary.text(id))) {
                        continue;
                    }
                    wordExample[id] = exampleStamp;
                    if (wordStamp[id] != latentStamp) {
                        wordStamp[id] = latentStamp;
                        wordCount[id] = 0;
                        touched.add(id);
                    }
                    wordCount[id]++;
                }
            }
            List<Word> words = new ArrayList<>();
            for (int id : touched) {
                double share = (double) wordCount[id] / live.size();
                words.add(new Word(vocabulary.text(id),
                        share * idf(background.latents, background.wordLatents[id])));
            }
            words.sort(Comparator.comparingDouble((Word w) -> -w.score()).thenComparing(Word::text));
            return words.subList(0, Math.min(LABEL_WORDS, words.size()));
        }

        /** The tokens' display texts, most activation first; the first is a form of {@code primary}. */
        private List<String> surfaces(Set<Integer> forms, int primary) {
            Map<String, Double> weights = new HashMap<>();
            Map<String, Integer> idOf = new HashMap<>();
            for (int e = 0; e < live.size(); e++) {
                float[] a = live.get(e).activations();
                List<String> tokens = live.get(e).tokens();
                float cut = cut(background.threshold, peaks[e]);
                for (int i = 0; i < a.length; i++) {
                    int id = ids[offsets[e] + i];
                    if (a[i] >= cut && forms.contains(id)) {
                        weights.merge(tokens.get(i), (double) a[i] / peaks[e], Double::sum);
                        idOf.put(tokens.get(i), id);
                    }
                }
            }
            List<String> ranked = new ArrayList<>(weights.keySet());
            ranked.sort(Comparator.comparingDouble((String s) -> -weights.get(s)).thenComparing(s -> s));
            String first = ranked.stream().filter(s -> idOf.get(s) == primary).findFirst().orElseThrow();
            List<String> out = new ArrayList<>();
            out.add(first);
            for (String s : ranked) {
                if (!s.equals(first) && out.size() <= LABEL_VARIANTS) {
                    out.add(s);
                }
            }
            return out;
        }

        private String bigramDisplay(Candidate top) {
            Map<String, Double> weights = new HashMap<>();
            for (int e = 0; e < live.size(); e++) {
                float[] a = live.get(e).activations();
                List<String> tokens = live.get(e).tokens();
                float cut = cut(background.threshold, peaks[e]);
                int base = offsets[e];
                for (int i = 1; i < a.length; i++) {
                    if (a[i] >= cut && ids[base + i] == top.token && ids[base + i - 1] == top.previous) {
                        weights.merge((tokens.get(i - 1) + tokens.get(i)).strip(), (double) a[i] / peaks[e],
                                Double::sum);
                    }
                }
            }
            return weights.entrySet().stream()
                    .min(Comparator.comparingDouble((Map.Entry<String, Double> w) -> -w.getValue())
                            .thenComparing(Map.Entry::getKey))
                    .map(Map.Entry::getKey).orElse(top.text);
        }

        /** The activation-weighted share of examples whose peak token is one of {@code forms}. */
        private double unigramConfidence(Set<Integer> forms) {
            double explained = 0;
            double weight = 0;
            for (int e = 0; e < live.size(); e++) {
                if (forms.contains(ids[offsets[e] + peakIndex(e)])) {
                    explained += peaks[e];
                }
                weight += peaks[e];
            }
            return explained / weight;
        }

        /** The activation-weighted share of examples whose peak token ends the bigram. */
        private double bigramConfidence(Candidate top) {
            double explained = 0;
            double weight = 0;
            for (int e = 0; e < live.size(); e++) {
                int i = offsets[e] + peakIndex(e);
                if (i > offsets[e] && ids[i] == top.token && ids[i - 1] == top.previous) {
                    explained += peaks[e];
                }
                weight += peaks[e];
            }
            return explained / weight;
        }

        private int peakIndex(int e) {
            float[] a = live.get(e).activations();
            int best = 0;
            for (int i = 1; i < a.length; i++) {
                if (a[i] > a[best]) {
                    best = i;
                }
            }
            return best;
        }
    }
}
