package io.github.sae4j.openwebtext.sentences;

import io.github.sae4j.api.text.Sentence;
import io.github.sae4j.api.text.SentenceSource;
import io.github.sae4j.openwebtext.parquet.ParquetTable;
import io.github.sae4j.openwebtext.parquet.SentenceParquetWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.OptionalLong;

/**
 * A sentences Parquet read back as a {@link SentenceSource}: rows in file order. Files written by others need only
 * {@code doc_id}, {@code sentence_idx} and {@code text}; without {@code sentence_id} a sentence's id is its row number.
 */
public final class SentenceParquet implements SentenceSource {

    private final Path path;
    private final long rows;
    private final List<AutoCloseable> open = new ArrayList<>();

    private SentenceParquet(Path path, long rows) {
        this.path = path;
        this.rows = rows;
    }

    /** Whether the table has the columns of a sentences file. */
    public static boolean isSentences(ParquetTable table) {
        return table.hasColumn(SentenceParquetWriter.DOC_ID) && table.hasColumn(SentenceParquetWriter.SENTENCE_IDX)
                && table.hasColumn(SentenceParquetWriter.TEXT);
    }

    /** Opens a sentences Parquet, checking its footer and columns now. */
    public static SentenceParquet open(Path path) throws IOException {
        try (ParquetTable t = ParquetTable.open(path)) {
            if (!isSentences(t)) {
                throw new IllegalArgumentException(path + " is not a sentences file: it needs the columns doc_id, "
                        + "sentence_idx and text, and has " + t.columns() + "; write one with 'sae4j sentences'");
            }
            return new SentenceParquet(path, t.rowCount());
        }
    }

    @Override
    public OptionalLong size() {
        return OptionalLong.of(rows);
    }

    @Override
    public Iterator<Sentence> iterator() {
        ParquetTable table;
        ParquetTable.Rows cursor;
        boolean hasId;
        try {
            table = ParquetTable.open(path);
            hasId = table.hasColumn(SentenceParquetWriter.SENTENCE_ID);
            List<String> columns = new ArrayList<>(List.of(SentenceParquetWriter.DOC_ID,
                    SentenceParquetWriter.SENTENCE_IDX, SentenceParquetWriter.TEXT));
            if (hasId) {
                columns.add(SentenceParquetWriter.SENTENCE_ID);
            }
            cursor = table.rows(columns);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        synchronized (open) {
            open.add(cursor);
        }
        return new Iterator<>() {
            private Sentence next;
            private boolean ended;

            @Override
            public boolean hasNext() {
                if (next == null && !ended) {
                    try {
                        if (cursor.next()) {
                            String text = cursor.string(2);
                            if (text == null) {
                                throw new IOException(path + " row " + cursor.row() + ": text is null; a sentences "
                                        + "file has a text for every row");
                            }
                            long id = hasId ? cursor.int64(3) : cursor.row();
                            next = new Sentence(id, cursor.int64(0), cursor.int32(1), text);
                        } else {
                            ended = true;
                            cursor.close();
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
            for (AutoCloseable c : open) {
                try {
                    c.close();
                } catch (IOException e) {
                    throw e;
                } catch (Exception e) {
                    throw new IOException(e);
                }
            }
            open.clear();
        }
    }
}
