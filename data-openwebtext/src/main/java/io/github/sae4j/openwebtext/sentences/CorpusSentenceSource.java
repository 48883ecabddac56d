package io.github.sae4j.openwebtext.sentences;

import io.github.sae4j.api.text.Sentence;
import io.github.sae4j.api.text.SentenceSource;
import io.github.sae4j.openwebtext.corpus.Corpus;
import io.github.sae4j.openwebtext.split.SentenceSplitter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/** A raw corpus as a {@link SentenceSource}, split on the fly; each {@link #iterator()} reads it from the start. */
public final class CorpusSentenceSource implements SentenceSource {

    private final Corpus corpus;
    private final SentenceSplitter splitter;
    private final List<SplitSentences> open = new ArrayList<>();

    public CorpusSentenceSource(Corpus corpus, SentenceSplitter splitter) {
        this.corpus = corpus;
        this.splitter = splitter;
    }

    @Override
    public Iterator<Sentence> iterator() {
        SplitSentences split;
        try {
            split = new SplitSentences(corpus.documents(), splitter);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        synchronized (open) {
            open.add(split);
        }
        return new Iterator<>() {
            private Sentence next;
            private boolean ended;

            @Override
            public boolean hasNext() {
                if (next == null && !ended) {
                    try {
                        SplitSentences.Located located = split.next();
                        if (located == null) {
                            ended = true;
                            split.close();
                        } else {
                            next = located.sentence();
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
                return next != null;
            }

            @Override
            public Sentence next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                Sentence s = next;
                next = null;
                return s;
            }
        };
    }

    @Override
    public void close() throws IOException {
        synchronized (open) {
            for (SplitSentences s : open) {
                s.close();
            }
            open.clear();
        }
    }
}
