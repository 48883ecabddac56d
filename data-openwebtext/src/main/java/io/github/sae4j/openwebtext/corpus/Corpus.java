package io.github.sae4j.openwebtext.corpus;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A text corpus on disk and how to read its documents in order.
 *
 * <ul>
 *   <li>{@code .parquet}: one document per row of a string column (default {@code text}, as Hugging Face's
 *       OpenWebText);</li>
 *   <li>{@code .jsonl}: one document per line, a JSON object whose field (default {@code text}) holds the text;</li>
 *   <li>{@code .txt}: a single file holds documents separated by blank lines; in a directory, each file is one
 *       document;</li>
 *   <li>a directory: its {@code .parquet}, {@code .jsonl} or {@code .txt} files (one kind only; other files such as
 *       a README are ignored), in file-name order; subdirectories are not read.</li>
 * </ul>
 *
 * @param path   the file or directory
 * @param kind   what its files are
 * @param files  the files, in reading order
 * @param column the Parquet column or JSON field that holds the text; null for plain text
 */
public record Corpus(Path path, Kind kind, List<Path> files, String column) {

    /** The column or field read unless {@code column=NAME} says otherwise. */
    public static final String DEFAULT_COLUMN = "text";

    public enum Kind {
        PARQUET(".parquet"), JSONL(".jsonl"), TEXT(".txt");

        private final String extension;

        Kind(String extension) {
            this.extension = extension;
        }

        public String extension() {
            return extension;
        }

        static Kind of(Path file) {
            String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
            for (Kind k : values()) {
                if (name.endsWith(k.extension)) {
                    return k;
                }
            }
            return null;
        }
    }

    public Corpus {
        files = List.copyOf(files);
    }

    /** Whether {@code path} looks like a corpus this module reads (by extension; contents are not checked). */
    public static boolean recognizes(Path path) {
        if (Files.isDirectory(path)) {
            try {
                return !filesByKind(path).isEmpty();
            } catch (IOException e) {
                return false;
            }
        }
        return Files.isRegularFile(path) && Kind.of(path) != null;
    }

    /**
     * Finds the corpus at {@code path}.
     *
     * @param column the Parquet column or JSON field with the text, or null for {@value #DEFAULT_COLUMN}
     * @throws IOException if there is nothing readable there, with what was expected
     */
    public static Corpus at(Path path, String column) throws IOException {
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null,
                    "no corpus there; give a .parquet, .jsonl or .txt file or a directory of them");
        }
        Kind kind;
        List<Path> files;
        if (Files.isDirectory(path)) {
            Map<Kind, List<Path>> byKind = filesByKind(path);
            if (byKind.isEmpty()) {
                throw new IOException(path + " holds no .parquet, .jsonl or .txt files; a corpus directory holds "
                        + "files of one of these kinds");
            }
            if (byKind.size() > 1) {
                throw new IOException(path + " mixes " + byKind.keySet().stream().map(Kind::extension).toList()
                        + " files; a corpus directory holds files of one kind: move the others out");
            }
            kind = byKind.keySet().iterator().next();
            files = byKind.get(kind);
        } else {
            kind = Kind.of(path);
            if (kind == null) {
                throw new IOException(path + " is not a corpus file: expected a name ending in .parquet, .jsonl or "
                        + ".txt (or a directory of such files)");
            }
            files = List.of(path);
        }
        if (kind == Kind.TEXT && column != null) {
            throw new IllegalArgumentException("the option column=" + column + " does not apply to plain text ("
                    + path + "); it names the text column of Parquet or the text field of JSONL corpora");
        }
        return new Corpus(path, kind, files, kind == Kind.TEXT ? null : column == null ? DEFAULT_COLUMN : column);
    }

    /** Opens the documents from the first; each call reads from the start again. */
    public DocumentReader documents() throws IOException {
        return switch (kind) {
            case PARQUET -> new ParquetDocuments(files, column);
            case JSONL -> new JsonlDocuments(files, column);
            case TEXT -> Files.isDirectory(path) ? TextDocuments.files(files) : TextDocuments.paragraphs(path);
        };
    }

    private static Map<Kind, List<Path>> filesByKind(Path dir) throws IOException {
        Map<Kind, List<Path>> byKind = new TreeMap<>();
        try (Stream<Path> list = Files.list(dir)) {
            for (Path f : list.sorted().toList()) {
                Kind k = Kind.of(f);
                if (k != null && Files.isRegularFile(f) && !f.getFileName().toString().startsWith(".")) {
                    byKind.computeIfAbsent(k, x -> new ArrayList<>()).add(f);
                }
            }
        }
        return byKind;
    }
}
