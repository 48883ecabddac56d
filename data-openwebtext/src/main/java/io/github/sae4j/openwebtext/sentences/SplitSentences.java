package io.github.sae4j.openwebtext.sentences;

import io.github.sae4j.api.text.Sentence;
import io.github.sae4j.openwebtext.corpus.Document;
import io.github.sae4j.openwebtext.corpus.DocumentReader;
import io.github.sae4j.openwebtext.split.SentenceSplitter;
import io.github.sae4j.openwebtext.split.TextSpan;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The sentences of a corpus in order, split on the fly. Sentence ids run 0, 1, 2, ... over the whole corpus, so the
 * same corpus and splitter always give the same ids. Documents that are null, empty or only whitespace give no
 * sentences and are counted in {@link #skipped()}; their index is still used up, so a document id always points
 * back at its place in the corpus.
 */
public final class SplitSentences implements AutoCloseable {

    /** Skip reason: the corpus holds a null value for the document. */
    public static final String NULL = "null";
    /** Skip reason: the document is empty or only whitespace. */
    public static final String EMPTY = "empty";

    /** A sentence and where it sits in its document (UTF-16 indices, as {@link TextSpan}). */
    public record Located(Sentence sentence, int charStart, int charEnd) {
    }

    private final DocumentReader documents;
    private final SentenceSplitter splitter;
    private final Map<String, Long> skipped = new LinkedHashMap<>();
    private Document document;
    private List<TextSpan> spans = List.of();
    private int next;
    private long nextId;
    private long documentsRead;

    public SplitSentences(DocumentReader documents, SentenceSplitter splitter) {
        this.documents = documents;
        this.splitter = splitter;
    }

    /** The next sentence, or null after the last. */
    public Located next() throws IOException {
        while (next >= spans.size()) {
            document = documents.next();
            if (document == null) {
                spans = List.of();
                next = 0;
                return null;
            }
            documentsRead++;
            next = 0;
            if (document.text() == null) {
                spans = List.of();
                skipped.merge(NULL, 1L, Long::sum);
            } else {
                spans = document.text().isBlank() ? List.of() : splitter.split(document.text());
                if (spans.isEmpty()) {
                    skipped.merge(EMPTY, 1L, Long::sum);
                }
            }
        }
        TextSpan span = spans.get(next);
        Sentence s = new Sentence(nextId++, document.index(), next, span.of(document.text()));
        next++;
        return new Located(s, span.start(), span.end());
    }

    /** Documents read so far, skipped ones included. */
    public long documentsRead() {
        return documentsRead;
    }

    /** Documents skipped so far, by reason ({@value #NULL}, {@value #EMPTY}). */
    public Map<String, Long> skipped() {
        return Map.copyOf(skipped);
    }

    /** Skip counts in the order reasons were first met. */
    Map<String, Long> skippedInOrder() {
        return new LinkedHashMap<>(skipped);
    }

    public DocumentReader documents() {
        return documents;
    }

    @Override
    public void close() throws IOException {
        documents.close();
    }
}
