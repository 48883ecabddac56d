package io.github.sae4j.openwebtext.bench;

import io.github.sae4j.openwebtext.split.GoldSet;
import io.github.sae4j.openwebtext.split.SentenceSplitter;
import io.github.sae4j.openwebtext.split.SentenceSplitters;
import io.github.sae4j.openwebtext.split.SplitEvaluation;
import io.github.sae4j.openwebtext.split.TextSpan;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Every sentence splitter on the gold set in one run: boundary and span precision, recall and F1, then speed in
 * MB/s (UTF-8 bytes) on two inputs: the gold paragraphs as documents of one paragraph each, repeated to about 4 MB,
 * and one generated 10 MB document (gold paragraphs in random order, separated by blank lines and single newlines).
 * The second row of each splitter scores only the held-out paragraphs (ids starting {@code h-}), written after the
 * rules were frozen. A benchmark program, not a test; {@code --errors NAME} also prints the paragraphs that splitter gets wrong.
 *
 * <pre>{@code
 * ./mvnw -q -pl data-openwebtext -am install -DskipTests && ./mvnw -q -o -pl data-openwebtext test-compile
 * ./mvnw -q -o -pl data-openwebtext dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp data-openwebtext/target/test-classes:data-openwebtext/target/classes:$(cat data-openwebtext/target/cp.txt) \
 *   io.github.sae4j.openwebtext.bench.SplitterBenchmark [--errors rules]
 * }</pre>
 */
public final class SplitterBenchmark {

    private static final int REPEAT_BYTES = 4 << 20;
    private static final int LARGE_CHARS = 10 << 20;

    private SplitterBenchmark() {
    }

    public static void main(String[] args) {
        String errorsOf = args.length >= 2 && args[0].equals("--errors") ? args[1] : null;
        List<GoldSet.Paragraph> gold = GoldSet.load();
        List<GoldSet.Paragraph> heldOut = gold.stream().filter(p -> p.id().startsWith(GoldSet.HELD_OUT_PREFIX)).toList();
        List<String> documents = repeatedDocuments(gold);
        String large = generatedDocument(gold, LARGE_CHARS, 42);
        long documentBytes = documents.stream().mapToLong(d -> d.getBytes(StandardCharsets.UTF_8).length).sum();
        long largeBytes = large.getBytes(StandardCharsets.UTF_8).length;

        System.out.printf(Locale.ROOT, "gold set: %d paragraphs, %d sentences, %d boundaries; "
                        + "%d of them held out; speed inputs: %d documents (%.1f MB), one document of %.1f MB%n",
                gold.size(),
                gold.stream().mapToInt(p -> p.sentences().size()).sum(),
                gold.stream().mapToInt(p -> p.sentences().size() - 1).sum(), heldOut.size(), documents.size(),
                documentBytes / 1e6, largeBytes / 1e6);
        System.out.printf(Locale.ROOT, "%-8s | %-26s | %-26s | %-6s | %-12s | %-12s%n", "splitter",
                "boundary P / R / F1", "span P / R / F1", "para", "MB/s gold×N", "MB/s 10 MB");
        for (String name : SentenceSplitters.names()) {
            SentenceSplitter splitter = SentenceSplitters.create(name);
            SplitEvaluation e = SplitEvaluation.of(splitter, gold);
            double docsRate = megabytesPerSecond(documentBytes, () -> documents.forEach(splitter::split));
            double largeRate = megabytesPerSecond(largeBytes, () -> splitter.split(large));
            System.out.printf(Locale.ROOT, "%-8s | %.3f / %.3f / %.3f      | %.3f / %.3f / %.3f      | %.3f  | %12.1f | %12.1f%n",
                    name, e.boundaries().precision(), e.boundaries().recall(), e.boundaries().f1(),
                    e.spans().precision(), e.spans().recall(), e.spans().f1(), e.paragraphAccuracy(),
                    docsRate, largeRate);
            SplitEvaluation h = SplitEvaluation.of(splitter, heldOut);
            System.out.printf(Locale.ROOT, "%-8s | %.3f / %.3f / %.3f      | %.3f / %.3f / %.3f      | %.3f  | held-out only%n",
                    "", h.boundaries().precision(), h.boundaries().recall(), h.boundaries().f1(),
                    h.spans().precision(), h.spans().recall(), h.spans().f1(), h.paragraphAccuracy());
            if (name.equals(errorsOf)) {
                printErrors(splitter, gold);
            }
        }
    }

    /** Each gold paragraph as its own document, the list repeated until it holds about 4 MB. */
    static List<String> repeatedDocuments(List<GoldSet.Paragraph> gold) {
        List<String> documents = new ArrayList<>();
        long bytes = 0;
        while (bytes < REPEAT_BYTES) {
            for (GoldSet.Paragraph paragraph : gold) {
                documents.add(paragraph.text());
                bytes += paragraph.text().getBytes(StandardCharsets.UTF_8).length;
            }
        }
        return documents;
    }

    /** Gold paragraphs in random order, mostly separated by blank lines, some by single newlines, to {@code chars}. */
    public static String generatedDocument(List<GoldSet.Paragraph> gold, int chars, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        StringBuilder out = new StringBuilder(chars + 4096);
        while (out.length() < chars) {
            out.append(gold.get(random.nextInt(gold.size())).text());
            out.append(random.nextInt(4) == 0 ? "\n" : "\n\n");
        }
        return out.toString();
    }

    /** Median MB/s of five timed runs after two warm-up runs. */
    private static double megabytesPerSecond(long bytes, Runnable run) {
        run.run();
        run.run();
        double[] rates = new double[5];
        for (int k = 0; k < rates.length; k++) {
            long t0 = System.nanoTime();
            run.run();
            rates[k] = bytes / 1e6 / ((System.nanoTime() - t0) / 1e9);
        }
        Arrays.sort(rates);
        return rates[rates.length / 2];
    }

    private static void printErrors(SentenceSplitter splitter, List<GoldSet.Paragraph> gold) {
        for (GoldSet.Paragraph paragraph : gold) {
            List<TextSpan> expected = paragraph.spans();
            List<TextSpan> actual = splitter.split(paragraph.text());
            if (!actual.equals(expected)) {
                System.out.println("--- " + paragraph.id());
                expected.forEach(s -> System.out.println("  gold | " + s.of(paragraph.text()).replace("\n", "⏎")));
                actual.forEach(s -> System.out.println("  got  | " + s.of(paragraph.text()).replace("\n", "⏎")));
            }
        }
    }
}
